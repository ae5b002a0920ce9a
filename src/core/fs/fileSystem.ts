import * as nodeFs from 'node:fs';

/**
 * The file operations the engine uses, synchronous on purpose: an acknowledged append is a
 * write + fdatasync on the engine's own thread, and a test can wrap this interface to inject
 * ENOSPC or EIO into any single step.
 */
export interface FileSystem {
  openSync(path: string, flags: string | number, mode?: number): number;
  closeSync(fd: number): void;
  writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fstatSync(fd: number): nodeFs.Stats;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  renameSync(from: string, to: string): void;
  linkSync(existing: string, created: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
  mkdirSync(path: string, options: { recursive: true }): string | undefined;
  statSync(path: string): nodeFs.Stats;
  readFileSync(path: string): Buffer;
  utimesSync(path: string, atime: Date, mtime: Date): void;
  accessSync(path: string, mode?: number): void;
}

export const nodeFileSystem: FileSystem = {
  openSync: (path, flags, mode) => nodeFs.openSync(path, flags, mode),
  closeSync: (fd) => nodeFs.closeSync(fd),
  writeSync: (fd, buffer, offset, length, position) => nodeFs.writeSync(fd, buffer, offset, length, position),
  readSync: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  fstatSync: (fd) => nodeFs.fstatSync(fd),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  fdatasyncSync: (fd) => nodeFs.fdatasyncSync(fd),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  linkSync: (existing, created) => nodeFs.linkSync(existing, created),
  unlinkSync: (path) => nodeFs.unlinkSync(path),
  readdirSync: (path) => nodeFs.readdirSync(path),
  mkdirSync: (path, options) => nodeFs.mkdirSync(path, options),
  statSync: (path) => nodeFs.statSync(path),
  readFileSync: (path) => nodeFs.readFileSync(path),
  utimesSync: (path, atime, mtime) => nodeFs.utimesSync(path, atime, mtime),
  accessSync: (path, mode) => nodeFs.accessSync(path, mode),
};

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** The names in a folder; a folder that does not exist (yet) is empty. */
export function listFolder(fs: FileSystem, path: string): string[] {
  try {
    return fs.readdirSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return [];
    }
    throw error;
  }
}

export function fileExists(fs: FileSystem, path: string): boolean {
  try {
    fs.statSync(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return false;
    }
    throw error;
  }
}
