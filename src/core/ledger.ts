import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { nodeFileSystem, type FileSystem } from './fs/fileSystem';
import { parseEventDraft, type JournalEvent, type StoredEvent } from './log/events';
import { HybridClock } from './log/hybridClock';
import { Journal, type JournalPosition, type PositionedRecord } from './log/journal';
import { encodeRecord } from './log/journalRecord';
import { UlidGenerator } from './log/ulid';
import { watchJournal } from './log/journalWatcher';
import { EventReader } from './store/eventReader';
import { SessionsModule } from './store/modules/sessionsModule';
import { CompactionsModule, listCompactions, type CompactionRow } from './store/modules/compactionsModule';
import { ImportCursorsModule } from './import/importCursorsModule';
import { PromptVersionsModule } from './store/modules/promptVersionsModule';
import { FactsModule } from './store/modules/factsModule';
import type { FactQueries } from './facts/factQueries';
import { RecoveryLog } from './store/recoveryLog';
import { describeLeftover, removeLeftoverFiles } from './store/leftoverFiles';
import type { ProjectionModule } from './store/modules/projectionModule';
import { StoreProjections, type AppendVerdict } from './store/projection';
import * as queries from './store/queries';
import { migrate, schemaVersion } from './store/schema';
import { loadNewestSnapshot } from './store/snapshots';
import { GroupCommit } from './store/groupCommit';
import { StoreMaintenance, type LatestSnapshot } from './store/storeMaintenance';
import { assertJournalCoversSnapshot, configureDatabase, prepareStoreFolder } from './store/storeFolder';
import { verifyStore, type VerifyReport } from './store/verifyStore';
import { WriterSlot } from './store/writerSlots';
import { loadSqlJs } from './store/sqlJsLoader';
import { readOrCreateManifest, type StoreManifest } from './store/storeManifest';
import { LedgerReadOnlyError, type LedgerChange, type LedgerOptions, type LedgerStats, type SnapshotOutcome } from './ledgerTypes';

export type { AppendVerdict } from './store/projection';
export type { DamagedSlot, SessionRange, SessionSummary } from './store/queries';
export type { VerifyReport } from './store/verifyStore';

export type { LedgerChange, LedgerOptions, LedgerStats, SnapshotOutcome } from './ledgerTypes';
export { LedgerReadOnlyError } from './ledgerTypes';

const defaultSnapshotEveryEvents = 5000;
const defaultSegmentMaxBytes = 64 * 1024 * 1024;
const catchUpPageRecords = 10_000;

/**
 * The engine of one store, a small facade over the journal (the truth), the projections
 * (sequencer and read modules in sql.js), and maintenance (snapshots, rotation). Appends are
 * group-committed (one write + fdatasync for every append that arrived in the same tick), then
 * read back through the same path as other writers' records, so the sequence number and verdict
 * an append gets are the ones every engine computes.
 */
export class Ledger {
  private readonly fs: FileSystem;
  private readonly journal: Journal;
  private readonly clock: HybridClock;
  private readonly ids: UlidGenerator;
  private readonly projections: StoreProjections;
  private readonly reader: EventReader;
  private position: JournalPosition;
  private readonly commits: GroupCommit;
  private readonly maintenance: StoreMaintenance;
  private readonly listeners = new Set<(change: LedgerChange) => void>();
  private readonly recoveryLog: RecoveryLog;
  private watcher: { dispose(): void } | undefined;
  private closed = false;

