import type { StoredEvent } from '../log/events';
import type { SessionRange } from '../store/queries';
import { buildRequest, ControlsTracker, planContext, receiptOf, type AssembledContext, type ContextOptions } from './assembleContext';
import { isCompactionUnit } from '../compaction/compactionView';
import type { TokenCounter } from './tokenCounts';
import { digestEvent, isContentEvent, ShiftTracker, UnitLayoutBuilder, type ContentEvent, type UnitSummary } from './units';

// Assembly for a live store without reading the whole session on every request. Reading a
// 100,000-event session from sql.js takes 0.6-1.3 s, yet a window needs only its
// newest units, and the budget caps even a full window at what fits. But pins, the session's
// window setting and topic boundaries can sit anywhere in the log, and tumbling blocks count
// turns from the start, so which events are needed is only known from the whole session.
//
// So the index keeps, per session, a digest of every content event (seq, id, kind, wall time,
// tokens, tool id, topic-shift score: no text) and the controls (pins, window setting, topic
// boundaries). It reads each event once, the first time in pages and afterwards only events
// newer than the last it saw. Planning runs on the digests (the same code as for a plain event
// list); then only the events of the units that go in are read back, one range per run of
// adjacent units. The log is append-only, so nothing the index has seen ever changes.

/** What the index reads from: `Ledger` fits. */
export interface SessionEventSource {
  readSession(sessionId: string, range?: SessionRange): StoredEvent[];
  getSession(sessionId: string): { readonly lastSeq: number } | undefined;
}

export interface ContextIndexOptions {
  /** Seq span of one read while catching up (default 20,000). */
  readonly pageSeqs?: number;
}

/** Where assembly spent its time, for the bench and the engine's log. */
export interface AssemblyTimings {
  readonly catchUpMs: number;
  readonly newEvents: number;
  readonly planMs: number;
  readonly readMs: number;
  /** Content events read for the units that go in, and the seq ranges read for them. */
  readonly readEvents: number;
  readonly readRanges: ReadonlyArray<{ readonly fromSeq: number; readonly toSeq: number }>;
  readonly buildMs: number;
}

export class ContextIndexError extends Error {
  override readonly name = 'ContextIndexError';
}

class IndexedSession {
  lastSeq = 0;
  readonly layout = new UnitLayoutBuilder();
  readonly controls = new ControlsTracker();
  readonly shift = new ShiftTracker();
  /** The counter's exactVersion the digests reflect. */
  exactVersion: number;

  constructor(
    readonly sessionId: string,
    exactVersion: number,
  ) {
    // Digests are made with the counter's counts at the time; only later arrivals need taking in.
    this.exactVersion = exactVersion;
  }
}

export class ContextIndex {
  private readonly sessions = new Map<string, IndexedSession>();
  private readonly pageSeqs: number;

  constructor(
    private readonly source: SessionEventSource,
    readonly counter: TokenCounter,
    options: ContextIndexOptions = {},
  ) {
    this.pageSeqs = options.pageSeqs ?? 20_000;
  }

  /** Reads the session's events the index has not seen; returns how many there were. */
  catchUp(sessionId: string): number {
    const session = this.sessionFor(sessionId);
    const newest = this.source.getSession(sessionId)?.lastSeq ?? 0;
    let seen = 0;
    while (session.lastSeq < newest) {
      const fromSeq = session.lastSeq + 1;
      const toSeq = Math.min(newest, session.lastSeq + this.pageSeqs);
      for (const event of this.source.readSession(sessionId, { fromSeq, toSeq })) {
        this.observe(session, event);
        seen++;
      }
      session.lastSeq = toSeq;
    }
    return seen;
  }

