import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { makeDirectoryDurable, writeFileAtomic } from '../fs/durableFile';
import { errorCode, listFolder, type FileSystem } from '../fs/fileSystem';
import { OutdatedDatabaseError, StoreTooNewError, migrate } from './schema';

// Snapshots of the projection database. The file name carries the sequence number it covers
// and a SHA-256 prefix of its bytes, so a snapshot describes itself and a damaged one (flipped
// bytes, truncated, empty, not SQLite) is recognised before it is trusted. A new snapshot never
// replaces an old one in place: it gets its own name, and older ones are removed only after it
// is durable.
const snapshotPattern = /^snapshot-(\d{12})-([0-9a-f]{16})\.sqlite$/;
const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');
export const keptSnapshots = 2;

export interface SnapshotFile {
  readonly name: string;
  readonly seq: number;
  readonly digest: string;
}

export interface LoadedSnapshot {
  readonly file: SnapshotFile;
  readonly db: Database;
  readonly bytes: number;
}

export interface SnapshotProblem {
  readonly file: string;
  readonly reason: string;
  readonly movedTo?: string;
}

export function snapshotName(seq: number, bytes: Uint8Array): string {
  return `snapshot-${seq.toString().padStart(12, '0')}-${digestOf(bytes)}.sqlite`;
}

function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export function listSnapshots(fs: FileSystem, directory: string): SnapshotFile[] {
  const names = listFolder(fs, directory);
  return names
    .map((name) => ({ name, match: snapshotPattern.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({ name, seq: Number(match[1]), digest: match[2]! }))
    .sort((a, b) => b.seq - a.seq || a.name.localeCompare(b.name));
}

/** Why a snapshot's bytes cannot be trusted, or undefined if they can. */
export function checkSnapshotBytes(file: SnapshotFile, bytes: Buffer): string | undefined {
  if (bytes.length === 0) {
    return 'the file is empty';
  }
  if (bytes.length < 100 || !bytes.subarray(0, 16).equals(sqliteHeader)) {
    return 'the file is not an SQLite database';
  }
  if (digestOf(bytes) !== file.digest) {
    return 'its checksum does not match (damaged or truncated)';
  }
  return undefined;
}

/**
 * Loads the newest trustworthy snapshot. Damaged ones are moved to `corrupt/` (unless
 * read-only) and reported; a snapshot from a newer schema stops the open without touching it.
 */
export function loadNewestSnapshot(
  fs: FileSystem,
  directory: string,
  sql: SqlJsStatic,
  options: { readOnly: boolean },
): { loaded?: LoadedSnapshot; problems: SnapshotProblem[] } {
  const problems: SnapshotProblem[] = [];
  for (const file of listSnapshots(fs, directory)) {
    const full = path.join(directory, file.name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(full);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        continue; // removed by another engine's cleanup while we listed
      }
      throw error;
    }
    let reason = checkSnapshotBytes(file, bytes);
    let db: Database | undefined;
    if (!reason) {
      // The checksum proves these are the bytes an export of a consistent database produced, so
      // SQLite's quick_check (150 ms on 10 MB) is left to `verify`.
      try {
        db = new sql.Database(bytes);
        migrate(db);
      } catch (error) {
        if (error instanceof StoreTooNewError) {
          db?.close();
          throw error;
        }
        if (error instanceof OutdatedDatabaseError) {
          // Derived data in an older layout: rebuilt from the journal, and removed.
          db?.close();
          if (!options.readOnly) {
            try {
              fs.unlinkSync(full);
            } catch {
              // Another engine removed it first.
            }
          }
          problems.push({ file: file.name, reason: `written by an earlier version (${error.message}); removed` });
          continue;
        }
        reason = `SQLite cannot read it: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (!reason && db) {
      return { loaded: { file, db, bytes: bytes.length }, problems };
    }
    db?.close();
    problems.push(quarantine(fs, directory, file.name, reason ?? 'unreadable', options.readOnly));
  }
  return { problems };
}

function quarantine(fs: FileSystem, directory: string, name: string, reason: string, readOnly: boolean): SnapshotProblem {
  if (readOnly) {
    return { file: name, reason };
  }
  const corruptDirectory = path.join(directory, 'corrupt');
  const movedTo = path.join(corruptDirectory, `${name}.${Date.now()}`);
  try {
    fs.mkdirSync(corruptDirectory, { recursive: true });
    fs.renameSync(path.join(directory, name), movedTo);
    return { file: name, reason, movedTo };
  } catch {
    return { file: name, reason };
  }
}

/**
 * Writes `bytes` as the snapshot covering `seq` (temp file, fsync, rename, directory fsync),
 * then removes snapshots older than the newest `keptSnapshots`. Throws DurableWriteError on
 * failure, leaving earlier snapshots as they were.
 */
export function writeSnapshot(fs: FileSystem, directory: string, seq: number, bytes: Uint8Array): SnapshotFile {
  // The folder's own name must survive a power cut too, or every snapshot in it is lost.
  makeDirectoryDurable(fs, directory);
  const name = snapshotName(seq, bytes);
  writeFileAtomic(fs, path.join(directory, name), bytes);
  const written = listSnapshots(fs, directory);
  for (const old of written.slice(keptSnapshots)) {
    try {
      fs.unlinkSync(path.join(directory, old.name));
    } catch {
      // Another engine removed it first.
    }
  }
  return written.find((file) => file.name === name) ?? { name, seq, digest: name.slice(-23, -7) };
}
