import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { describeIoError, writeFileAtomic } from './fs/durableFile';
import { errorCode, fileExists, nodeFileSystem, type FileSystem } from './fs/fileSystem';
import { parseEventDraft, type EventDraft, type LoggedEvent, type StoredEvent } from './log/events';
import { HybridClock } from './log/hybridClock';
import { Journal, JournalWriteError, type JournalPosition, type PositionedRecord } from './log/journal';
import { encodeRecord } from './log/journalRecord';
import { StoreLock } from './log/storeLock';
import { UlidGenerator } from './log/ulid';
import { Projection, type AppendVerdict } from './store/projection';
import { describeLeftover, removeLeftoverFiles } from './store/leftoverFiles';
import * as queries from './store/queries';
import { latestSchemaVersion, migrate } from './store/schema';
import { checkSnapshotBytes, listSnapshots, loadNewestSnapshot, writeSnapshot, type SnapshotFile } from './store/snapshots';
import { loadSqlJs } from './store/sqlJsLoader';
import { StoreAccessError, readOrCreateManifest, type StoreManifest } from './store/storeManifest';

export type { AppendVerdict } from './store/projection';
export type { SessionRange, SessionSummary } from './store/queries';

export interface LedgerOptions {
  readonly storeDir: string;
  /** Open without writing anything (CLI inspection of a store another engine owns). */
  readonly readOnly?: boolean;
  readonly writerId?: string;
  readonly fs?: FileSystem;
  readonly wasmPath?: string;
  /** Snapshot in the background after this many new events (default 5000; 0 = never). */
  readonly snapshotEveryEvents?: number;
  /** Rotate the journal segment past this size (default 64 MiB). */
  readonly segmentMaxBytes?: number;
  readonly lockStaleMs?: number;
  /** Follow other writers' appends as they happen (fs.watch plus a poll). */
  readonly watch?: boolean;
  readonly pollMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface LedgerChange {
  readonly sessionIds: readonly string[];
  readonly lastSeq: number;
}

export interface DamagedRecord {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
  /** A write cut short by a crash: never acknowledged, so nothing is lost by skipping it. */
  readonly torn: boolean;
  readonly quarantinedAs?: string;
}

export interface LedgerStats {
  readonly storeDir: string;
  readonly storeId: string;
  readonly writerId: string;
  readonly readOnly: boolean;
  readonly schemaVersion: number;
  readonly eventCount: number;
  readonly sessionCount: number;
  readonly rejectedAppendCount: number;
  readonly lastSeq: number;
  readonly journal: { readonly segments: number; readonly bytes: number; readonly position: JournalPosition };
  readonly snapshot: { readonly file: string; readonly seq: number; readonly bytes: number; readonly eventsSince: number } | null;
  readonly databaseBytes: number;
  readonly openMs: number;
  readonly damagedRecords: number;
  readonly recovery: readonly string[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly eventCount: number;
  readonly recordCount: number;
  readonly segments: number;
  readonly snapshotsChecked: number;
  /** Things that mean data may be lost or the store disagrees with its journal. */
  readonly problems: readonly string[];
  /** Things that were recovered from and lost nothing acknowledged. */
  readonly warnings: readonly string[];
}

export type SnapshotOutcome =
  | { readonly written: true; readonly file: string; readonly seq: number; readonly bytes: number; readonly ms: number }
  | { readonly written: false; readonly reason: string };

export class LedgerReadOnlyError extends Error {
  override readonly name = 'LedgerReadOnlyError';
}

interface PendingAppend {
  readonly events: LoggedEvent[];
  readonly resolve: (verdicts: AppendVerdict[]) => void;
  readonly reject: (error: unknown) => void;
}

const defaultSnapshotEveryEvents = 5000;
const defaultSegmentMaxBytes = 64 * 1024 * 1024;
const sealRetries = 4;

/**
 * The engine of one store: the journal is the truth, sql.js holds projections of it. Appends
 * are group-committed (one write + fdatasync for every append that arrived in the same tick),
 * then read back through the same path as other writers' records, so the sequence number and
 * verdict an append gets are the ones every engine computes.
 */
export class Ledger {
  private readonly fs: FileSystem;
  private readonly journal: Journal;
  private readonly lock: StoreLock;
  private readonly clock = new HybridClock();
  private readonly ids = new UlidGenerator();
  private projection: Projection;
  private position: JournalPosition;
  private readonly queue: PendingAppend[] = [];
  private flushScheduled = false;
  private readonly awaiting = new Map<string, (verdict: AppendVerdict) => void>();
  private readonly listeners = new Set<(change: LedgerChange) => void>();
  private readonly damaged = new Map<string, DamagedRecord>();
  private latestSnapshot: { file: SnapshotFile; bytes: number } | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private watcher: nodeFs.FSWatcher | undefined;
  private catchUpScheduled = false;
  private closed = false;

