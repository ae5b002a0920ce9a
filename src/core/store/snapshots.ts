import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Database, SqlJsStatic } from 'sql.js';
import { makeDirectoryDurable, writeFileAtomic } from '../fs/durableFile';
import { errorCode, listFolder, type FileSystem } from '../fs/fileSystem';
import { crc32Hex } from '../log/crc32';
import { OutdatedDatabaseError, StoreTooNewError, latestSchemaVersion, migrate } from './schema';

// Snapshots of the projection database. The file name carries the sequence number it covers
// and a checksum of its bytes, so a snapshot describes itself and a damaged one (flipped bytes,
// truncated, empty, not SQLite) is recognised before it is trusted. A new snapshot never
// replaces an old one in place: it gets its own name, and older ones are removed only after it
// is durable. The checksum is a CRC-32 (`crc` + 8 hex digits) where the runtime has a native one:
// it guards against damage, not tampering, and it is a third of a million-event store's open
// time cheaper than SHA-256. Names with 16 hex digits (a SHA-256 prefix) are still read.
// From the log's schema version 3 on, the name also says the version (`.layout3`): a version
// that knows only older layouts does not match such names, so it keeps opening from its own
// snapshots instead of stopping at one it cannot read (two windows on two versions, one store).
// This version reads older layouts (migrating them in memory) and leaves newer ones alone.
const snapshotPattern = /^snapshot-(\d{12})-([0-9a-f]{16}|crc[0-9a-f]{8})(?:\.layout(\d+))?\.sqlite$/;
/** Untagged names are of layout 2 (layout 1 snapshots are never migrated, only replaced). */
const untaggedLayout = 2;
// zlib.crc32 arrived in Node 20.15; older runtimes (older VS Code builds) keep writing SHA-256.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');
export const keptSnapshots = 2;

export interface SnapshotFile {
  readonly name: string;
  readonly seq: number;
  readonly digest: string;
  /** The log schema version of its database, as its name says. */
  readonly layout: number;
}

export interface LoadedSnapshot {
  readonly file: SnapshotFile;
  readonly db: Database;
  readonly bytes: number;
  /** How long migrating its tables to this version's layout took, if they needed it. */
  readonly migratedMs?: number;
}

export interface SnapshotProblem {
  readonly file: string;
  readonly reason: string;
  readonly movedTo?: string;
}

export function snapshotName(seq: number, bytes: Uint8Array): string {
  return `snapshot-${seq.toString().padStart(12, '0')}-${digestOf(bytes, nativeCrc32 ? 'crc' : 'sha256')}.layout${latestSchemaVersion}.sqlite`;
}

/** The digest of `bytes` in the form `like` has (a name's digest, or the kind wanted). */
function digestOf(bytes: Uint8Array, like: string): string {
  if (like.startsWith('crc')) {
    return `crc${nativeCrc32 ? nativeCrc32(bytes).toString(16).padStart(8, '0') : crc32Hex(bytes)}`;
  }
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export function listSnapshots(fs: FileSystem, directory: string): SnapshotFile[] {
  const names = listFolder(fs, directory);
  return names
    .map((name) => ({ name, match: snapshotPattern.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({ name, seq: Number(match[1]), digest: match[2]!, layout: match[3] ? Number(match[3]) : untaggedLayout }))
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
  if (digestOf(bytes, file.digest) !== file.digest) {
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
    if (file.layout > latestSchemaVersion) {
      continue; // the newer version that wrote it reads it; this one opens from its own or replays
    }
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
    let migratedMs: number | undefined;
    if (!reason) {
      // The checksum proves these are the bytes an export of a consistent database produced, so
      // SQLite's quick_check (150 ms on 10 MB) is left to `verify`.
      try {
        db = new sql.Database(bytes);
        const started = performance.now();
        if (migrate(db).length > 0) {
          migratedMs = performance.now() - started;
        }
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
      return { loaded: { file, db, bytes: bytes.length, ...(migratedMs !== undefined ? { migratedMs } : {}) }, problems };
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
 * then removes this layout's snapshots older than its newest `keptSnapshots`, and older
 * layouts' snapshots but the newest of each (a window still on an older version opens from it).
 * Newer layouts belong to the version that wrote them. Throws DurableWriteError on failure,
 * leaving earlier snapshots as they were.
 */
export function writeSnapshot(fs: FileSystem, directory: string, seq: number, bytes: Uint8Array): SnapshotFile {
  // The folder's own name must survive a power cut too, or every snapshot in it is lost.
  makeDirectoryDurable(fs, directory);
  const name = snapshotName(seq, bytes);
  writeFileAtomic(fs, path.join(directory, name), bytes);
  const written = listSnapshots(fs, directory);
  const ownLayout = written.filter((file) => file.layout === latestSchemaVersion);
  const olderLayouts = written.filter((file) => file.layout < latestSchemaVersion);
  const newestOfEach = new Set(olderLayouts.filter((file, i) => olderLayouts.findIndex((other) => other.layout === file.layout) === i));
  for (const old of [...ownLayout.slice(keptSnapshots), ...olderLayouts.filter((file) => !newestOfEach.has(file))]) {
    try {
      fs.unlinkSync(path.join(directory, old.name));
    } catch {
      // Another engine removed it first.
    }
  }
  return written.find((file) => file.name === name) ?? { name, seq, digest: snapshotPattern.exec(name)![2]!, layout: latestSchemaVersion };
}
