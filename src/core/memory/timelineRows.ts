import type { CompactionRow } from '../store/modules/compactionsModule';
import type { TokenCounter } from '../context/tokenCounts';
import { estimateTextTokens } from '../context/tokenEstimator';
import { eventBlocks, isContentEvent } from '../context/units';
import { eventTimeMs } from '../import/sourceTime';
import type { StoredEvent } from '../log/events';
import { describeEvent } from '../report/transcriptReport';
import { timelineLabelChars, type TimelineCategory, type TimelineCompaction, type TimelineRow } from './timelineTypes';

// One timeline row per event: what kind of step it is, a one-line label, and its tokens.

export function categoryOf(event: StoredEvent): TimelineCategory {
  switch (event.kind) {
    case 'message.user':
      return 'turn';
    case 'message.assistant':
      return 'answer';
    case 'tool.use':
      return 'toolCall';
    case 'tool.result':
      return event.body.isError ? 'failure' : 'toolResult';
    case 'context.receipt':
    case 'import.request':
      return 'receipt';
    case 'turn.failed':
      return 'failure';
    case 'compaction.committed':
    case 'import.compactBoundary':
    case 'import.compactSummary':
      return 'compaction';
    case 'compaction.undone':
      return 'undo';
    case 'import.thinking':
    case 'import.record':
    case 'import.cursor':
      return 'imported';
    default:
      return 'other';
  }
}

/** Tokens of an event: what a content event adds to a request, or the size it stands for. */
export function tokensOf(event: StoredEvent, counter: TokenCounter): number {
  if (isContentEvent(event)) {
    const known = counter.cached(event.id);
    return (known ?? counter.count(eventBlocks(event), event.id)).tokens;
  }
  switch (event.kind) {
    case 'context.receipt':
      return event.body.receipt.totalTokens;
    case 'import.request':
      return event.body.estimatedTokens;
    case 'compaction.committed':
      return event.body.summaryTokens;
    case 'import.thinking':
    case 'import.compactSummary':
      return estimateTextTokens(event.body.text);
    case 'import.compactBoundary':
      return event.body.preTokens ?? 0;
    default:
      return 0;
  }
}

/** The first line of the event's description, cut to the label length. */
export function labelOf(event: StoredEvent): string {
  const text = describeEvent(event).replace(/\s+/g, ' ').trim();
  return text.length > timelineLabelChars ? `${text.slice(0, timelineLabelChars - 1)}…` : text;
}

function compactionOf(event: StoredEvent, rows: ReadonlyMap<string, CompactionRow>): TimelineCompaction | null {
  if (event.kind !== 'compaction.committed') {
    return null;
  }
  const { range, tier, model, summaryTokens, sourceTokens } = event.body;
  return { id: event.id, firstTurn: range.firstTurn, lastTurn: range.lastTurn, firstSeq: range.firstSeq, lastSeq: range.lastSeq, tier, model, summaryTokens, sourceTokens, undone: (rows.get(event.id)?.undoneSeq ?? null) !== null };
}

export function timelineRow(event: StoredEvent, index: number, turn: number, counter: TokenCounter, compactions: ReadonlyMap<string, CompactionRow>): TimelineRow {
  const category = categoryOf(event);
  const time = eventTimeMs(event);
  return {
    index,
    seq: event.seq,
    eventId: event.id,
    kind: event.kind,
    category,
    turn,
    label: labelOf(event),
    tokens: tokensOf(event, counter),
    wallMs: event.wallMs,
    timeMs: time.ms,
    timeFromSource: time.fromSource,
    failed: category === 'failure',
    compaction: compactionOf(event, compactions),
  };
}

/** Text a search looks in: the label's source, the full description. */
export function searchableText(event: StoredEvent): string {
  return describeEvent(event);
}

/** Up to `points` points of a series, evenly spread by index, the last always kept. */
export function downsample<T>(items: readonly T[], points: number): T[] {
  if (items.length <= points) {
    return [...items];
  }
  const out: T[] = [];
  const step = (items.length - 1) / (points - 1);
  for (let i = 0; i < points; i++) {
    out.push(items[Math.round(i * step)]!);
  }
  return out;
}
