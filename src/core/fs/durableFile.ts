import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorCode, type FileSystem } from './fileSystem';

/** A durable write failed; `step` says which one, so the message can say what to check. */
export class DurableWriteError extends Error {
  override readonly name = 'DurableWriteError';
  constructor(
    readonly step: 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'fsync-dir',
    readonly target: string,
    override readonly cause: unknown,
  ) {
    super(`could not write ${target} (${step} failed: ${describeIoError(cause)})`);
  }
}

export function describeIoError(error: unknown): string {
  const code = errorCode(error);
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EDQUOT':
      return 'the disk quota is used up (EDQUOT)';
    case 'EIO':
      return 'the disk reported an I/O error (EIO)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

export function fsyncDirectory(fs: FileSystem, directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * `mkdir -p` whose result survives a power cut: a new folder's name is durable only once its
 * parent is fsynced. The parent is fsynced even if nothing was created now, since a process that
 * crashed between its mkdir and that fsync left the folder visible but not durable.
 */
export function makeDirectoryDurable(fs: FileSystem, directory: string): void {
  const created = fs.mkdirSync(directory, { recursive: true });
  for (let folder = directory; ; folder = path.dirname(folder)) {
    fsyncDirectory(fs, path.dirname(folder));
    if (created === undefined || folder === created || path.dirname(folder) === folder) {
      return;
    }
  }
}

/**
 * Replaces `target` with `data` so that a crash at any point leaves either the old file or the
 * new one, never a truncated mix: write a temporary file, fsync it, rename it over the target,
 * fsync the directory. (`writeFileSync` on the target truncates it first.)
 */
export function writeFileAtomic(fs: FileSystem, target: string, data: Uint8Array): void {
  const directory = path.dirname(target);
  const temporary = path.join(directory, temporaryName(path.basename(target)));
  let fd: number | undefined;
  let step: DurableWriteError['step'] = 'open';
  try {
    fd = fs.openSync(temporary, 'wx', 0o600);
    step = 'write';
    let written = 0;
    while (written < data.length) {
      written += fs.writeSync(fd, data, written, data.length - written, written);
    }
    step = 'fsync';
    fs.fsyncSync(fd);
    step = 'close';
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    step = 'rename';
    fs.renameSync(temporary, target);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // The write already failed; that error is the one to report.
      }
    }
    removeQuietly(fs, temporary);
    throw new DurableWriteError(step, target, error);
  }
  try {
    fsyncDirectory(fs, directory);
  } catch (error) {
    // The rename happened, but may not survive a power cut; report it as a failed write.
    throw new DurableWriteError('fsync-dir', target, error);
  }
}

/** Who wrote a temporary file: its host (as a short digest of the host name) and process. */
export interface TemporaryFileWriter {
  readonly hostTag: string;
  readonly pid: number;
}

const temporaryPattern = /^\..+\.([0-9a-f]{8})-(\d+)\.[0-9a-f]{12}\.tmp$/;

export function hostTag(host: string = os.hostname()): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 8);
}

/**
 * A temporary file's name: hidden, ending in .tmp, and naming its writer, so that a sweep at
 * open can tell a file whose writer died (SIGKILL, power cut) from one still being written.
 */
export function temporaryName(base: string): string {
  return `.${base}.${hostTag()}-${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** The writer named in a temporary file's name, or undefined (not ours, or an older name). */
export function temporaryFileWriter(name: string): TemporaryFileWriter | undefined {
  const match = temporaryPattern.exec(name);
  return match ? { hostTag: match[1]!, pid: Number(match[2]) } : undefined;
}

export function removeQuietly(fs: FileSystem, file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone, or not removable now: a leftover temporary file is harmless (nothing
    // reads it), and the next writable open sweeps it (store/leftoverFiles.ts).
  }
}
