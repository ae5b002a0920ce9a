import * as path from 'node:path';
import { checkBarrier, CompactionBarrierError } from '../compaction/barrier';
import { firstAtOrAfter } from '../context/seqSearch';
import type { TokenCounter } from '../context/tokenCounts';
import type { FileSystem } from '../fs/fileSystem';
import { eventTimeMs } from '../import/sourceTime';
import type { Ledger } from '../ledger';
import type { StoredEvent } from '../log/events';
import type { CompactionRow } from '../store/modules/compactionsModule';
import { categoryOf, downsample, searchableText, timelineRow, tokensOf } from './timelineRows';
import { timelineMaxRows, timelinePageSize, type GrowthPoint, type GrowthSeries, type SearchResult, type StoreHealth, type TimelineOverview, type TimelineRow } from './timelineTypes';

// A session as the memory panel pages through it. The seqs and kinds of a session's events
// come from the events index without reading a body (one query, kept per session version), so
// the first page of a 50,000-event session reads 200 bodies, not 50,000. Positions map to seqs
// through that list, turns are counted from its kinds. The growth series and search read
// bodies in chunks; the growth series is kept and extended as the session grows.

export class MemoryInputError extends Error {
  override readonly name = 'MemoryInputError';
}

interface SessionKeys {
  readonly version: number;
  readonly seqs: readonly number[];
  /** Turn number at each position (user messages up to and including it). */
  readonly turns: Int32Array;
}

interface GrowthCache {
  /** Positions summed so far. */
  covered: number;
  total: number;
  /** Earliest and latest own time of the events summed (they need not come in order). */
  startMs: number;
  endMs: number;
  /** The time of the newest event that counts for the time axis (null: none yet). */
  lastTimeMs: number | null;
  /** The newest counted event had a source time and no import cursor came since (one import batch). */
  inImport: boolean;
  /** Bookkeeping points before any counted event, with their own times (placed once one comes). */
  readonly pending: Array<{ readonly at: number; readonly ownMs: number }>;
  readonly points: GrowthPoint[];
  readonly requests: GrowthPoint[];
}

const readChunk = 2000;
const growthPoints = 300;
const searchMaxHits = 200;
const snippetChars = 160;

export class SessionTimeline {
  private readonly keys = new Map<string, SessionKeys>();
  private readonly growthCache = new Map<string, GrowthCache>();

  constructor(
    private readonly ledger: Ledger,
    private readonly counter: TokenCounter,
  ) {}

  private sessionKeys(sessionId: string): SessionKeys {
    const session = this.ledger.getSession(sessionId);
    if (!session) {
      throw new MemoryInputError(`there is no session ${sessionId}`);
    }
    const cached = this.keys.get(sessionId);
    if (cached && cached.version === session.version) {
      return cached;
    }
    const { seqs, questions } = this.ledger.sessionEventKeys(sessionId);
    const turns = new Int32Array(seqs.length);
    let turn = 0;
    for (let i = 0; i < questions.length; i++) {
      if (questions[i]) {
        turn++;
      }
      turns[i] = turn;
    }
    const keys = { version: session.version, seqs, turns };
    this.keys.set(sessionId, keys);
    return keys;
  }

  overview(sessionId: string): TimelineOverview {
    const session = this.ledger.getSession(sessionId);
    const keys = this.sessionKeys(sessionId);
    const pageStarts: number[] = [];
    for (let i = 0; i < keys.seqs.length; i += timelinePageSize) {
      pageStarts.push(keys.seqs[i]!);
    }
    return { sessionId, name: session?.name ?? sessionId, version: keys.version, eventCount: keys.seqs.length, turnCount: keys.turns.at(-1) ?? 0, pageSize: timelinePageSize, pageStarts };
  }

