import type { SqlValue } from 'sql.js';
import { toStoredEvent, type JournalEvent, type StoredEvent } from '../log/events';
import type { Journal } from '../log/journal';
import { scanRecords } from '../log/journalRecord';
import { decodeStoredId } from './storedIds';

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
  return { seq: Number(seq), id: decodeStoredId(id ?? null), sessionId: String(sessionId), kind: String(kind), segment: Number(segment), offset: Number(offset), length: Number(length) };
}

/** The columns toEventLocation reads, from `eventLocationsFrom` (the events with their names). */
export const eventLocationColumns = 'e.seq, e.id, n.session_id, k.kind, e.segment, e.offset, e.length';
export const eventLocationsFrom = 'events e JOIN stream_names n ON n.no = e.stream JOIN kinds k ON k.no = e.kind';

// Records next to each other in the journal are read with one pread, up to this much at once.
const maxRunBytes = 1024 * 1024;
const maxGapBytes = 4096;

/**
 * Reads event bodies from the journal by position. sql.js keeps only what queries need (ids,
 * sessions, kinds, positions), so the log's bodies live once, on disk; a bounded cache keeps the
 * recently read and recently appended ones, which is what a chat reads again (at most
 * `cacheBytes` of records).
 */
export class EventReader {
  // Two generations instead of a strict LRU: new entries go to `young`; when it holds half the
  // budget, it becomes `old` and the previous old one is dropped. O(1) per entry, with no
  // iteration over a Map's deleted slots (which makes a delete-the-oldest LRU slow in V8).
  private young = new Map<number, { readonly event: JournalEvent; readonly length: number }>();
  private old = new Map<number, { readonly event: JournalEvent; readonly length: number }>();
  private youngBytes = 0;
  private oldBytes = 0;

  constructor(
    private readonly journal: Journal,
    private readonly cacheBytes = 32 * 1024 * 1024,
  ) {}

  /** Remembers an event this engine has in hand (its own append, or one just read). */
  remember(seq: number, event: JournalEvent, length: number): void {
    if (length > this.cacheBytes / 8 || this.young.has(seq)) {
      return;
    }
    this.young.set(seq, { event, length });
    this.youngBytes += length;
    if (this.youngBytes > this.cacheBytes / 2) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
  }

  get cachedByteCount(): number {
    return this.youngBytes + this.oldBytes;
  }

  private cached(seq: number): JournalEvent | undefined {
    const young = this.young.get(seq);
    if (young) {
      return young.event;
    }
    const old = this.old.get(seq);
    if (old) {
      // Used again: keep it through the next generation.
      this.remember(seq, old.event, old.length);
      return old.event;
    }
    return undefined;
  }

  /** The stored events at these locations, in the order given. */
  read(locations: readonly EventLocation[]): StoredEvent[] {
    const found = new Map<number, JournalEvent>();
    const missing: EventLocation[] = [];
    for (const location of locations) {
      const cached = this.cached(location.seq);
      if (cached) {
        found.set(location.seq, cached);
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
