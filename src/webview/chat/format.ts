import type { ContextReceipt, ReceiptExclusion, ReceiptPart, WindowSpec } from '../../core/context/contextTypes';
import { budgetNumbers, formatTokens } from '../../shared/receiptNumbers';

// Words and numbers the chat panel shows. No DOM here (unit-tested in Node).

export { formatTokens };

/** The one line a collapsed receipt shows; `rounds` > 1 when tool rounds made more requests. */
export function receiptSummary(receipt: ContextReceipt, rounds = 1): string {
  const parts = shownParts(receipt).length;
  const left = shownExclusions(receipt).length;
  return [
    `Context: ${budgetNumbers(receipt)}`,
    `${parts} ${parts === 1 ? 'part' : 'parts'}`,
    left > 0 ? `${left} left out` : null,
    rounds > 1 ? `${rounds} requests` : null,
  ]
    .filter((part) => part !== null)
    .join(' · ');
}

/**
 * Parts worth a row: a part with no tokens and no events says nothing, except a facts part,
 * whose reason names the facts left out (stale, conflicted) even when none went in.
 */
export function shownParts(receipt: ContextReceipt): readonly ReceiptPart[] {
  return receipt.parts.filter((part) => part.tokens > 0 || part.eventCount > 0 || part.kind === 'facts');
}

export function shownExclusions(receipt: ContextReceipt): readonly ReceiptExclusion[] {
  return receipt.excluded.filter((exclusion) => exclusion.eventCount > 0 || exclusion.tokens > 0);
}

const partLabels: Record<ReceiptPart['kind'], string> = {
  system: 'System prompt',
  turn: 'Turn',
  pinned: 'Pinned turn',
  'tool-exchange': 'Tool exchange',
  prompt: 'Your message',
  compaction: 'Summary (compaction)',
  retrieved: 'Retrieved context',
  facts: 'Facts',
};

export function partLabel(part: Pick<ReceiptPart, 'kind'>): string {
  return partLabels[part.kind] ?? part.kind;
}

// Keyed by string: an engine newer than this panel may name a reason it does not know yet.
const exclusionLabels: Readonly<Record<string, string>> = {
  'outside-window': 'outside the window',
  'over-budget': 'over the budget',
  'before-topic-boundary': 'before a topic boundary',
  'no-user-turn': 'before the first message',
  'tool-result-pending': 'tool result still pending',
  'unanswered-tool-use': 'tool call never answered',
  'orphan-tool-result': 'tool result without its call',
  'duplicate-tool-use': 'repeated tool call',
  empty: 'empty message',
  superseded: 'cut answer replaced by a retry',
};

export function exclusionLabel(exclusion: Pick<ReceiptExclusion, 'reason'>): string {
  return Object.prototype.hasOwnProperty.call(exclusionLabels, exclusion.reason) ? (exclusionLabels[exclusion.reason] ?? exclusion.reason) : exclusion.reason;
}

/** Event sequence numbers, for what no turn number names (the CLI's `show` lists them). */
export function seqRange(first: number | null, last: number | null): string {
  if (first === null || last === null) {
    return '—';
  }
  return first === last ? `#${first}` : `#${first}–${last}`;
}

/**
 * The turns a part or an exclusion covers, as a person finds them in the conversation ("turn 3",
 * "turns 1–4"), from its sequence range: `turnOf` maps an event's seq to the number of the
 * question it belongs to (a turn's events follow its question in the log).
 */
export function turnRange(firstSeq: number | null, lastSeq: number | null, turnOf: (seq: number) => number | undefined): string | null {
  if (firstSeq === null || lastSeq === null) {
    return null;
  }
  const first = turnOf(firstSeq);
  const last = turnOf(lastSeq);
  if (first === undefined || last === undefined) {
    return null;
  }
  return first === last ? `turn ${first}` : `turns ${first}–${last}`;
}

export function windowText(window: WindowSpec): string {
  switch (window.kind) {
    case 'full':
      return 'full buffer';
    case 'sliding':
      return `sliding window, last ${[window.turns !== undefined ? `${window.turns} turns` : null, window.tokens !== undefined ? `${formatTokens(window.tokens)} tokens` : null]
        .filter((part) => part !== null)
        .join(' or ')}`;
    case 'tumbling':
      return `tumbling window, blocks of ${window.blockTurns} turns`;
    case 'session':
      return `session window, split after ${window.idleGapMinutes} min idle${window.detectShift ? ' or a topic shift' : ''}`;
    default:
      return 'unknown window';
  }
}

export function sessionLabel(session: { readonly name: string; readonly turnCount: number }): string {
  return `${session.name} (${session.turnCount} ${session.turnCount === 1 ? 'turn' : 'turns'})`;
}

/** What a tool call did, in words: "Read src/a.ts", with the path a link can open. */
export function describeToolCall(name: string, input: unknown): { readonly verb: string; readonly target: string | null; readonly isPath: boolean } {
  const args = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const text = (key: string): string | null => (typeof args[key] === 'string' && args[key] !== '' ? (args[key]) : null);
  switch (name) {
    case 'read_file':
      return { verb: 'Read', target: text('path'), isPath: text('path') !== null };
    case 'list_files': {
      const folder = text('folder') ?? '.';
      const contains = text('contains');
      return { verb: 'Listed files in', target: contains ? `${folder} (containing “${contains}”)` : folder, isPath: false };
    }
    case 'search_text':
      return { verb: 'Searched for', target: text('query') !== null ? `“${text('query')}”` : null, isPath: false };
    default:
      return { verb: `Ran ${name}`, target: null, isPath: false };
  }
}

/** The words of a compaction row in the transcript: what replaces which turns, and who did it. */
export function compactionNote(entry: { readonly firstTurn: number; readonly lastTurn: number; readonly tier: string; readonly model: string; readonly summaryTokens: number; readonly sourceTokens: number; readonly automatic: boolean; readonly undone: boolean }): string {
  const turns = entry.firstTurn === entry.lastTurn ? `turn ${entry.firstTurn}` : `turns ${entry.firstTurn}–${entry.lastTurn}`;
  const what = `Summary of ${turns}, ${formatTokens(entry.summaryTokens)} tokens, replaces ${formatTokens(entry.sourceTokens)} (${entry.tier}, ${entry.model})`;
  const who = entry.automatic ? 'Compacted automatically: the context budget was filling up. ' : 'Compacted. ';
  return entry.undone ? `${who}${what}. Undone: these turns go into requests as they were.` : `${who}${what}. The turns stay in the log.`;
}

/** The one line of a request an imported Claude Code session recorded (its turn's receipt). */
export function importedRequestSummary(entry: { readonly messageCount: number; readonly newMessageCount: number; readonly toolCount: number; readonly estimatedTokens: number; readonly complete: boolean }): string {
  const messages = `${formatTokens(entry.messageCount)} ${entry.messageCount === 1 ? 'message' : 'messages'} (${formatTokens(entry.newMessageCount)} new)`;
  const tools = `${formatTokens(entry.toolCount)} ${entry.toolCount === 1 ? 'tool' : 'tools'}`;
  return `Request recorded by Claude Code: ~${formatTokens(entry.estimatedTokens)} tokens estimated${entry.complete ? '' : ' (not every message measured)'} · ${messages} · ${tools}`;
}
