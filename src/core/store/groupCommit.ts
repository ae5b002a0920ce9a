import type { EventDraft, JournalEvent, LoggedEvent } from '../log/events';
import type { HybridClock } from '../log/hybridClock';
import { JournalWriteError, type Journal, type JournalPosition, type PositionedRecord } from '../log/journal';
import { encodeRecord } from '../log/journalRecord';
import type { UlidGenerator } from '../log/ulid';
import type { AppendVerdict } from './projection';

/** What the group commit needs from the Ledger it writes for. */
export interface GroupCommitHost {
  readonly journal: Journal;
  readonly storeDir: string;
  readonly writerId: string;
  readonly clock: HybridClock;
  /** The wall clock of the events' wallMs (the clock's own, so a fixed one fixes both). */
  readonly now: () => number;
  readonly ids: UlidGenerator;
  /** Where this engine has read the journal up to (the end of its own last write, after one). */
  position(): JournalPosition;
  /** Applies records this engine wrote itself, exactly as the read-back would. */
  applyOwn(records: readonly PositionedRecord[], position: JournalPosition): void;
  /** Reads the journal from `position()` on (others' records, or ours when the segment moved). */
  catchUp(): void;
  /** Checked for every batch: closed or read-only stores refuse it. */
  assertWritable(): void;
  /** After each batch that was written (rotation past the segment limit). */
  afterBatch(): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

interface PendingAppend {
  readonly events: LoggedEvent[];
  readonly resolve: (verdicts: AppendVerdict[]) => void;
  readonly reject: (error: unknown) => void;
}

const sealRetries = 4;

/**
 * The append path: every append that arrives in one tick goes to the journal in one write and
 * one fdatasync, then is read back through the same projections as other writers' records, so
 * the seq and verdict it gets are the ones every engine computes. Each event has its id, writer
 * and clock stamp before the first write attempt, so a retry never stores it twice.
 */
export class GroupCommit {
  private readonly queue: PendingAppend[] = [];
  private flushScheduled = false;
  // Appends waiting for their verdict, by event identity; settled as the records are applied.
  private readonly awaiting = new Map<string, (verdict: AppendVerdict) => void>();

  constructor(private readonly host: GroupCommitHost) {}

  enqueue(drafts: readonly EventDraft[]): Promise<AppendVerdict[]> {
    const events = drafts.map((draft) => this.stamp(draft));
    if (events.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Called for every applied event, ours or another writer's: settles a waiting append. */
  settle(event: JournalEvent, verdict: AppendVerdict): void {
    const key = awaitKey(event);
    const resolve = this.awaiting.get(key);
    if (resolve) {
      this.awaiting.delete(key);
      resolve(verdict);
    }
  }

  /** Rejects every append not yet written (the store is closing). */
  abandon(error: Error): void {
    for (const pending of this.queue.splice(0)) {
      pending.reject(error);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) {
      return;
    }
    const verdicts = new Map<string, AppendVerdict>();
    try {
      this.host.assertWritable();
      let remaining = batch.flatMap((pending) => pending.events);
      for (let attempt = 0; attempt <= sealRetries && remaining.length > 0; attempt++) {
        remaining = this.writeOnce(remaining, verdicts);
      }
      if (remaining.length > 0) {
        throw new JournalWriteError(`${remaining.length} events could not be placed: the journal kept rotating under them`);
      }
      for (const pending of batch) {
        pending.resolve(pending.events.map((event) => verdicts.get(awaitKey(event))!));
      }
    } catch (error) {
      for (const pending of batch) {
        for (const event of pending.events) {
          this.awaiting.delete(awaitKey(event));
        }
        pending.reject(error);
      }
      if (error instanceof JournalWriteError) {
        this.host.log('error', error.message);
      }
      return;
    }
    this.host.afterBatch();
  }

  /** One write of `events` at the end of the active segment; returns those still without a verdict. */
  private writeOnce(events: LoggedEvent[], verdicts: Map<string, AppendVerdict>): LoggedEvent[] {
    for (const event of events) {
      this.awaiting.set(awaitKey(event), (verdict) => verdicts.set(awaitKey(event), verdict));
    }
    // No catch-up before writing: if another writer sealed this segment meanwhile, the
    // read-back below finds our records void and the next attempt uses the new segment.
    const before = this.host.position();
    const encoded = events.map((event) => encodeRecord(event));
    const bytes = Buffer.concat(encoded);
    const sizeAfter = this.host.journal.appendEncoded(before.segment, bytes);
    if (sizeAfter === before.offset + bytes.length) {
      // The segment grew by exactly our write, so the bytes after our position are ours:
      // apply the events we hold instead of reading and decoding them back.
      let offset = before.offset;
      const records = events.map((event, index): PositionedRecord => {
        const record = { type: 'record' as const, segment: before.segment, offset, length: encoded[index]!.length, payload: event };
        offset += record.length;
        return record;
      });
      this.host.applyOwn(records, { segment: before.segment, offset: sizeAfter });
    } else {
      this.host.catchUp();
    }
    const remaining = events.filter((event) => !verdicts.has(awaitKey(event)));
    if (remaining.length > 0 && this.host.position().segment === before.segment) {
      // Not void after a seal, yet not read back: the journal is not where this engine
      // thinks it is. Writing again could store the events twice; stop instead.
      throw new JournalWriteError(
        `${remaining.length} events were written to journal segment ${before.segment} but could not be read back there (the segment is ${sizeAfter} bytes, this engine expected at least ${before.offset + bytes.length}); they were written once and not retried. Run \`context-ledger --store ${this.host.storeDir} verify\`.`,
      );
    }
    return remaining;
  }

  private stamp(draft: EventDraft): LoggedEvent {
    return {
      formatVersion: 1,
      id: draft.id ?? this.host.ids.next(),
      kind: draft.kind,
      sessionId: draft.sessionId,
      parentId: draft.parentId ?? null,
      writerId: this.host.writerId,
      hlc: this.host.clock.tick(),
      wallMs: this.host.now(),
      ...(draft.expectedVersion !== undefined ? { expectedVersion: draft.expectedVersion } : {}),
      body: draft.body,
    } as LoggedEvent;
  }
}

function awaitKey(event: JournalEvent): string {
  return `${event.id}\u0000${event.writerId}\u0000${event.hlc}`;
}
