import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { describeIoError, makeDirectoryDurable } from '../fs/durableFile';
import { fileExists, type FileSystem } from '../fs/fileSystem';
import type { Journal } from '../log/journal';
import { readMeta } from './queries';
import { listSnapshots } from './snapshots';
import { RepairableStoreError, StoreAccessError } from './storeManifest';

/** The journal ends before what the newest snapshot covers: restored from an older copy. */
export class JournalBehindSnapshotError extends RepairableStoreError {}

export function prepareStoreFolder(fs: FileSystem, storeDir: string, readOnly: boolean): void {
  if (readOnly) {
    if (!fileExists(fs, storeDir)) {
      throw new StoreAccessError(`there is no store at ${storeDir}`);
    }
    return;
  }
  try {
    makeDirectoryDurable(fs, storeDir);
    fs.accessSync(storeDir, nodeFs.constants.W_OK);
  } catch (error) {
    throw new StoreAccessError(
      `the store folder ${storeDir} cannot be written: ${describeIoError(error)}. Choose another folder (setting contextLedger.storePath, or --store) or fix its permissions; nothing was changed.`,
    );
  }
}

export function configureDatabase(db: Database): void {
  // The database lives in memory; its durability comes from the journal and the snapshots.
  // Exclusive locking: only this engine opens this in-memory database, and it spares SQLite a
  // hot-journal check (a file lookup in sql.js's virtual FS) at the start of every transaction.
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA locking_mode = EXCLUSIVE');
}

/**
 * A snapshot covers the journal up to a position. If the journal is shorter (restored from a
 * backup, or a copy that took journal/ before snapshots/), continuing would number new events
 * against records that are not there: stop, and say how to go on. Nothing is written.
 */
export function assertJournalCoversSnapshot(journal: Journal, db: Database, snapshotName: string, storeDir: string): void {
  const segment = Number(readMeta(db, 'journalSegment') ?? 0);
  const offset = Number(readMeta(db, 'journalOffset') ?? 0);
  if (segment === 0 || offset === 0) {
    return;
  }
  const size = journal.segmentExists(segment) ? journal.segmentSize(segment) : -1;
  if (size >= offset) {
    return;
  }
  const found = size < 0 ? `segment ${segment} does not exist` : `segment ${segment} has only ${size} bytes`;
  throw new JournalBehindSnapshotError(
    `the journal is shorter than snapshot ${snapshotName} says it was (it covers segment ${segment} up to byte ${offset}, but ${found}): the journal was restored from an older copy, or the snapshots come from a newer one. ` +
      `If the journal is the copy you trust, run \`context-ledger --store ${storeDir} repair\` to set the snapshots aside and rebuild from the journal; if not, restore the newer journal. Nothing was written.`,
  );
}

/** Moves every snapshot into snapshots/set-aside-<time>/ (kept for inspection, never read again). */
export function setAsideSnapshots(fs: FileSystem, storeDir: string): { folder: string; names: string[] } {
  const directory = path.join(storeDir, 'snapshots');
  const folder = path.join(directory, `set-aside-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const names = listSnapshots(fs, directory).map((file) => file.name);
  fs.mkdirSync(folder, { recursive: true });
  for (const name of names) {
    fs.renameSync(path.join(directory, name), path.join(folder, name));
  }
  return { folder, names };
}