  private constructor(
    private readonly options: LedgerOptions,
    readonly writerId: string,
    private readonly sql: SqlJsStatic,
    private db: Database,
    private readonly manifest: StoreManifest,
    private readonly recovery: string[],
    private openMs: number,
  ) {
    this.fs = options.fs ?? nodeFileSystem;
    this.journal = new Journal(this.fs, path.join(options.storeDir, 'journal'));
    this.lock = new StoreLock(this.fs, path.join(options.storeDir, 'locks'), 'maintenance', {
      writerId,
      ...(options.lockStaleMs !== undefined ? { staleMs: options.lockStaleMs } : {}),
    });
    this.projection = new Projection(db);
    this.position = {
      segment: Number(queries.readMeta(db, 'journalSegment') ?? this.journal.firstSegment()),
      offset: Number(queries.readMeta(db, 'journalOffset') ?? 0),
    };
    this.clock.observe(queries.readMeta(db, 'hlc') ?? '');
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    const started = performance.now();
    const fs = options.fs ?? nodeFileSystem;
    const readOnly = options.readOnly ?? false;
    const storeDir = path.resolve(options.storeDir);
    prepareStoreFolder(fs, storeDir, readOnly);
    const manifest = readOrCreateManifest(fs, storeDir, readOnly);
    const journal = new Journal(fs, path.join(storeDir, 'journal'));
    if (!readOnly) {
      journal.initialize();
    }
    const sql = await loadSqlJs(options.wasmPath);
    const recovery: string[] = [];
    recovery.push(...(readOnly ? [] : removeLeftoverFiles(fs, storeDir).map(describeLeftover)));
    const { loaded, problems } = loadNewestSnapshot(fs, path.join(storeDir, 'snapshots'), sql, { readOnly });
    for (const problem of problems) {
      recovery.push(
        `snapshot ${problem.file} was not used: ${problem.reason}${problem.movedTo ? `; moved to ${problem.movedTo}` : ''}. The projections were rebuilt from ${loaded ? `an older snapshot (${loaded.file.name}) and ` : ''}the journal.`,
      );
    }
    const db = loaded?.db ?? new sql.Database();
    migrate(db);
    configureDatabase(db);
    const ledger = new Ledger({ ...options, storeDir }, options.writerId ?? `w-${new UlidGenerator().next()}`, sql, db, manifest, recovery, 0);
    if (loaded) {
      ledger.latestSnapshot = { file: loaded.file, bytes: loaded.bytes };
    }
    try {
      ledger.catchUp();
      await ledger.recoverTail();
    } catch (error) {
      ledger.close();
      throw error;
    }
    for (const message of recovery) {
      ledger.log('warn', message);
    }
    ledger.openMs = performance.now() - started;
    if (options.watch) {
      ledger.startWatching();
    }
    return ledger;
  }

  get storeDir(): string {
    return this.options.storeDir;
  }

  get lastSeq(): number {
    return this.projection.latestSeq;
  }