  /**
   * Catches up like `catchUp`, a page at a time, yielding to the event loop between pages so a
   * long session's first indexing does not stall the engine (about 30 µs an event, read included).
   */
  async warmUp(sessionId: string, options: { pageSeqs?: number } = {}): Promise<number> {
    const session = this.sessionFor(sessionId);
    const pageSeqs = options.pageSeqs ?? 2000;
    let seen = 0;
    for (;;) {
      const newest = this.source.getSession(sessionId)?.lastSeq ?? 0;
      if (session.lastSeq >= newest) {
        return seen;
      }
      const toSeq = Math.min(newest, session.lastSeq + pageSeqs);
      for (const event of this.source.readSession(sessionId, { fromSeq: session.lastSeq + 1, toSeq })) {
        this.observe(session, event);
        seen++;
      }
      session.lastSeq = toSeq;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Assembles the session's request (see assembleContext) reading only the events that go in. */
  assemble(sessionId: string, options: Omit<ContextOptions, 'counter' | 'sessionId'>): AssembledContext & { timings: AssemblyTimings } {
    try {
      return this.assembleOnce(sessionId, options);
    } catch (error) {
      if (!(error instanceof ContextIndexError)) {
        throw error;
      }
      // The store is not the log the index was built from (replaced by an import): start over.
      this.forget(sessionId);
      return this.assembleOnce(sessionId, options);
    }
  }

  private assembleOnce(sessionId: string, options: Omit<ContextOptions, 'counter' | 'sessionId'>): AssembledContext & { timings: AssemblyTimings } {
    let started = performance.now();
    const newEvents = this.catchUp(sessionId);
    const session = this.sessionFor(sessionId);
    const catchUpMs = performance.now() - started;

    started = performance.now();
    if (session.exactVersion !== this.counter.exactVersion) {
      // Exact counts arrived: take them in (the layout re-sums the units they touch).
      const changed = this.counter.changedSince?.(session.exactVersion);
      if (changed) {
        session.layout.updateTokens(changed, this.counter);
      } else {
        session.layout.refreshTokens(this.counter);
      }
      session.exactVersion = this.counter.exactVersion;
    }
    const layout = session.layout;
    const plan = planContext(
      {
        sessionId,
        layout,
        controls: session.controls,
        shiftScoreAt: (index) => layout.digests[index]!.shift ?? null,
        promptShiftScore: (text) => session.shift.scoreOf(text),
      },
      { ...options, sessionId, counter: this.counter },
    );
    const planMs = performance.now() - started;

    started = performance.now();
    const ranges = ContextIndex.rangesOf(plan.includedUnits);
    const eventsByUnit = this.readUnits(session, ranges);
    const readMs = performance.now() - started;

    started = performance.now();
    const request = buildRequest(plan, (unit) => eventsByUnit.get(unit.index)!, options);
    const receipt = receiptOf(plan, options.nowMs);
    const buildMs = performance.now() - started;
    let readEvents = 0;
    for (const events of eventsByUnit.values()) {
      readEvents += events.length;
    }
    return { request, receipt, timings: { catchUpMs, newEvents, planMs, readMs, readEvents, readRanges: ranges.map(({ fromSeq, toSeq }) => ({ fromSeq, toSeq })), buildMs } };
  }

  /** The seq ranges `assemble` would read for these units (one per run of adjacent units). */
  static rangesOf(units: readonly UnitSummary[]): Array<{ fromSeq: number; toSeq: number; units: UnitSummary[] }> {
    const ranges: Array<{ fromSeq: number; toSeq: number; units: UnitSummary[] }> = [];
    for (const unit of units) {
      if (isCompactionUnit(unit)) {
        continue; // Its summary is in the compaction event the index already holds.
      }
      const last = ranges.at(-1);
      if (last && last.units.at(-1)!.end === unit.start) {
        last.toSeq = unit.lastSeq;
        last.units.push(unit);
      } else {
        ranges.push({ fromSeq: unit.firstSeq, toSeq: unit.lastSeq, units: [unit] });
      }
    }
    return ranges;
  }

  /** Drops what the index holds for a session (deleted, or memory is needed back). */
  forget(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** Digests held, for the bench and diagnostics. */
  digestCount(sessionId: string): number {
    return this.sessions.get(sessionId)?.layout.digests.length ?? 0;
  }

  private sessionFor(sessionId: string): IndexedSession {
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = new IndexedSession(sessionId, this.counter.exactVersion);
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  private observe(session: IndexedSession, event: StoredEvent): void {
    if (event.sessionId !== session.sessionId) {
      return;
    }
    if (!isContentEvent(event)) {
      session.controls.observe(event);
      if (event.kind === 'message.superseded') {
        session.layout.supersede(event.body.eventId);
      }
      return;
    }
    const digest = digestEvent(event, this.counter);
    session.shift.observe(event, digest);
    session.layout.add(digest);
  }

  private readUnits(session: IndexedSession, ranges: ReturnType<typeof ContextIndex.rangesOf>): Map<number, ContentEvent[]> {
    const byUnit = new Map<number, ContentEvent[]>();
    for (const range of ranges) {
      const content = this.source.readSession(session.sessionId, { fromSeq: range.fromSeq, toSeq: range.toSeq }).filter(isContentEvent);
      const base = range.units[0]!.start;
      for (const unit of range.units) {
        const events = content.slice(unit.start - base, unit.end - base);
        for (let i = 0; i < events.length; i++) {
          if (events[i]!.id !== session.layout.digests[unit.start + i]!.id) {
            throw new ContextIndexError(`the log of session ${session.sessionId} no longer matches the context index at seq ${events[i]!.seq}; the index must be rebuilt`);
          }
        }
        if (events.length !== unit.end - unit.start) {
          throw new ContextIndexError(`session ${session.sessionId}: expected ${unit.end - unit.start} events between seq ${unit.firstSeq} and ${unit.lastSeq}, read ${events.length}`);
        }
        byUnit.set(unit.index, events);
      }
    }
    return byUnit;
  }
}
