import type { WindowSpec } from './contextTypes';
import { isTopicShift, shiftThreshold } from './topicShift';

// Windows decide which units of a session are candidates for the request (DESIGN.md: the
// windowed buffer is a ring buffer). They work on unit summaries, oldest first, whose last
// entry is the unit being answered: the new prompt, or the newest turn of the log. That unit
// is always in; pinned units and the token budget are applied afterwards (assembleContext.ts).
//
// - full: every unit.
// - sliding: the newest `turns` turns (the one being answered counts), and/or the newest units
//   whose tokens add up to at most `tokens`; with both, whichever keeps fewer.
// - tumbling: turns are numbered from the start of the session and cut into blocks of
//   `blockTurns`; only the block of the turn being answered is in. When a block fills up, the
//   next turn starts with an empty history (pinned units aside).
// - session: only the units since the newest topic boundary. A boundary falls before a unit
//   when an explicit `topic.boundary` event was logged after the previous unit began, when the
//   wall-clock gap since the previous event exceeds `idleGapMinutes`, or (with `detectShift`)
//   when the unit's user message shares too few content words with the recent messages
//   (topicShift.ts).

export interface WindowUnit {
  readonly firstSeq: number;
  readonly startWallMs: number;
  /** Wall time of the content event before the unit; null for the first. */
  readonly prevWallMs: number | null;
  readonly isTurn: boolean;
  readonly tokens: number;
}

export interface WindowInput {
  /** How many units, oldest first; the last is the unit being answered. */
  readonly count: number;
  readonly at: (unitIndex: number) => WindowUnit;
  /** Seqs of the session's `topic.boundary` events, ascending. */
  readonly topicBoundarySeqs: readonly number[];
  /** The topic-shift score of a unit's user message (null: cannot tell). */
  readonly shiftScore: (unitIndex: number) => number | null;
}

export type BoundaryCause = 'explicit' | 'idle-gap' | 'topic-shift';

/**
 * Every window is a suffix of the units: those from `start` on are in, those before it are out
 * for `reason`. The work is proportional to the window, not to the session.
 */
export interface WindowSelection {
  readonly start: number;
  readonly reason: 'outside-window' | 'before-topic-boundary';
  /** Session windows: why the window starts where it does (none: the session is one topic). */
  readonly boundary?: BoundaryCause;
}

export function selectWindow(spec: WindowSpec, input: WindowInput): WindowSelection {
  const last = input.count - 1;
  if (last < 0) {
    return { start: 0, reason: 'outside-window' };
  }
  switch (spec.kind) {
    case 'full':
      return { start: 0, reason: 'outside-window' };
    case 'sliding': {
      const maxTurns = spec.turns ?? Number.POSITIVE_INFINITY;
      const maxTokens = spec.tokens ?? Number.POSITIVE_INFINITY;
      const newest = input.at(last);
      let turns = newest.isTurn ? 1 : 0;
      let tokens = newest.tokens;
      let first = last;
      for (let i = last - 1; i >= 0; i--) {
        const unit = input.at(i);
        const nextTurns = turns + (unit.isTurn ? 1 : 0);
        const nextTokens = tokens + unit.tokens;
        if (nextTurns > maxTurns || nextTokens > maxTokens) {
          break;
        }
        turns = nextTurns;
        tokens = nextTokens;
        first = i;
      }
      return { start: first, reason: 'outside-window' };
    }
    case 'tumbling': {
      // Only the first unit can be other than a turn (what precedes the first user message).
      const leading = input.at(0).isTurn ? 0 : 1;
      const turnIndex = (i: number): number => Math.max(0, i - leading);
      const blockStart = Math.floor(turnIndex(last) / spec.blockTurns) * spec.blockTurns;
      let first = last;
      while (first > 0 && turnIndex(first - 1) >= blockStart) {
        first--;
      }
      return { start: first, reason: 'outside-window' };
    }
    case 'session': {
      const boundary = newestTopicBoundary(spec, input);
      return boundary ? { start: boundary.unitIndex, reason: 'before-topic-boundary', boundary: boundary.cause } : { start: 0, reason: 'before-topic-boundary' };
    }
  }
}

/** The newest unit that starts a topic (for a session window), with why. */
export function newestTopicBoundary(
  spec: Extract<WindowSpec, { kind: 'session' }>,
  input: WindowInput,
): { unitIndex: number; cause: BoundaryCause } | undefined {
  const idleGapMs = spec.idleGapMinutes * 60_000;
  let unit = input.at(input.count - 1);
  for (let i = input.count - 1; i > 0; i--) {
    const previous = input.at(i - 1);
    const explicit = firstAbove(input.topicBoundarySeqs, previous.firstSeq);
    if (explicit !== undefined && explicit < unit.firstSeq) {
      return { unitIndex: i, cause: 'explicit' };
    }
    if (unit.prevWallMs !== null && unit.startWallMs - unit.prevWallMs > idleGapMs) {
      return { unitIndex: i, cause: 'idle-gap' };
    }
    if (spec.detectShift && isTopicShift(input.shiftScore(i))) {
      return { unitIndex: i, cause: 'topic-shift' };
    }
    unit = previous;
  }
  return undefined;
}

function firstAbove(sorted: readonly number[], value: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return sorted[low];
}

/** A few words for receipts and the CLI. */
export function describeWindow(spec: WindowSpec): string {
  switch (spec.kind) {
    case 'full':
      return 'full buffer';
    case 'sliding': {
      const limits = [spec.turns !== undefined ? `last ${spec.turns} turns` : undefined, spec.tokens !== undefined ? `last ${spec.tokens} tokens` : undefined].filter(Boolean);
      return `sliding window (${limits.join(', ')})`;
    }
    case 'tumbling':
      return `tumbling window (blocks of ${spec.blockTurns} turns)`;
    case 'session':
      return `session window (idle gap ${spec.idleGapMinutes} min${spec.detectShift ? `, topic shift below ${shiftThreshold} word overlap` : ''})`;
  }
}

export function describeBoundary(cause: BoundaryCause): string {
  switch (cause) {
    case 'explicit':
      return 'a "new topic" marker';
    case 'idle-gap':
      return 'an idle gap';
    case 'topic-shift':
      return 'a detected topic shift';
  }
}
