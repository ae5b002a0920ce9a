// A prompt file read as Markdown lines: which text is code (inline spans, fenced blocks), which
// is a link or an `@path` import, and whether a mention sits in a negated clause ("instead of
// `npm`", "never edit `dist/`"). The checks read claims from these, never from raw text.

export interface CodeSegment {
  /** The code text (a span's content, or a fenced line without its `# comment`). */
  readonly text: string;
  /** Its 0-based column on the line. */
  readonly start: number;
  readonly fenced: boolean;
}

export interface PromptLine {
  /** 1-based. */
  readonly number: number;
  readonly text: string;
  readonly inFence: boolean;
  readonly code: readonly CodeSegment[];
  /** Relative link targets (`[x](path)`) and `@path` imports, with their columns. */
  readonly references: readonly CodeSegment[];
}

export interface PromptDocument {
  readonly path: string;
  readonly lines: readonly PromptLine[];
}

export function parsePrompt(path: string, text: string): PromptDocument {
  const lines: PromptLine[] = [];
  let fence: string | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    const fenceMatch = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) {
        fence = marker;
      } else if (marker[0] === fence[0] && marker.length >= fence.length) {
        fence = undefined;
      }
      lines.push({ number, text: raw, inFence: true, code: [], references: [] });
      return;
    }
    if (fence !== undefined) {
      const comment = /(^|\s)#(?!!)/.exec(raw);
      const code = comment ? raw.slice(0, comment.index) : raw;
      const start = code.length - code.trimStart().length;
      lines.push({ number, text: raw, inFence: true, code: code.trim() ? [{ text: code.trim(), start, fenced: true }] : [], references: [] });
      return;
    }
    lines.push({ number, text: raw, inFence: false, code: inlineCode(raw), references: references(raw) });
  });
  return { path, lines };
}

function inlineCode(line: string): CodeSegment[] {
  const spans: CodeSegment[] = [];
  const pattern = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    const inner = match[2]!;
    const leading = inner.length - inner.trimStart().length;
    spans.push({ text: inner.trim(), start: match.index + match[1]!.length + leading, fenced: false });
  }
  return spans;
}

function references(line: string): CodeSegment[] {
  const found: CodeSegment[] = [];
  const outsideCode = line.replace(/(`+)[\s\S]*?\1/g, (span) => ' '.repeat(span.length));
  const link = /\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  for (let match = link.exec(outsideCode); match; match = link.exec(outsideCode)) {
    const target = match[1]!;
    found.push({ text: target, start: match.index + match[0].indexOf(target), fenced: false });
  }
  // Claude Code's imports: `@path/to/file` (a word starting with @ and holding a dot or slash).
  const importPattern = /(^|\s)@([A-Za-z0-9_.~\-][^\s]*[./][^\s]*)/g;
  for (let match = importPattern.exec(outsideCode); match; match = importPattern.exec(outsideCode)) {
    const target = match[2]!.replace(/[),.;:]+$/, '');
    found.push({ text: target, start: match.index + match[1]!.length + 1, fenced: false });
  }
  return found;
}

const negationCue = /\b(not|never|don'?t|do not|does not|doesn'?t|must not|mustn'?t|should not|shouldn'?t|avoid|instead of|rather than|no longer|without)\b/i;
const positiveCue = /\b(use|uses|using|used|prefer|prefers|always|run|runs|with|via|managed by|is)\b/i;

/** The prose of the clause before `column` (from the last sentence break), code spans blanked. */
function clauseBefore(line: PromptLine, column: number): string {
  const before = line.text.slice(0, column).replace(/(`+)[\s\S]*?\1/g, ' ');
  const breaks = [...before.matchAll(/[.;!?](\s|$)|\s[—–]\s|:\s/g)];
  const last = breaks.at(-1);
  return last ? before.slice(last.index + last[0].length) : before;
}

/** A mention at `column` sits in a negated clause ("instead of", "never", "not"). */
export function isNegatedAt(line: PromptLine, column: number): boolean {
  if (line.inFence) {
    return false;
  }
  const clause = clauseBefore(line, column);
  // "Use `pnpm` instead of `npm`": the cue nearest the mention decides.
  const negations = [...clause.matchAll(new RegExp(negationCue.source, 'gi'))];
  if (negations.length === 0) {
    return false;
  }
  const lastNegation = negations.at(-1)!.index;
  const positives = [...clause.matchAll(new RegExp(positiveCue.source, 'gi'))].filter((match) => match.index > lastNegation);
  return positives.length === 0;
}

/** A mention at `column` is asserted ("use `pnpm`", "uses **yarn**"), not merely named. */
export function isAssertedAt(line: PromptLine, column: number): boolean {
  return !isNegatedAt(line, column) && positiveCue.test(clauseBefore(line, column));
}

/** Words of `text` with their columns, relative to `base`. */
export function tokens(text: string, base: number): Array<{ text: string; start: number }> {
  return [...text.matchAll(/\S+/g)].map((match) => ({ text: match[0], start: base + match.index }));
}