  private constructor(
    private readonly options: LedgerOptions,
    private readonly writer: WriterSlot | string,
    private readonly sql: SqlJsStatic,
    private readonly db: Database,
    private readonly manifest: StoreManifest,
    private readonly recovery: string[],
    latestSnapshot: LatestSnapshot | undefined,
    private openMs: number,
  ) {
    this.fs = options.fs ?? nodeFileSystem;
    this.clock = new HybridClock(options.now);
    this.ids = new UlidGenerator(options.now);
    this.journal = new Journal(this.fs, path.join(options.storeDir, 'journal'));
    this.recoveryLog = new RecoveryLog(this.fs, options.storeDir, this.journal, options.readOnly ?? false, recovery, (level, message) => this.log(level, message));
    this.reader = new EventReader(this.journal);
    this.projections = new StoreProjections(db, createModules(), this.reader);
    for (const backfill of this.projections.backfills) {
      recovery.push(`read model "${backfill.module}" was ${backfill.fromSeq === 0 ? 'new to this store' : `behind (at seq ${backfill.fromSeq})`}: filled from ${backfill.events} stored events`);
    }
    this.position = {
      segment: Number(queries.readMeta(db, 'journalSegment') ?? this.journal.firstSegment()),
      offset: Number(queries.readMeta(db, 'journalOffset') ?? 0),
    };
    this.clock.observe(queries.readMeta(db, 'hlc') ?? '');
    const host = {
      fs: this.fs,
      journal: this.journal,
      storeDir: options.storeDir,
      storeId: manifest.storeId,
      writerId: this.writerId,
      clock: this.clock,
      now: options.now ?? Date.now,
      ids: this.ids,
      projections: this.projections,
      db,
      lockStaleMs: options.lockStaleMs,
      position: () => this.position,
      catchUp: () => void this.catchUp(),
      log: (level: 'info' | 'warn' | 'error', message: string) => this.log(level, message),
    };
    this.maintenance = new StoreMaintenance(
      host,
      {
        snapshotEveryEvents: options.snapshotEveryEvents ?? defaultSnapshotEveryEvents,
        segmentMaxBytes: options.segmentMaxBytes ?? defaultSegmentMaxBytes,
        readOnly: options.readOnly ?? false,
      },
      latestSnapshot,
    );
    this.commits = new GroupCommit({
      ...host,
      applyOwn: (records, position) => void this.applyRecords(records, position),
      assertWritable: () => this.assertWritable(),
      afterBatch: () => this.maintenance.rotateIfFull(),
    });
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
    if (loaded) {
      try {
        assertJournalCoversSnapshot(journal, loaded.db, loaded.file.name, storeDir);
      } catch (error) {
        loaded.db.close();
        throw error;
      }
    }
    const db = loaded?.db ?? new sql.Database();
    migrate(db);
    configureDatabase(db);
    let writer: WriterSlot | string;
    try {
      writer = options.writerId ?? (readOnly ? 'reader' : WriterSlot.claim(fs, storeDir, options.writerKind ?? 'engine', options.lockStaleMs));
    } catch (error) {
      db.close();
      throw error;
    }
    const ledger = new Ledger({ ...options, storeDir }, writer, sql, db, manifest, recovery, loaded ? { file: loaded.file, bytes: loaded.bytes } : undefined, 0);
    try {
      ledger.catchUp();
      await ledger.recoverTail();
      ledger.maintenance.scheduleSnapshotIfDue();
    } catch (error) {
      ledger.close();
      throw error;
    }
    for (const message of recovery) {
      ledger.log('warn', message);
    }
    if (loaded?.migratedMs !== undefined) {
      ledger.log('info', `snapshot ${loaded.file.name} was written by an earlier layout; its tables were migrated in ${loaded.migratedMs.toFixed(0)} ms (once: the next snapshot is in this layout)`);
    }
    ledger.openMs = performance.now() - started;
    if (options.watch) {
      ledger.watcher = watchJournal(ledger.journal.directory, options.pollMs ?? 1000, () => ledger.catchUpIfOpen());
    }
    return ledger;
  }

  get storeDir(): string {
    return this.options.storeDir;
  }

  /** This engine's writer id, on every event it writes: stable per kind of writer and slot. */
  get writerId(): string {
    return typeof this.writer === 'string' ? this.writer : this.writer.writerId;
  }

  /** The sequence number of the last journal slot read (events, rejected and damaged records all take one). */
  get lastSeq(): number {
    return this.projections.lastSeq;
  }

