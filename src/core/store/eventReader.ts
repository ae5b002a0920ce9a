import type { SqlValue } from 'sql.js';
import { toStoredEvent, type JournalEvent, type StoredEvent } from '../log/events';
import type { Journal } from '../log/journal';
import { scanRecords } from '../log/journalRecord';

/** Where an accepted event's record sits in the journal: all the projections keep of it. */
export interface EventLocation {
  readonly seq: number;
  readonly id: string;
  readonly sessionId: string;
  readonly kind: string;
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export function toEventLocation(row: SqlValue[]): EventLocation {
  const [seq, id, sessionId, kind, segment, offset, length] = row;
  return { seq: Number(seq), id: String(id), sessionId: String(sessionId), kind: String(kind), segment: Number(segment), offset: Number(offset), length: Number(length) };
}

export const eventLocationColumns = 'seq, id, session_id, kind, segment, offset, length';

// Records next to each other in the journal are read with one pread, up to this much at once.
const maxRunBytes = 1024 * 1024;
const maxGapBytes = 4096;

/**
 * Reads event bodies from the journal by position. sql.js keeps only what queries need (ids,
 * sessions, kinds, positions), so the log's bodies live once, on disk; a bounded cache keeps the
 * recently read and recently appended ones, which is what a chat reads again.
 */
export class EventReader {
  // Map order is recency: the first key is the least recently used.
  private readonly cache = new Map<number, { readonly event: JournalEvent; readonly length: number }>();
  private cachedBytes = 0;

  constructor(
    private readonly journal: Journal,
    private readonly cacheBytes = 32 * 1024 * 1024,
  ) {}

  /** Remembers an event this engine has in hand (its own append, or one just read). */
  remember(seq: number, event: JournalEvent, length: number): void {
    if (length > this.cacheBytes / 8) {
      return;
    }
    const previous = this.cache.get(seq);
    if (previous) {
      this.cache.delete(seq);
      this.cachedBytes -= previous.length;
    }
    this.cache.set(seq, { event, length });
    this.cachedBytes += length;
    while (this.cachedBytes > this.cacheBytes) {
      const [oldest, entry] = this.cache.entries().next().value as [number, { length: number }];
      this.cache.delete(oldest);
      this.cachedBytes -= entry.length;
    }
  }

  get cachedByteCount(): number {
    return this.cachedBytes;
  }

  /** Forgets everything (the projections were rebuilt). */
  clear(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }

  /** The stored events at these locations, in the order given. */
  read(locations: readonly EventLocation[]): StoredEvent[] {
    const found = new Map<number, JournalEvent>();
    const missing: EventLocation[] = [];
    for (const location of locations) {
      const cached = this.cache.get(location.seq);
      if (cached) {
        // Touch: most recently used goes last.
        this.cache.delete(location.seq);
        this.cache.set(location.seq, cached);
        found.set(location.seq, cached.event);
      } else {
        missing.push(location);
      }
    }
    for (const run of runsOf(missing)) {
      this.readRun(run, found);
    }
    return locations.map((location) => {
      const event = found.get(location.seq);
      return event ? toStoredEvent(event, location.seq) : unreadable(location);
    });
  }

  private readRun(run: readonly EventLocation[], found: Map<number, JournalEvent>): void {
    const first = run[0]!;
    const last = run.at(-1)!;
    const start = first.offset;
    const bytes = this.journal.readBytes(first.segment, start, last.offset + last.length - start);
    const wanted = new Map(run.map((location) => [location.offset, location]));
    for (const location of run) {
      const slice = bytes.subarray(location.offset - start, location.offset - start + location.length);
      const record = scanRecords(slice, location.offset, true).records[0];
      if (record?.type === 'record' && !('control' in record.payload) && record.payload.id === wanted.get(location.offset)?.id) {
        found.set(location.seq, record.payload);
        this.remember(location.seq, record.payload, location.length);
      }
    }
  }
}

/** Groups locations into runs of nearby records in one segment, each read at once. */
function runsOf(locations: readonly EventLocation[]): EventLocation[][] {
  const sorted = [...locations].sort((a, b) => a.segment - b.segment || a.offset - b.offset);
  const runs: EventLocation[][] = [];
  let current: EventLocation[] = [];
  for (const location of sorted) {
    const previous = current.at(-1);
    if (
      previous &&
      (previous.segment !== location.segment ||
        location.offset - (previous.offset + previous.length) > maxGapBytes ||
        location.offset + location.length - current[0]!.offset > maxRunBytes)
    ) {
      runs.push(current);
      current = [];
    }
    current.push(location);
  }
  if (current.length > 0) {
    runs.push(current);
  }
  return runs;
}

/** A record that was accepted but can no longer be read (damaged since, or its segment gone). */
function unreadable(location: EventLocation): StoredEvent {
  return {
    formatVersion: 1,
    seq: location.seq,
    id: location.id,
    sessionId: location.sessionId,
    parentId: null,
    writerId: '',
    hlc: '',
    wallMs: 0,
    kind: 'foreign',
    body: {
      kind: location.kind,
      body: null,
      problem: `its record (${location.length} bytes at journal segment ${location.segment} offset ${location.offset}) can no longer be read: it was damaged after it was stored; run verify`,
    },
  };
}
