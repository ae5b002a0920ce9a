import type { ContentBlock } from '../context/contextTypes';
import type { TokenCounter } from '../context/tokenCounts';
import { messageOverheadTokens } from '../context/tokenEstimator';
import type { DropReason, EventDigest, UnitLayout, UnitSummary } from '../context/units';
import type { StoredEvent } from '../log/events';
import { compactionMessageText, compactionReason } from './compactionText';
import type { CompactionCommittedBody } from './compactionTypes';
import { firstAtOrAfter } from '../context/seqSearch';

// How context assembly sees committed compactions: a view of a session's unit layout in which
// the units a compaction covers are one unit, whose message is the summary and its trail. The
// planner (windows, pins, budget) works on the view exactly as on the raw layout, so a
// compaction is one more unit to it; undo removes it from the view and the raw units are back,
// so the request is again byte for byte what it was.

export interface ActiveCompaction {
  /** The compaction.committed event's id and seq. */
  readonly id: string;
  readonly seq: number;
  readonly body: CompactionCommittedBody;
}

/** Folds a session's compaction events (in seq order) into the compactions in force. */
export class CompactionTracker {
  private readonly active = new Map<string, ActiveCompaction>();

  observe(event: StoredEvent): void {
    if (event.kind === 'compaction.committed') {
      this.active.set(event.id, { id: event.id, seq: event.seq, body: event.body });
    } else if (event.kind === 'compaction.undone') {
      this.active.delete(event.body.compactionId);
    }
  }

  /** Committed and not undone, oldest first. */
  get compactions(): readonly ActiveCompaction[] {
    return [...this.active.values()];
  }
}

/** A unit of the view that stands for a compacted range. */
export interface CompactionUnit extends UnitSummary {
  readonly compaction: ActiveCompaction;
  readonly text: string;
  /** Tokens the covered units would take (what the summary saves is the difference). */
  readonly replacesTokens: number;
}

export function isCompactionUnit(unit: UnitSummary): unit is CompactionUnit {
  return (unit as Partial<CompactionUnit>).compaction !== undefined;
}

/** The request blocks of a compaction unit. */
export function compactionBlocks(unit: CompactionUnit): ContentBlock[] {
  return [{ type: 'text', text: unit.text }];
}

/** The receipt's words for a compaction unit that went in. */
export function compactionUnitReason(unit: CompactionUnit): string {
  return compactionReason(unit.compaction.body, unit.tokens, unit.replacesTokens);
}

/** The first unit index whose firstSeq is ≥ seq (units are in seq order). */
function unitAtOrAfter(units: readonly UnitSummary[], seq: number): number {
  return firstAtOrAfter(units, seq, (unit) => unit.firstSeq);
}

/**
 * The base units [from, to] a compaction covers, or undefined when its range no longer lines up
 * with whole units of this layout (then it is not applied and the raw units go in).
 */
export function coveredUnits(units: readonly UnitSummary[], range: CompactionCommittedBody['range']): { from: number; to: number } | undefined {
  const from = unitAtOrAfter(units, range.firstSeq);
  const first = units[from];
  if (!first || first.firstSeq !== range.firstSeq || !first.isTurn) {
    return undefined;
  }
  let to = from;
  while (to < units.length && units[to]!.lastSeq < range.lastSeq) {
    to++;
  }
  return units[to]?.lastSeq === range.lastSeq ? { from, to } : undefined;
}

class CompactedLayout implements UnitLayout {
  readonly units: readonly UnitSummary[];
  private readonly prefix: number[];
  private readonly baseToView: Int32Array;

  constructor(
    private readonly base: UnitLayout,
    chosen: ReadonlyArray<{ from: number; to: number; compaction: ActiveCompaction }>,
    counter: TokenCounter,
  ) {
    const baseUnits = base.units;
    const units: UnitSummary[] = [];
    this.baseToView = new Int32Array(baseUnits.length);
    const byStart = new Map(chosen.map((entry) => [entry.from, entry]));
    for (let u = 0; u < baseUnits.length; u++) {
      const entry = byStart.get(u);
      const index = units.length;
      if (!entry) {
        this.baseToView[u] = index;
        units.push(index === u ? baseUnits[u]! : { ...baseUnits[u]!, index });
        continue;
      }
      const first = baseUnits[entry.from]!;
      const last = baseUnits[entry.to]!;
      let replacesTokens = 0;
      for (let covered = entry.from; covered <= entry.to; covered++) {
        this.baseToView[covered] = index;
        replacesTokens += baseUnits[covered]!.tokens;
      }
      const text = compactionMessageText(entry.compaction.body);
      const count = counter.count([{ type: 'text', text }], `compaction:${entry.compaction.id}`);
      const unit: CompactionUnit = {
        index,
        start: first.start,
        end: last.end,
        firstSeq: first.firstSeq,
        lastSeq: last.lastSeq,
        startWallMs: first.startWallMs,
        prevWallMs: first.prevWallMs,
        isTurn: true,
        tokens: count.tokens + messageOverheadTokens,
        exact: count.source === 'api',
        droppedTokens: 0,
        hasToolUse: false,
        incomplete: false,
        messageCount: 1,
        compaction: entry.compaction,
        text,
        replacesTokens,
      };
      units.push(unit);
      u = entry.to;
    }
    this.units = units;
    this.prefix = [0];
    for (const unit of units) {
      this.prefix.push(this.prefix.at(-1)! + unit.tokens + unit.droppedTokens);
    }
  }

  get digests(): readonly EventDigest[] {
    return this.base.digests;
  }

  dropReason(digestIndex: number): DropReason | undefined {
    return this.base.dropReason(digestIndex);
  }

  tokensBefore(unitIndex: number): number {
    return this.prefix[unitIndex]!;
  }

  digestIndexOf(eventId: string): number | undefined {
    return this.base.digestIndexOf(eventId);
  }

  unitOf(digestIndex: number): number {
    return this.baseToView[this.base.unitOf(digestIndex)]!;
  }
}

/**
 * The layout assembly plans on: `layout` itself when no compaction applies, else the view. The
 * widest compactions win (a later one over a longer range holds earlier ones inside it; undoing
 * it brings them back). With `keepLastUnit` (no new prompt: the newest turn is answered), a
 * compaction that covers the newest unit is not applied.
 */
export function compactedLayout(layout: UnitLayout, compactions: readonly ActiveCompaction[], counter: TokenCounter, keepLastUnit: boolean): UnitLayout {
  if (compactions.length === 0) {
    return layout;
  }
  const units = layout.units;
  const candidates: Array<{ from: number; to: number; compaction: ActiveCompaction }> = [];
  for (const compaction of compactions) {
    const covered = coveredUnits(units, compaction.body.range);
    if (covered && !(keepLastUnit && covered.to === units.length - 1)) {
      candidates.push({ ...covered, compaction });
    }
  }
  candidates.sort((a, b) => b.to - b.from - (a.to - a.from) || b.compaction.seq - a.compaction.seq);
  const chosen: typeof candidates = [];
  for (const candidate of candidates) {
    if (chosen.every((other) => candidate.to < other.from || candidate.from > other.to)) {
      chosen.push(candidate);
    }
  }
  return chosen.length === 0 ? layout : new CompactedLayout(layout, chosen, counter);
}