  /** Up to `limit` rows from the first event at or after `fromSeq`. */
  page(sessionId: string, fromSeq: number, limit = timelinePageSize): { version: number; rows: TimelineRow[] } {
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 0) {
      throw new MemoryInputError('"fromSeq" must be a whole number from 0');
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > timelineMaxRows) {
      throw new MemoryInputError(`"limit" must be a whole number from 1 to ${timelineMaxRows}`);
    }
    const keys = this.sessionKeys(sessionId);
    const start = lowerBound(keys.seqs, fromSeq);
    const end = Math.min(keys.seqs.length, start + limit);
    if (start >= end) {
      return { version: keys.version, rows: [] };
    }
    const events = this.ledger.readSession(sessionId, { fromSeq: keys.seqs[start]!, toSeq: keys.seqs[end - 1]! });
    const compactions = this.compactionRows(sessionId);
    return { version: keys.version, rows: events.map((event, offset) => timelineRow(event, start + offset, keys.turns[start + offset] ?? 0, this.counter, compactions)) };
  }

  /** Every event of positions [start, end) in chunks, for the scans that need bodies. */
  private *eventsOf(sessionId: string, keys: SessionKeys, start = 0): Generator<{ event: StoredEvent; index: number }> {
    for (let from = start; from < keys.seqs.length; from += readChunk) {
      const to = Math.min(keys.seqs.length, from + readChunk) - 1;
      const events = this.ledger.readSession(sessionId, { fromSeq: keys.seqs[from]!, toSeq: keys.seqs[to]! });
      for (let i = 0; i < events.length; i++) {
        yield { event: events[i]!, index: from + i };
      }
    }
  }

  growth(sessionId: string): GrowthSeries {
    const keys = this.sessionKeys(sessionId);
    let cache = this.growthCache.get(sessionId);
    if (!cache || cache.covered > keys.seqs.length) {
      cache = { covered: 0, total: 0, startMs: Infinity, endMs: -Infinity, lastTimeMs: null, inImport: false, pending: [], points: [], requests: [] };
      this.growthCache.set(sessionId, cache);
    }
    for (const { event, index } of this.eventsOf(sessionId, keys, cache.covered)) {
      const category = categoryOf(event);
      const tokens = tokensOf(event, this.counter);
      // An import's cursors, a start without a source time and a record of the batch whose time
      // was missing or bad were written when the import ran, not when the conversation happened:
      // on the time axis they sit with the event before them.
      const own = eventTimeMs(event);
      const bookkeeping = event.kind === 'import.cursor' || (!own.fromSource && (event.kind === 'session.started' || cache.inImport));
      if (event.kind === 'import.cursor') {
        cache.inImport = false;
      } else if (own.fromSource) {
        cache.inImport = true;
      }
      if (bookkeeping && cache.lastTimeMs === null) {
        cache.pending.push({ at: cache.points.length, ownMs: own.ms });
      }
      const timeMs = bookkeeping ? (cache.lastTimeMs ?? own.ms) : own.ms;
      if (!bookkeeping) {
        cache.startMs = Math.min(cache.startMs, timeMs);
        cache.endMs = Math.max(cache.endMs, timeMs);
        if (cache.lastTimeMs === null) {
          for (const { at } of cache.pending.splice(0)) {
            cache.points[at] = { ...cache.points[at]!, timeMs };
          }
        }
        cache.lastTimeMs = timeMs;
      }
      if (category === 'receipt') {
        cache.requests.push({ index, seq: event.seq, wallMs: event.wallMs, timeMs, tokens });
      } else if (category !== 'compaction' && category !== 'undo') {
        cache.total += category === 'imported' && event.kind !== 'import.thinking' ? 0 : tokens;
      }
      cache.points.push({ index, seq: event.seq, wallMs: event.wallMs, timeMs, tokens: cache.total });
      cache.covered = index + 1;
    }
    const points = cache.points;
    const timeAt = (index: number): number => points[Math.min(index, points.length - 1)]?.timeMs ?? 0;
    const compactions = this.ledger.listCompactions(sessionId).map((row) => {
      const index = lowerBound(keys.seqs, row.lastSeq);
      const firstIndex = lowerBound(keys.seqs, row.firstSeq);
      return { index, firstIndex, timeMs: timeAt(index), firstTimeMs: timeAt(firstIndex), savedTokens: row.sourceTokens - row.summaryTokens };
    });
    const counted = cache.lastTimeMs !== null;
    const timeSpan = points.length === 0 ? null : counted ? { startMs: cache.startMs, endMs: cache.endMs } : { startMs: Math.min(...cache.pending.map((item) => item.ownMs)), endMs: Math.max(...cache.pending.map((item) => item.ownMs)) };
    return { sessionId, eventCount: keys.seqs.length, totalTokens: cache.total, points: downsample(points, growthPoints), requests: downsample(cache.requests, growthPoints), compactions, timeSpan };
  }

  /** Events whose text holds `query` (case-insensitive), oldest first. */
  search(sessionId: string, query: string): SearchResult {
    const needle = query.trim().toLowerCase();
    if (needle.length === 0) {
      throw new MemoryInputError('write something to search for');
    }
    const keys = this.sessionKeys(sessionId);
    const hits: SearchResult['hits'][number][] = [];
    for (const { event, index } of this.eventsOf(sessionId, keys)) {
      const text = searchableText(event);
      const at = text.toLowerCase().indexOf(needle);
      if (at < 0) {
        continue;
      }
      if (hits.length === searchMaxHits) {
        return { query, hits, truncated: true };
      }
      const from = Math.max(0, at - snippetChars / 2);
      const snippet = `${from > 0 ? '…' : ''}${text.slice(from, from + snippetChars).replace(/\s+/g, ' ')}${from + snippetChars < text.length ? '…' : ''}`;
      hits.push({ index, seq: event.seq, category: categoryOf(event), snippet });
    }
    return { query, hits, truncated: false };
  }

  /** The raw events of a seq range (a compaction's source), for the side-by-side view. */
  rawRange(sessionId: string, firstSeq: number, lastSeq: number): TimelineRow[] {
    const keys = this.sessionKeys(sessionId);
    const start = lowerBound(keys.seqs, firstSeq);
    const end = lowerBound(keys.seqs, lastSeq + 1);
    if (end - start > 20_000) {
      throw new MemoryInputError(`the range holds ${end - start} events; the side-by-side view shows at most 20,000`);
    }
    const compactions = this.compactionRows(sessionId);
    const rows: TimelineRow[] = [];
    for (const { event, index } of this.eventsOf(sessionId, { ...keys, seqs: keys.seqs.slice(0, end) }, start)) {
      rows.push(timelineRow(event, index, keys.turns[index] ?? 0, this.counter, compactions));
    }
    return rows;
  }

  health(fs: FileSystem, sessionId: string | null, inFlight: boolean): StoreHealth {
    const stats = this.ledger.stats();
    const first = firstOf(this.ledger.allEvents());
    const days = first ? (Date.now() - first.wallMs) / 86_400_000 : 0;
    let snapshotMs: number | null = null;
    if (stats.snapshot) {
      try {
        snapshotMs = fs.statSync(path.join(stats.storeDir, 'snapshots', stats.snapshot.file)).mtimeMs;
      } catch {
        snapshotMs = null;
      }
    }
    return {
      storeDir: stats.storeDir,
      journalBytes: stats.journal.bytes,
      databaseBytes: stats.databaseBytes,
      snapshotBytes: stats.snapshot?.bytes ?? 0,
      eventCount: stats.eventCount,
      sessionCount: stats.sessionCount,
      bytesPerDay: days >= 1 ? Math.round(stats.journal.bytes / days) : null,
      firstEventMs: first?.wallMs ?? null,
      snapshotMs,
      eventsSinceSnapshot: stats.snapshot?.eventsSince ?? null,
      damagedRecords: stats.damagedRecords,
      barriers: sessionId ? this.barriers(sessionId, inFlight) : [],
    };
  }

  private barriers(sessionId: string, inFlight: boolean): string[] {
    if (!this.ledger.getSession(sessionId)) {
      return [];
    }
    try {
      checkBarrier(sessionId, this.ledger.readSession(sessionId, { last: 2000 }), inFlight);
      return [];
    } catch (error) {
      if (error instanceof CompactionBarrierError) {
        return [error.message];
      }
      throw error;
    }
  }

  private compactionRows(sessionId: string): Map<string, CompactionRow> {
    return new Map(this.ledger.listCompactions(sessionId, true).map((row) => [row.id, row]));
  }
}

function firstOf<T>(items: Iterable<T>): T | undefined {
  for (const item of items) {
    return item;
  }
  return undefined;
}

/** The first position whose seq is >= `seq`. */
function lowerBound(seqs: readonly number[], seq: number): number {
  return firstAtOrAfter(seqs, seq, (item) => item);
}