  /** Listeners run after an append is durable; one that throws is logged, never fails the append. */
  onDidChange(listener: (change: LedgerChange) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Appends events; resolves once they are durable, with one verdict per event: appended (with
   * its seq), duplicate (id already stored), or conflict (expectedVersion was stale, or the
   * session state forbids it). Invalid drafts reject before anything is written. Each event has
   * its id before the first write, so re-sending the same drafts with ids never stores twice.
   */
  append(drafts: readonly unknown[]): Promise<AppendVerdict[]> {
    try {
      this.assertWritable();
      if (typeof this.writer !== 'string') {
        this.writer.ensureHeld();
      }
      return this.commits.enqueue(drafts.map(parseEventDraft));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Reads other writers' new records into the projections; returns how many events were accepted. */
  catchUp(): number {
    this.assertOpen();
    let applied = 0;
    // In pages: a replay of a million records never holds them all in memory at once.
    for (;;) {
      const read = this.journal.readFrom(this.position, { maxRecords: catchUpPageRecords });
      for (const note of read.notes) {
        this.recoveryLog.note(`note:${note}`, 'error', note);
      }
      const moved = read.position.segment !== this.position.segment || read.position.offset !== this.position.offset;
      if (read.records.length === 0 && !moved) {
        return applied;
      }
      applied += this.applyRecords(read.records, read.position);
      if (!read.more) {
        return applied;
      }
    }
  }

  /** Applies records in one transaction, moves to `position`, settles waiting appends. */
  private applyRecords(records: readonly PositionedRecord[], position: JournalPosition): number {
    const changedSessions = new Set<string>();
    const verdicts: Array<[JournalEvent, AppendVerdict]> = [];
    let applied = 0;
    this.projections.beginBatch();
    try {
      for (const record of records) {
        const outcome = this.projections.apply(record);
        if (outcome.type === 'damaged' && record.type === 'damaged') {
          this.recoveryLog.damaged(record, outcome.seq);
        } else if (record.type === 'record' && record.repaired) {
          this.recoveryLog.note(`repaired:${record.segment}:${record.offset}`, 'warn', `journal segment ${record.segment} offset ${record.offset} (seq ${outcome.seq}): ${record.repaired}`);
        }
        if (outcome.type !== 'event') {
          continue;
        }
        this.clock.observe(outcome.event.hlc);
        if (outcome.verdict.status === 'appended') {
          applied++;
          changedSessions.add(outcome.event.sessionId);
        }
        verdicts.push([outcome.event, outcome.verdict]);
      }
      this.projections.commit();
    } catch (error) {
      this.projections.rollback();
      throw error;
    }
    this.position = position;
    for (const [event, verdict] of verdicts) {
      this.commits.settle(event, verdict);
    }
    if (changedSessions.size > 0) {
      const change: LedgerChange = { sessionIds: [...changedSessions], lastSeq: this.lastSeq };
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (error) {
          // The events are durable and applied; a listener's failure is its own.
          this.log('error', `a change listener failed (the append itself succeeded): ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      this.maintenance.scheduleSnapshotIfDue();
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
    return queries.readSessionEvents(this.db, this.reader, id, range);
  }

  /** The seqs of a session's events and which are questions, without their bodies (a memory panel pages by them). */
  sessionEventKeys(id: string): { seqs: number[]; questions: boolean[] } {
    this.catchUpIfOpen();
    return queries.sessionEventKeys(this.db, id);
  }

  /** A session's compactions (CompactionsModule): those in force, or all with `includeUndone`. */
  listCompactions(sessionId: string, includeUndone = false): CompactionRow[] {
    this.catchUpIfOpen();
    return listCompactions(this.db, sessionId, includeUndone);
  }

  /** A read model of this store by its class, caught up with the journal first. */
  module<M extends ProjectionModule>(type: abstract new (...args: never[]) => M): M {
    this.catchUpIfOpen();
    const found = this.projections.modules.find((module): module is M => module instanceof type);
    if (!found) {
      throw new Error(`this store has no read model ${type.name}`);
    }
    return found;
  }

  /** The Facts read model, brought up to date with the journal first. */
  facts(): FactQueries {
    return this.module(FactsModule).queries;
  }

  /** Every stored event in seq order (export, verification). */
  allEvents(): Iterable<StoredEvent> {
    this.catchUpIfOpen();
    return queries.iterateEvents(this.db, this.reader);
  }

  stats(): LedgerStats {
    this.catchUpIfOpen();
    const segments = this.journal.listSegments();
    const bytes = segments.reduce((sum, segment) => sum + this.journal.segmentSize(segment), 0);
    const sessions = queries.countSessions(this.db);
    const latest = this.maintenance.latestSnapshot;
    return {
      storeDir: this.storeDir,
      storeId: this.manifest.storeId,
      writerId: this.writerId,
      readOnly: this.options.readOnly ?? false,
      // Read from the database, not assumed: stats and verify print the layout the store is in.
      schemaVersion: schemaVersion(this.db),
      eventCount: queries.countRows(this.db, 'events'),
      sessionCount: sessions.sessions,
      sessionEventCount: sessions.events,
      rejectedAppendCount: queries.countRows(this.db, 'rejected_appends'),
      lastSeq: this.lastSeq,
      journal: { segments: segments.length, bytes, position: this.position },
      snapshot: latest ? { file: latest.file.name, seq: latest.file.seq, bytes: latest.bytes, eventsSince: this.lastSeq - latest.file.seq } : null,
      databaseBytes: queries.databaseBytes(this.db),
      openMs: Math.round(this.openMs * 10) / 10,
      damagedRecords: queries.countRows(this.db, 'damaged_slots'),
      recovery: [...this.recoveryLog.entries],
    };
  }

  /**
   * Checks the store end to end at one journal position: every record's checksum, a replay of
   * the journal up to that position into a fresh database compared with the projections as they
   * were at that position, what each damaged record cost, SQLite's integrity check, and every
   * snapshot's checksum. The replay yields between pages, so the engine keeps answering.
   */
  async verify(): Promise<VerifyReport> {
    this.catchUp();
    return verifyStore({
      fs: this.fs,
      sql: this.sql,
      db: this.db,
      journal: this.journal,
      storeDir: this.storeDir,
      position: this.position,
      lastSeq: this.lastSeq,
      modules: this.projections.modules,
      createModules,
    });
  }

  /** Writes a snapshot of the projections now (if another engine is not already doing so). */
  snapshot(): SnapshotOutcome {
    this.assertWritable();
    return this.maintenance.snapshot();
  }

  /** Seals the active journal segment and starts the next one. */
  rotate(): boolean {
    this.assertWritable();
    return this.maintenance.rotate();
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.maintenance.dispose();
    this.watcher?.dispose();
    this.commits.abandon(new Error('the store was closed before this append was written'));
    if (typeof this.writer !== 'string') {
      this.writer.release();
    }
    this.journal.close();
    this.projections.dispose();
    this.db.close();
  }

  /**
   * At open, a record without its closing LF at the very end is either a write in progress in
   * another process or a write torn by a crash. Wait a moment; if it is still unfinished, copy
   * it to quarantine/ and write a void record after it, which ends it for every reader and
   * tells them it was never acknowledged.
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
    const quarantinedAs = this.recoveryLog.quarantine(tail.segment, tail.offset, tail.length);
    this.recoveryLog.push(
      `a torn write of ${tail.length} bytes ends journal segment ${tail.segment} (offset ${tail.offset}); it was never acknowledged${quarantinedAs ? `, and its bytes are kept in ${quarantinedAs}` : ''}`,
    );
    if (!this.options.readOnly) {
      this.journal.appendEncoded(tail.segment, encodeRecord({ formatVersion: 1, control: 'void', segment: tail.segment, offset: tail.offset, reason: 'torn write found at open' }));
      this.catchUp();
    }
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

/** The read models of this version, in the order they are applied. */
function createModules(): ProjectionModule[] {
  return [new SessionsModule(), new CompactionsModule(), new ImportCursorsModule(), new PromptVersionsModule(), new FactsModule()];
}
