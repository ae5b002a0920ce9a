import type { StoredEvent } from '../log/events';
import type { SummaryTier } from './compactionTypes';

// The offline compactor: extractive, no key, deterministic. It copies sentences, it never
// rewrites them, so what it keeps is verbatim.
// - balanced: every turn's opening sentence, and every sentence of the conversation that holds
//   a decision, a constraint, a question, a file path, an identifier, a number or an error
//   message (tool output contributes its error lines only: the trail lists the files and commands);
// - aggressive: per turn the user's opening words, and the user's constraints and decisions.
// Repeated sentences are kept once.

const patterns = {
  constraint: /\b(?:must|never|always|should(?:n't| not)?|do not|don't|required?|requirement|only|at most|at least|no more than|limit|constraint|forbidden|avoid|keep)\b/i,
  decision: /\b(?:decid\w*|decision|go with|we(?:'ll| will) use|chose|choose|agreed|let'?s|settled|confirmed)\b/i,
  path: /(?:^|[\s`'"(])(?:\.{0,2}\/)?(?:[\w.@-]+\/)+[\w.@-]+|\b[\w-]+\.(?:ts|tsx|js|jsx|mjs|cjs|json|md|py|rs|go|java|kt|c|h|cc|cpp|hpp|cs|rb|php|yml|yaml|toml|ini|sql|sh|css|scss|html|lock|txt|env)\b/,
  identifier: /`[^`\n]+`|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z0-9]+[A-Z]\w*\b|\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b[A-Z]{2,}_[A-Z0-9_]+\b|\b\w+\(\)/,
  number: /\d/,
  error: /\b(?:error|exception|failed|failure|cannot|can't|unable|denied|refused|timed? ?out|ENOENT|EACCES|EADDRINUSE|ECONNREFUSED|traceback|panic|segfault|undefined is not|null pointer)\b/i,
  question: /\?\s*$/,
};

type Pattern = keyof typeof patterns;
const balancedKeep: readonly Pattern[] = ['constraint', 'decision', 'path', 'identifier', 'number', 'error', 'question'];
const aggressiveKeep: readonly Pattern[] = ['constraint', 'decision'];
const aggressiveOpeningChars = 120;

/** Lines of prose and code of a message, code fences marked. */
function linesOf(text: string): Array<{ line: string; code: boolean }> {
  const out: Array<{ line: string; code: boolean }> = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(?:```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (line.trim() !== '') {
      out.push({ line: line.trim(), code: inFence });
    }
  }
  return out;
}

/** Sentences of prose lines (a period inside a path or number does not end one). */
export function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  for (const { line, code } of linesOf(text)) {
    if (code) {
      continue;
    }
    for (const sentence of line.split(/(?<=[.!?])\s+(?=[A-Z0-9`"'([])/)) {
      if (sentence.trim() !== '') {
        sentences.push(sentence.trim());
      }
    }
  }
  return sentences;
}

function matchesAny(sentence: string, keep: readonly Pattern[]): boolean {
  return keep.some((name) => patterns[name].test(sentence));
}

function clipWords(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  const cut = text.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max / 2))}…`;
}

/** Error lines of a tool's output (code included: that is where stack traces are). */
function errorLines(content: string, isError: boolean): string[] {
  const lines = linesOf(content).map((entry) => entry.line);
  const found = lines.filter((line) => patterns.error.test(line));
  if (found.length === 0 && isError && lines[0]) {
    found.push(lines[0]);
  }
  return found.slice(0, 5).map((line) => clipWords(line, 500));
}

export interface OfflineSummaryInput {
  readonly tier: SummaryTier;
  /** The range's events in seq order (content events and turn.failed; others are ignored). */
  readonly events: readonly StoredEvent[];
  /** The chat's number of the range's first turn. */
  readonly firstTurn: number;
}

export function summarizeOffline(input: OfflineSummaryInput): string {
  const keep = input.tier === 'balanced' ? balancedKeep : aggressiveKeep;
  const seen = new Set<string>();
  const fresh = (sentence: string): boolean => (seen.has(sentence) ? false : (seen.add(sentence), true));
  const lines: string[] = [];
  let turn = input.firstTurn - 1;
  for (const event of input.events) {
    switch (event.kind) {
      case 'message.user': {
        turn++;
        const sentences = sentencesOf(event.body.text);
        const opening = sentences[0] ?? '';
        const rest = sentences.slice(1).filter((sentence) => matchesAny(sentence, keep) && fresh(sentence));
        if (input.tier === 'aggressive') {
          const head = opening && !matchesAny(opening, keep) ? clipWords(opening, aggressiveOpeningChars) : opening;
          lines.push(`T${turn}: ${[head, ...rest].filter((part) => part !== '').join(' ')}`);
        } else {
          fresh(opening);
          lines.push(`Turn ${turn}, user: ${[opening, ...rest].filter((part) => part !== '').join(' ')}`);
        }
        break;
      }
      case 'message.assistant': {
        if (input.tier === 'aggressive') {
          break;
        }
        const kept = sentencesOf(event.body.text).filter((sentence) => matchesAny(sentence, keep) && fresh(sentence));
        if (kept.length > 0) {
          lines.push(`  assistant: ${kept.join(' ')}`);
        }
        break;
      }
      case 'tool.result': {
        if (input.tier === 'aggressive' && event.body.isError !== true) {
          break;
        }
        const kept = errorLines(event.body.content, event.body.isError === true).filter(fresh);
        const shown = input.tier === 'aggressive' ? kept.slice(0, 1) : kept;
        if (shown.length > 0) {
          lines.push(`  tool ${event.body.toolUseId}: ${shown.join(' | ')}`);
        }
        break;
      }
      case 'turn.failed':
        if (input.tier === 'balanced') {
          lines.push(`  the turn failed: ${event.body.error.message}`);
        }
        break;
      default:
        break;
    }
  }
  return lines.join('\n');
}