  onDidChange(listener: (change: LedgerChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Appends events; resolves once they are durable, with one verdict per event: appended (with
   * its seq), duplicate (id already stored), or conflict (expectedVersion was stale, or the
   * session state forbids it). Invalid drafts reject before anything is written.
   */
  append(drafts: readonly unknown[]): Promise<AppendVerdict[]> {
    let events: LoggedEvent[];
    try {
      this.assertWritable();
      events = drafts.map((draft) => this.stamp(parseEventDraft(draft)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
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

  /** Reads other writers' new records into the projections; returns how many were applied. */
  catchUp(): number {
    this.assertOpen();
    const read = this.journal.readFrom(this.position);
    const moved = read.position.segment !== this.position.segment || read.position.offset !== this.position.offset;
    if (read.records.length === 0 && !moved) {
      return 0;
    }
    return this.applyRecords(read.records, read.position);
  }

  /** Applies records in one transaction, moves to `position`, settles waiting appends. */
  private applyRecords(records: readonly PositionedRecord[], position: JournalPosition): number {
    const changedSessions = new Set<string>();
    const verdicts: Array<[string, AppendVerdict]> = [];
    let applied = 0;
    this.projection.begin();
    try {
      for (const record of records) {
        if (record.type === 'damaged') {
          this.noteDamaged(record);
          continue;
        }
        const event = record.payload as LoggedEvent;
        this.clock.observe(event.hlc);
        const verdict = this.projection.apply(event, record.segment, record.offset);
        if (verdict.status === 'appended') {
          applied++;
          changedSessions.add(event.sessionId);
        }
        verdicts.push([awaitKey(event), verdict]);
      }
      this.projection.commit();
    } catch (error) {
      this.projection.rollback();
      throw error;
    }
    this.position = position;
    for (const [key, verdict] of verdicts) {
      const resolve = this.awaiting.get(key);
      if (resolve) {
        this.awaiting.delete(key);
        resolve(verdict);
      }
    }
    if (changedSessions.size > 0) {
      const change: LedgerChange = { sessionIds: [...changedSessions], lastSeq: this.lastSeq };
      for (const listener of this.listeners) {
        listener(change);
      }
      this.maybeScheduleSnapshot();
    }
    return applied;
  }

  listSessions(): queries.SessionSummary[] {
    this.catchUpIfOpen();
    return queries.listSessions(this.db);
  }

  getSession(id: string): queries.SessionSummary | undefined {
    this.catchUpIfOpen();
    return queries.getSession(this.db, id);
  }

  readSession(id: string, range: queries.SessionRange = {}): StoredEvent[] {
    this.catchUpIfOpen();
    return queries.readSessionEvents(this.db, id, range);
  }

  /** Every stored event in seq order (export, verification). */
  allEvents(): Iterable<StoredEvent> {
    this.catchUpIfOpen();
    return queries.iterateEvents(this.db);
  }

  stats(): LedgerStats {
    this.catchUpIfOpen();
    const segments = this.journal.listSegments();
    const bytes = segments.reduce((sum, segment) => sum + this.journal.segmentSize(segment), 0);
    return {
      storeDir: this.storeDir,
      storeId: this.manifest.storeId,
      writerId: this.writerId,
      readOnly: this.options.readOnly ?? false,
      schemaVersion: latestSchemaVersion,
      eventCount: queries.countRows(this.db, 'events'),
      sessionCount: queries.countRows(this.db, 'sessions'),
      rejectedAppendCount: queries.countRows(this.db, 'rejected_appends'),
      lastSeq: this.lastSeq,
      journal: { segments: segments.length, bytes, position: this.position },
      snapshot: this.latestSnapshot
        ? {
            file: this.latestSnapshot.file.name,
            seq: this.latestSnapshot.file.seq,
            bytes: this.latestSnapshot.bytes,
            eventsSince: this.lastSeq - this.latestSnapshot.file.seq,
          }
        : null,
      databaseBytes: queries.databaseBytes(this.db),
      openMs: Math.round(this.openMs * 10) / 10,
      damagedRecords: this.damaged.size,
      recovery: [...this.recovery],
    };
  }

  /**
   * Checks the store end to end: every journal record's checksum, a full replay of the journal
   * into a fresh database compared with the live projections, SQLite's integrity check, and
   * every snapshot's checksum.
   */
  verify(): VerifyReport {
    this.catchUp();
    const problems: string[] = [];
    const warnings: string[] = [];
    const full = this.journal.readFrom({ segment: this.journal.firstSegment(), offset: 0 });
    const replayDb = new this.sql.Database();
    let recordCount = 0;
    try {
      migrate(replayDb);
      const replay = new Projection(replayDb);
      replay.begin();
      for (const record of full.records) {
        if (record.type === 'damaged') {
          const described = `${record.length} bytes at segment ${record.segment} offset ${record.offset}: ${record.reason}`;
          if (isTorn(record)) {
            warnings.push(`skipped a torn write (never acknowledged) of ${described}`);
          } else {
            problems.push(`damaged journal record of ${described}`);
          }
          continue;
        }
        recordCount++;
        replay.apply(record.payload as LoggedEvent, record.segment, record.offset);
      }
      replay.commit();
      replay.dispose();
      if (full.incompleteTail) {
        warnings.push(`segment ${full.incompleteTail.segment} ends in ${full.incompleteTail.length} bytes of an unfinished record (a torn write, or a write in progress)`);
      }
      const live = digestEvents(this.db);
      const replayed = digestEvents(replayDb);
      if (live.count !== replayed.count || live.digest !== replayed.digest) {
        problems.push(`the projections (${live.count} events) disagree with a full replay of the journal (${replayed.count} events)`);
      }
      if (digestSessions(this.db) !== digestSessions(replayDb)) {
        problems.push('the sessions table disagrees with a full replay of the journal');
      }
    } finally {
      replayDb.close();
    }
    const integrity = String(this.db.exec('PRAGMA integrity_check')[0]?.values[0]?.[0]);
    if (integrity !== 'ok') {
      problems.push(`SQLite integrity check of the projections: ${integrity}`);
    }
    const snapshotDir = path.join(this.storeDir, 'snapshots');
    const snapshots = listSnapshots(this.fs, snapshotDir);
    for (const file of snapshots) {
      try {
        const reason = checkSnapshotBytes(file, this.fs.readFileSync(path.join(snapshotDir, file.name)));
        if (reason) {
          problems.push(`snapshot ${file.name}: ${reason}`);
        }
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') {
          problems.push(`snapshot ${file.name} cannot be read: ${describeIoError(error)}`);
        }
      }
    }
    return {
      ok: problems.length === 0,
      eventCount: this.lastSeq,
      recordCount,
      segments: this.journal.listSegments().length,
      snapshotsChecked: snapshots.length,
      problems,
      warnings,
    };
  }

  /**
   * Writes a snapshot of the projections now (if another engine is not already doing so).
   * sql.js export() must run between transactions; every append path here is synchronous, so
   * no transaction is open when this runs.
   */
  snapshot(): SnapshotOutcome {
    this.assertWritable();
    if (!this.lock.tryAcquire()) {
      return { written: false, reason: 'another engine holds the maintenance lock' };
    }
    try {
      this.catchUp();
      if (this.latestSnapshot && this.latestSnapshot.file.seq === this.lastSeq) {
        return { written: false, reason: 'the newest snapshot is up to date' };
      }
      const started = performance.now();
      this.projection.recordCoverage(this.position, this.clock.tick());
      this.projection.setMeta('storeId', this.manifest.storeId); // lets `repair` recover the id
      const bytes = this.db.export();
      this.lock.assertHeld();
      const file = writeSnapshot(this.fs, path.join(this.storeDir, 'snapshots'), this.lastSeq, bytes);
      this.latestSnapshot = { file, bytes: bytes.length };
      const ms = performance.now() - started;
      this.log('info', `snapshot ${file.name} written (${bytes.length} bytes, ${ms.toFixed(1)} ms)`);
      return { written: true, file: file.name, seq: file.seq, bytes: bytes.length, ms };
    } finally {
      this.lock.release();
    }
  }

  /** Seals the active journal segment and starts the next one. */
  rotate(): boolean {
    this.assertWritable();
    if (!this.lock.tryAcquire()) {
      return false;
    }
    try {
      this.catchUp();
      const current = this.position.segment;
      const next = current + 1;
      this.journal.createSegment(next);
      this.lock.assertHeld();
      this.journal.appendEncoded(current, encodeRecord({ formatVersion: 1, control: 'seal', nextSegment: next }));
      this.catchUp();
      this.log('info', `journal segment ${current} sealed; appending to segment ${next}`);
      return true;
    } finally {
      this.lock.release();
    }
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearTimeout(this.snapshotTimer);
    clearInterval(this.pollTimer);
    this.watcher?.close();
    const error = new Error('the store was closed before this append was written');
    for (const pending of this.queue.splice(0)) {
      pending.reject(error);
    }
    this.lock.release();
    this.journal.close();
    this.projection.dispose();
    this.db.close();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) {
      return;
    }
    const verdicts = new Map<string, AppendVerdict>();
    try {
      this.assertWritable();
      let remaining = batch.flatMap((pending) => pending.events);
      for (let attempt = 0; attempt <= sealRetries && remaining.length > 0; attempt++) {
        for (const event of remaining) {
          this.awaiting.set(awaitKey(event), (verdict) => verdicts.set(awaitKey(event), verdict));
        }
        // No catch-up before writing: if another writer sealed this segment meanwhile, the
        // read-back below finds our records void and the next attempt uses the new segment.
        const before = this.position;
        const encoded = remaining.map((event) => encodeRecord(event));
        const bytes = Buffer.concat(encoded);
        const sizeAfter = this.journal.appendEncoded(before.segment, bytes);
        if (sizeAfter === before.offset + bytes.length) {
          // The segment grew by exactly our write, so the bytes after our position are ours:
          // apply the events we hold instead of reading and decoding them back.
          let offset = before.offset;
          const records = remaining.map((event, index): PositionedRecord => {
            const record = { type: 'record' as const, segment: before.segment, offset, length: encoded[index]!.length, payload: event };
            offset += record.length;
            return record;
          });
          this.applyRecords(records, { segment: before.segment, offset: sizeAfter });
        } else {
          this.catchUp();
        }
        remaining = remaining.filter((event) => !verdicts.has(awaitKey(event)));
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
        this.log('error', error.message);
      }
      return;
    }
    this.maybeRotate();
  }

  private stamp(draft: EventDraft): LoggedEvent {
    return {
      formatVersion: 1,
      id: draft.id ?? this.ids.next(),
      kind: draft.kind,
      sessionId: draft.sessionId,
      parentId: draft.parentId ?? null,
      writerId: this.writerId,
      hlc: this.clock.tick(),
      wallMs: Date.now(),
      ...(draft.expectedVersion !== undefined ? { expectedVersion: draft.expectedVersion } : {}),
      body: draft.body,
    } as LoggedEvent;
  }

  private maybeRotate(): void {
    const limit = this.options.segmentMaxBytes ?? defaultSegmentMaxBytes;
    // Right after a read-back, our position is the end of the active segment.
    if (this.position.offset < limit) {
      return;
    }
    try {
      this.rotate();
    } catch (error) {
      this.log('warn', `journal rotation failed (appends continue in the current segment): ${describeIoError(error)}`);
    }
  }

  private maybeScheduleSnapshot(): void {
    const every = this.options.snapshotEveryEvents ?? defaultSnapshotEveryEvents;
    if (every <= 0 || this.options.readOnly || this.snapshotTimer || this.closed) {
      return;
    }
    const since = this.lastSeq - (this.latestSnapshot?.file.seq ?? 0);
    if (since < every) {
      return;
    }
    // Not in the append path: after a short quiet moment, on the engine's own thread.
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      if (this.closed) {
        return;
      }
      try {
        this.snapshot();
      } catch (error) {
        this.log('warn', `background snapshot failed; the previous snapshot and the journal are intact: ${describeIoError(error)}`);
      }
    }, 200);
    this.snapshotTimer.unref();
  }

  /**
   * At open, a record without its closing LF at the very end is either a write in progress in
   * another process or a write torn by a crash. Wait a moment; if it is still unfinished, copy
   * it to quarantine/ and leave it out of the log. It is not truncated: another writer may be
   * appending right behind it, and the next record's separator ends it for every reader.
   */
  private async recoverTail(): Promise<void> {
    let tail = this.journal.readFrom(this.position).incompleteTail;
    if (!tail) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.catchUp();
    tail = this.journal.readFrom(this.position).incompleteTail;
    if (!tail) {
      return;
    }
    const quarantinedAs = this.quarantine(tail.segment, tail.offset, tail.length);
    this.recovery.push(
      `cut off ${tail.length} bytes of a torn record at the end of journal segment ${tail.segment} (offset ${tail.offset}); it was never acknowledged${quarantinedAs ? `, and its bytes are kept in ${quarantinedAs}` : ''}`,
    );
  }

  private noteDamaged(record: PositionedRecord & { type: 'damaged' }): void {
    const key = `${record.segment}:${record.offset}`;
    if (this.damaged.has(key)) {
      return;
    }
    const torn = isTorn(record);
    const quarantinedAs = this.quarantine(record.segment, record.offset, record.length);
    this.damaged.set(key, { segment: record.segment, offset: record.offset, length: record.length, reason: record.reason, torn, ...(quarantinedAs ? { quarantinedAs } : {}) });
    const message = `skipped ${record.length} bytes at journal segment ${record.segment} offset ${record.offset} (${record.reason})${quarantinedAs ? `; kept in ${quarantinedAs}` : ''}`;
    this.recovery.push(message);
    this.log(torn ? 'warn' : 'error', message);
  }

  private quarantine(segment: number, offset: number, length: number): string | undefined {
    if (this.options.readOnly) {
      return undefined;
    }
    const target = path.join(this.storeDir, 'quarantine', `segment-${segment}-offset-${offset}.bin`);
    try {
      if (!fileExists(this.fs, target)) {
        this.fs.mkdirSync(path.dirname(target), { recursive: true });
        writeFileAtomic(this.fs, target, this.journal.readBytes(segment, offset, length));
      }
      return target;
    } catch (error) {
      this.log('warn', `could not copy damaged journal bytes to ${target}: ${describeIoError(error)}`);
      return undefined;
    }
  }

  private startWatching(): void {
    const schedule = (): void => {
      if (this.catchUpScheduled || this.closed) {
        return;
      }
      this.catchUpScheduled = true;
      setImmediate(() => {
        this.catchUpScheduled = false;
        this.catchUpIfOpen();
      });
    };
    try {
      this.watcher = nodeFs.watch(this.journal.directory, schedule);
      this.watcher.on('error', () => undefined);
    } catch {
      // Some file systems cannot be watched; the poll below still follows other writers.
    }
    this.pollTimer = setInterval(schedule, this.options.pollMs ?? 1000);
    this.pollTimer.unref();
  }

  private catchUpIfOpen(): void {
    if (this.closed) {
      return;
    }
    try {
      this.catchUp();
    } catch (error) {
      this.log('error', `could not read new journal records: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new Error('the store is closed');
    }
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.options.readOnly) {
      throw new LedgerReadOnlyError('the store was opened read-only');
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

function awaitKey(event: LoggedEvent): string {
  return `${event.id}\u0000${event.writerId}\u0000${event.hlc}`;
}

function isTorn(record: { reason: string }): boolean {
  return record.reason.startsWith('record cut short');
}

function configureDatabase(db: Database): void {
  // The database lives in memory; its durability comes from the journal and the snapshots.
  // Exclusive locking: only this engine opens this in-memory database, and it spares SQLite a
  // hot-journal check (a file lookup in sql.js's virtual FS) at the start of every transaction.
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA locking_mode = EXCLUSIVE');
}

function prepareStoreFolder(fs: FileSystem, storeDir: string, readOnly: boolean): void {
  if (readOnly) {
    if (!fileExists(fs, storeDir)) {
      throw new StoreAccessError(`there is no store at ${storeDir}`);
    }
    return;
  }
  try {
    fs.mkdirSync(storeDir, { recursive: true });
    fs.accessSync(storeDir, nodeFs.constants.W_OK);
  } catch (error) {
    throw new StoreAccessError(
      `the store folder ${storeDir} cannot be written: ${describeIoError(error)}. Choose another folder (setting contextLedger.storePath, or --store) or fix its permissions; nothing was changed.`,
    );
  }
}

function digestEvents(db: Database): { count: number; digest: string } {
  const row = db.exec("SELECT COUNT(*), COALESCE(group_concat(seq || ':' || id || ':' || session_id, ','), '') FROM (SELECT seq, id, session_id FROM events ORDER BY seq)")[0]?.values[0];
  return { count: Number(row?.[0] ?? 0), digest: String(row?.[1] ?? '') };
}

function digestSessions(db: Database): string {
  return String(
    db.exec("SELECT COALESCE(group_concat(id || ':' || name || ':' || version || ':' || turn_count || ':' || closed, ','), '') FROM (SELECT * FROM sessions ORDER BY id)")[0]?.values[0]?.[0] ?? '',
  );
}
