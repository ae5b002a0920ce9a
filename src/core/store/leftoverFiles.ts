import * as path from 'node:path';
import { hostTag, removeQuietly, temporaryFileWriter, type TemporaryFileWriter } from '../fs/durableFile';
import { listFolder, type FileSystem } from '../fs/fileSystem';
import { processExists } from '../log/storeLock';

// Temporary files a writer leaves when it dies mid-write: a snapshot's `.snapshot-….tmp` (as big
// as the snapshot), store.json and quarantine temporaries, and the maintenance lock's
// `.maintenance.….candidate` files. Nothing ever reads them; they only take space, so a
// writable open removes those whose writer is gone.

export interface LeftoverFile {
  /** Path relative to the store folder. */
  readonly file: string;
  readonly bytes: number;
  readonly why: string;
}

export interface LeftoverSweepOptions {
  readonly nowMs?: number;
  /** A file whose writer cannot be checked (another host, an older name) is left this long. */
  readonly unknownWriterMs?: number;
  /** A file whose writer's pid is alive is left this long (the pid may have been reused). */
  readonly liveWriterMs?: number;
  readonly isProcessAlive?: (pid: number) => boolean;
}

const sweptFolders = ['.', 'snapshots', 'locks', 'quarantine'];
// Names this code writes (the writer part is absent in names from before it was added); any
// other file is the user's and is never touched.
const temporaryPattern = /^\..+\.(?:[0-9a-f]{8}-\d+\.)?[0-9a-f]{12}\.tmp$/;
const candidatePattern = /^\..+?\.(?:([0-9a-f]{8})-(\d+)\.)?[0-9a-f]{16}\.candidate$/;

/**
 * Removes leftover temporary files in the store's folders and returns what it removed. A file
 * goes when its writer (named in the file name) is a process of this host that is gone; a file
 * whose writer cannot be checked goes after a minute without a write. A live writer's file is
 * kept for an hour: a big snapshot's fsync can take longer than a minute, and deleting the
 * file under it would fail that snapshot. Errors are not fatal: a file that cannot be removed
 * now is tried again at the next open.
 */
export function removeLeftoverFiles(fs: FileSystem, storeDir: string, options: LeftoverSweepOptions = {}): LeftoverFile[] {
  const nowMs = options.nowMs ?? Date.now();
  const unknownWriterMs = options.unknownWriterMs ?? 60_000;
  const liveWriterMs = options.liveWriterMs ?? 3_600_000;
  const isAlive = options.isProcessAlive ?? processExists;
  const ownHost = hostTag();
  const removed: LeftoverFile[] = [];
  for (const folder of sweptFolders) {
    let names: string[];
    try {
      names = listFolder(fs, path.join(storeDir, folder));
    } catch {
      continue;
    }
    for (const name of names) {
      const isTemporary = temporaryPattern.test(name);
      const isCandidate = candidatePattern.test(name);
      if (!isTemporary && !isCandidate) {
        continue;
      }
      const file = path.join(storeDir, folder, name);
      let stats: { size: number; mtimeMs: number; isFile: () => boolean };
      try {
        stats = fs.statSync(file);
      } catch {
        continue; // its writer finished (renamed or removed it) while we looked
      }
      if (!stats.isFile()) {
        continue;
      }
      const writer = isTemporary ? temporaryFileWriter(name) : candidateWriter(name);
      const ageMs = nowMs - stats.mtimeMs;
      let why: string | undefined;
      if (writer && writer.hostTag === ownHost) {
        if (!isAlive(writer.pid)) {
          why = `its writer, process ${writer.pid}, is gone`;
        } else if (ageMs > liveWriterMs) {
          why = `untouched for ${Math.round(ageMs / 60_000)} minutes (process ${writer.pid} is alive, but not its writer any more)`;
        }
      } else if (ageMs > unknownWriterMs) {
        why = `untouched for ${Math.round(ageMs / 1000)} s${writer ? ', written from another host' : ''}`;
      }
      if (why === undefined) {
        continue;
      }
      removeQuietly(fs, file);
      if (!stillThere(fs, file)) {
        removed.push({ file: path.join(folder, name), bytes: stats.size, why });
      }
    }
  }
  return removed;
}

/** One line for `stats().recovery` and the engine log. */
export function describeLeftover(leftover: LeftoverFile): string {
  return `removed the leftover temporary file ${leftover.file} (${leftover.bytes} bytes): ${leftover.why}`;
}

function candidateWriter(name: string): TemporaryFileWriter | undefined {
  const match = candidatePattern.exec(name);
  return match?.[1] ? { hostTag: match[1], pid: Number(match[2]) } : undefined;
}

function stillThere(fs: FileSystem, file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch {
    return false;
  }
}
