import * as path from 'node:path';
import type { Database } from 'sql.js';
import { describeIoError } from '../fs/durableFile';
import type { FileSystem } from '../fs/fileSystem';
import type { HybridClock } from '../log/hybridClock';
import type { Journal, JournalPosition } from '../log/journal';
import { encodeRecord, sealRecord } from '../log/journalRecord';
import { StoreLock } from '../log/storeLock';
import type { SnapshotOutcome } from '../ledgerTypes';
import type { StoreProjections } from './projection';
import { latestSchemaVersion } from './schema';
import { writeSnapshot, type SnapshotFile } from './snapshots';

/** What maintenance needs from the Ledger it keeps. */
export interface MaintenanceHost {
  readonly fs: FileSystem;
  readonly storeDir: string;
  readonly storeId: string;
  readonly writerId: string;
  readonly journal: Journal;
  readonly projections: StoreProjections;
  readonly db: Database;
  readonly clock: HybridClock;
  readonly lockStaleMs: number | undefined;
  position(): JournalPosition;
  catchUp(): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface MaintenancePolicy {
  /** Snapshot in the background after this many new events (0 = never). */
  readonly snapshotEveryEvents: number;
  /** Rotate the active segment past this size. */
  readonly segmentMaxBytes: number;
  readonly readOnly: boolean;
}

export interface LatestSnapshot {
  readonly file: SnapshotFile;
  readonly bytes: number;
}

/**
 * Snapshots and segment rotation: work any engine may do, one at a time per store (the
 * maintenance lock), never in the append path itself.
 */
export class StoreMaintenance {
  private readonly lock: StoreLock;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly host: MaintenanceHost,
    private readonly policy: MaintenancePolicy,
    private latest: LatestSnapshot | undefined,
  ) {
    this.lock = new StoreLock(host.fs, path.join(host.storeDir, 'locks'), 'maintenance', {
      writerId: host.writerId,
      ...(host.lockStaleMs !== undefined ? { staleMs: host.lockStaleMs } : {}),
    });
  }

  get latestSnapshot(): LatestSnapshot | undefined {
    return this.latest;
  }

  /**
   * Writes a snapshot of the projections now (if another engine is not already doing so).
   * sql.js export() must run between transactions; every append path is synchronous, so no
   * transaction is open when this runs.
   */
  snapshot(): SnapshotOutcome {
    if (!this.lock.tryAcquire()) {
      return { written: false, reason: 'another engine holds the maintenance lock' };
    }
    try {
      this.host.catchUp();
      const lastSeq = this.host.projections.lastSeq;
      if (this.latest && this.latest.file.seq === lastSeq && this.latest.file.layout === latestSchemaVersion) {
        return { written: false, reason: 'the newest snapshot is up to date' };
      }
      const started = performance.now();
      const position = this.host.position();
      // It may cover records whose own fdatasync failed: they must be durable before it is.
      this.host.journal.syncThrough(position.segment);
      this.host.projections.recordCoverage(position, this.host.clock.tick());
      // So `repair` can recover the store id from a snapshot when store.json is lost.
      this.host.projections.setMeta('storeId', this.host.storeId);
      const bytes = this.host.db.export();
      this.lock.assertHeld();
      const file = writeSnapshot(this.host.fs, path.join(this.host.storeDir, 'snapshots'), lastSeq, bytes);
      this.latest = { file, bytes: bytes.length };
      const ms = performance.now() - started;
      this.host.log('info', `snapshot ${file.name} written (${bytes.length} bytes, ${ms.toFixed(1)} ms)`);
      return { written: true, file: file.name, seq: file.seq, bytes: bytes.length, ms };
    } finally {
      this.lock.release();
    }
  }

  /** Seals the active journal segment and starts the next one. */
  rotate(): boolean {
    if (!this.lock.tryAcquire()) {
      return false;
    }
    try {
      this.host.catchUp();
      const current = this.host.position().segment;
      const next = current + 1;
      this.host.journal.createSegment(next);
      this.lock.assertHeld();
      this.host.journal.appendEncoded(current, encodeRecord(sealRecord(next)));
      this.host.catchUp();
      this.host.log('info', `journal segment ${current} sealed; appending to segment ${next}`);
      return true;
    } finally {
      this.lock.release();
    }
  }

  /** After a written batch: right after its read-back, our position is the end of the active segment. */
  rotateIfFull(): void {
    if (this.host.position().offset < this.policy.segmentMaxBytes) {
      return;
    }
    try {
      this.rotate();
    } catch (error) {
      this.host.log('warn', `journal rotation failed (appends continue in the current segment): ${describeIoError(error)}`);
    }
  }

  /**
   * After new events were applied, and at open: a snapshot once enough have arrived since the
   * last one, or when the last one is of an older layout (so the migration runs once).
   */
  scheduleSnapshotIfDue(): void {
    const every = this.policy.snapshotEveryEvents;
    if (every <= 0 || this.policy.readOnly || this.snapshotTimer || this.disposed) {
      return;
    }
    const since = this.host.projections.lastSeq - (this.latest?.file.seq ?? 0);
    const olderLayout = this.latest !== undefined && this.latest.file.layout < latestSchemaVersion;
    if (since < every && !olderLayout) {
      return;
    }
    // Not in the append path: after a short quiet moment, on the engine's own thread.
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      if (this.disposed) {
        return;
      }
      try {
        this.snapshot();
      } catch (error) {
        this.host.log('warn', `background snapshot failed; the previous snapshot and the journal are intact: ${describeIoError(error)}`);
      }
    }, 200);
    this.snapshotTimer.unref();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.snapshotTimer);
    this.lock.release();
  }
}
