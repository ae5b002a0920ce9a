import { createHash } from 'node:crypto';
import type { TokenCounter } from '../context/tokenCounts';
import { digestEvent, isContentEvent, UnitLayoutBuilder, type ContentEvent } from '../context/units';
import type { StoredEvent } from '../log/events';
import type { CompactionRange } from './compactionTypes';

// Which events a compaction covers. A range is whole units (a turn with its answer and tool
// rounds), so the assembled request never splits a tool call from its result, and the newest
// turn always stays raw: it is the one being answered.

export class CompactionRangeError extends Error {
  override readonly name = 'CompactionRangeError';
}

/** Turns as the chat numbers them: `a..b` (1-based, inclusive). */
export interface TurnRange {
  readonly firstTurn: number;
  readonly lastTurn: number;
}

/** Parses "12..80" (or "12-80", "12–80"). */
export function parseTurnRange(text: string): TurnRange {
  const match = /^\s*(\d+)\s*(?:\.\.|-|–)\s*(\d+)\s*$/.exec(text);
  if (!match) {
    throw new CompactionRangeError(`"${text}" is not a range of turns; write it as FIRST..LAST, e.g. 1..20`);
  }
  const range = { firstTurn: Number(match[1]), lastTurn: Number(match[2]) };
  if (range.firstTurn < 1 || range.lastTurn < range.firstTurn) {
    throw new CompactionRangeError(`the range ${range.firstTurn}..${range.lastTurn} is empty; turns start at 1 and FIRST ≤ LAST`);
  }
  return range;
}

export interface ResolvedRange {
  readonly range: CompactionRange;
  /** The range's content events and failed turns, in seq order. */
  readonly events: readonly StoredEvent[];
  /** Tokens the range's units take in a request (estimates or cached exact counts). */
  readonly sourceTokens: number;
  readonly turnCount: number;
}

/** Turns to leave raw after the range when none is given. */
export const defaultKeepTurns = 2;

/**
 * Resolves a turn range (or "all but the newest `keepTurns`") to whole units of the session's
 * events. Throws CompactionRangeError when there is nothing to compact or the range is invalid.
 */
export function resolveRange(sessionEvents: readonly StoredEvent[], requested: TurnRange | undefined, counter: TokenCounter, keepTurns = defaultKeepTurns): ResolvedRange {
  const content: ContentEvent[] = sessionEvents.filter(isContentEvent);
  const layout = new UnitLayoutBuilder();
  for (const event of content) {
    layout.add(digestEvent(event, counter));
  }
  for (const event of sessionEvents) {
    if (event.kind === 'message.superseded') {
      layout.supersede(event.body.eventId);
    }
  }
  // The turn number of each user message, and of the first turn of each unit.
  const turnOfEvent = new Map<string, number>();
  for (const event of content) {
    if (event.kind === 'message.user') {
      turnOfEvent.set(event.id, turnOfEvent.size + 1);
    }
  }
  const turnCount = turnOfEvent.size;
  const units = layout.units;
  const wanted = requested ?? { firstTurn: 1, lastTurn: turnCount - keepTurns };
  if (turnCount < 2 || wanted.lastTurn < wanted.firstTurn) {
    throw new CompactionRangeError(`the session has ${turnCount} ${turnCount === 1 ? 'turn' : 'turns'}; with the newest ${keepTurns} kept as they are, there is nothing to compact yet`);
  }
  if (wanted.lastTurn >= turnCount) {
    throw new CompactionRangeError(`turn ${wanted.lastTurn} is the newest turn or later (the session has ${turnCount}); the newest turn always stays as it is: compact up to turn ${turnCount - 1} at most`);
  }
  const unitTurns = units.map((unit) => {
    let first: number | undefined;
    let last: number | undefined;
    for (let i = unit.start; i < unit.end; i++) {
      const turn = turnOfEvent.get(layout.digests[i]!.id);
      if (turn !== undefined) {
        first ??= turn;
        last = turn;
      }
    }
    return { first, last };
  });
  const from = unitTurns.findIndex((turns) => turns.last !== undefined && turns.last >= wanted.firstTurn);
  let to = from;
  while (to + 1 < units.length && (unitTurns[to + 1]!.first ?? Infinity) <= wanted.lastTurn) {
    to++;
  }
  if (from < 0 || !units[from]!.isTurn) {
    throw new CompactionRangeError(`turn ${wanted.firstTurn} does not start a turn of this session`);
  }
  if (to === units.length - 1) {
    throw new CompactionRangeError(`turn ${wanted.lastTurn} shares a unit with the newest turn (a tool result arrived after the next message); compact fewer turns`);
  }
  const first = units[from]!;
  const last = units[to]!;
  let sourceTokens = 0;
  for (let u = from; u <= to; u++) {
    sourceTokens += units[u]!.tokens;
  }
  const firstTurn = unitTurns[from]!.first!;
  const lastTurn = unitTurns[to]!.last!;
  const events = sessionEvents.filter((event) => event.seq >= first.firstSeq && event.seq <= last.lastSeq && (isContentEvent(event) || event.kind === 'turn.failed'));
  const firstEvent = content[first.start]!;
  const lastEvent = content[last.end - 1]!;
  return { range: { firstSeq: first.firstSeq, lastSeq: last.lastSeq, firstEventId: firstEvent.id, lastEventId: lastEvent.id, firstTurn, lastTurn }, events, sourceTokens, turnCount };
}

/** SHA-256 of the source events: ids, kinds and bodies in order (what the summary was made from). */
export function sourceDigestOf(events: readonly StoredEvent[]): string {
  const hash = createHash('sha256');
  for (const event of events) {
    hash.update(JSON.stringify([event.id, event.kind, event.body]));
    hash.update('\n');
  }
  return hash.digest('hex');
}
