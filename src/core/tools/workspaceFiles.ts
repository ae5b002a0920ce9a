import * as fs from 'node:fs';
import * as path from 'node:path';
import { IgnoreRules } from './ignoreRules';
import { readRegularFileSync, type RegularFileRead } from './regularFiles';
import { defaultSettleLimits, readSettledFile, type SettleLimits } from './settledRead';
import { describeSecretContent, isInSkippedDirectory, isSecretPath } from './secretFiles';
import { displayPath } from './toolText';
import { TimeSlicer } from './timeSlicer';

/** A workspace path the tools refuse: outside the folder, secret, ignored, binary or too big. */
export class WorkspaceAccessError extends Error {
  override readonly name = 'WorkspaceAccessError';
}

export interface WorkspaceLimits {
  readonly maxFileBytes: number;
  readonly maxListedFiles: number;
  readonly maxSearchResults: number;
  /** Files one search reads at most; past it the search says how many it left out. */
  readonly maxSearchedFiles: number;
  readonly maxSearchedBytes: number;
  /** Wall time of one search. */
  readonly maxSearchMs: number;
  /** Files counted (not read) past a cap, to say "searched 500 of 1,240". */
  readonly maxCountedFiles: number;
  /** How the model's read_file waits out a file being saved (see settledRead.ts). */
  readonly readSettle: SettleLimits;
}

/** Folders a walk reads ahead of the one it is giving the files of. */
const foldersReadAhead = 4;

export const defaultWorkspaceLimits: WorkspaceLimits = {
  maxFileBytes: 256 * 1024,
  maxListedFiles: 500,
  maxSearchResults: 50,
  maxSearchedFiles: 500,
  maxSearchedBytes: 32 * 1024 * 1024,
  maxSearchMs: 10_000,
  maxCountedFiles: 20_000,
  readSettle: defaultSettleLimits,
};

/**
 * Read-only access to one workspace folder for the model's tools (and later the retrieval
 * cache). Every path is resolved to its real path inside the folder before it is matched, so a
 * symlink cannot launder a name; names are matched case-folded; secret files, files matched by
 * .gitignore (nested) or .git/info/exclude are invisible; only regular files are read, and
 * binary, oversized and credential-holding files are refused.
 */
export class WorkspaceFiles {
  private readonly root: string;
  private readonly ignoreRules: IgnoreRules;

  constructor(
    root: string,
    readonly limits: WorkspaceLimits = defaultWorkspaceLimits,
  ) {
    this.root = fs.realpathSync(root);
    this.ignoreRules = new IgnoreRules(this.root);
  }

  get folder(): string {
    return this.root;
  }

  /** The real path and workspace-relative path (forward slashes) of an allowed file or folder. */
  resolve(requested: string): { absolute: string; relative: string; isDirectory: boolean } {
    if (typeof requested !== 'string' || requested.includes('\0')) {
      throw new WorkspaceAccessError('the path must be a string');
    }
    const shown = displayPath(requested);
    const absolute = path.resolve(this.root, requested);
    let real: string;
    let stat: fs.Stats;
    try {
      real = fs.realpathSync(absolute);
      stat = fs.statSync(real);
    } catch {
      throw new WorkspaceAccessError(`${shown} does not exist in the workspace`);
    }
    const relative = this.insideRelative(real);
    if (relative === undefined) {
      throw new WorkspaceAccessError(`${shown} is outside the workspace folder`);
    }
    // Both the name asked for and the real name must pass: a link named like a secret is
    // refused too, and a link to a secret is refused by the secret's own name.
    const lexical = this.insideRelative(absolute);
    for (const candidate of new Set([lexical, relative])) {
      const reason = candidate ? this.exclusionReason(candidate, stat.isDirectory()) : undefined;
      if (reason) {
        throw new WorkspaceAccessError(`${shown} is excluded: ${reason}`);
      }
    }
    return { absolute: real, relative, isDirectory: stat.isDirectory() };
  }

  isAllowed(relative: string, isDirectory: boolean): boolean {
    return this.exclusionReason(relative, isDirectory) === undefined;
  }

  readText(requested: string): { relative: string; text: string } {
    const { absolute, relative, shown } = this.resolveFile(requested);
    let read;
    try {
      read = readRegularFileSync(absolute, this.limits.maxFileBytes, { noFollow: true });
    } catch (error) {
      throw new WorkspaceAccessError(`${shown} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return { relative, text: this.textOf(read, shown) };
  }

  /**
   * As readText, for the model's read_file: a file changing while it is read (an autosave's
   * truncate and write) is read again until it holds still; `settled` is false when it never did.
   */
  async readSettledText(requested: string): Promise<{ relative: string; text: string; settled: boolean; attempts: number }> {
    const { absolute, relative, shown } = this.resolveFile(requested);
    let outcome;
    try {
      outcome = await readSettledFile(absolute, this.limits.maxFileBytes, { noFollow: true }, this.limits.readSettle);
    } catch (error) {
      throw new WorkspaceAccessError(`${shown} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return { relative, text: this.textOf(outcome.read, shown), settled: outcome.settled, attempts: outcome.attempts };
  }

  private resolveFile(requested: string): { absolute: string; relative: string; shown: string } {
    const { absolute, relative, isDirectory } = this.resolve(requested);
    const shown = displayPath(relative);
    if (isDirectory) {
      throw new WorkspaceAccessError(`${shown} is a folder; use list_files`);
    }
    return { absolute, relative, shown };
  }

  /** The text of a read, or the reason it is refused (not regular, too large, binary, secret). */
  private textOf(read: RegularFileRead, shown: string): string {
    if (read.kind === 'not-regular') {
      throw new WorkspaceAccessError(`${shown} is not a regular file (a pipe, socket or device); only regular files are read`);
    }
    if (read.kind === 'too-large') {
      throw new WorkspaceAccessError(`${shown} is ${read.size} bytes, more than the ${this.limits.maxFileBytes}-byte limit`);
    }
    if (looksBinary(read.bytes)) {
      throw new WorkspaceAccessError(`${shown} is a binary file`);
    }
    const text = read.bytes.toString('utf8');
    const secret = describeSecretContent(text);
    if (secret) {
      throw new WorkspaceAccessError(`${shown} is excluded: it holds ${secret}, which is never read`);
    }
    return text;
  }

  /** Allowed files under `folder` (relative paths), breadth-first, up to the listing limit. */
  async listFiles(folder = '.', include?: (relative: string) => boolean, signal?: AbortSignal): Promise<{ files: string[]; truncated: boolean }> {
    const files: string[] = [];
    for await (const relative of this.walkFiles(folder, signal)) {
      if (include && !include(relative)) {
        continue;
      }
      if (files.length >= this.limits.maxListedFiles) {
        return { files, truncated: true };
      }
      files.push(relative);
    }
    return { files, truncated: false };
  }

  /**
   * The allowed regular files under `folder`, breadth-first in name order. Symlinks are not
   * followed. Directory reads are asynchronous and the walk yields to the event loop every few
   * milliseconds, so the engine keeps answering requests while it runs. `onExcluded` hears of
   * each file or folder left out, and why (the retrieval index records it).
   */
  async *walkFiles(folder = '.', signal?: AbortSignal, onExcluded?: (relative: string, reason: string) => void): AsyncGenerator<string> {
    const start = this.resolve(folder);
    if (!start.isDirectory) {
      throw new WorkspaceAccessError(`${displayPath(start.relative)} is a file, not a folder`);
    }
    const slicer = new TimeSlicer();
    const queue = [start.relative];
    // The next few folders are read while this one is walked: each read waits on the thread
    // pool, and read one after another those waits were most of a large walk's time.
    const reading = new Map<string, Promise<fs.Dirent[] | undefined>>();
    const read = (folder: string): Promise<fs.Dirent[] | undefined> =>
      fs.promises.readdir(path.join(this.root, folder), { withFileTypes: true }).then(
        (entries) => entries,
        () => undefined,
      );
    while (queue.length > 0) {
      signal?.throwIfAborted();
      const current = queue.shift()!;
      const pending = reading.has(current) ? reading.get(current)! : read(current);
      reading.delete(current);
      for (const next of queue.slice(0, foldersReadAhead)) {
        if (!reading.has(next)) {
          reading.set(next, read(next));
        }
      }
      const entries = await pending;
      if (!entries) {
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        await slicer.maybeYield();
        const relative = current ? `${current}/${entry.name}` : entry.name;
        if (entry.isSymbolicLink() || !(entry.isDirectory() || entry.isFile()) || !this.isEntryAllowed(relative, entry.isDirectory())) {
          if (onExcluded && (entry.isDirectory() || entry.isFile())) {
            onExcluded(relative, entry.isSymbolicLink() ? 'a symbolic link (links are not followed)' : (this.exclusionReason(relative, entry.isDirectory()) ?? 'excluded'));
          }
          continue;
        }
        if (entry.isDirectory()) {
          queue.push(relative);
        } else {
          yield relative;
        }
      }
    }
  }

  /** The absolute path of a workspace-relative path the walk gave. */
  absolutePath(relative: string): string {
    return path.join(this.root, ...relative.split('/'));
  }

  private exclusionReason(relative: string, isDirectory: boolean): string | undefined {
    if (isSecretPath(relative)) {
      return 'a secret file (keys, credentials, environment), never read';
    }
    if (isInSkippedDirectory(relative)) {
      return 'inside a folder the tools skip (version control, dependencies, build output)';
    }
    if (this.ignoreRules.ignores(relative, isDirectory)) {
      return 'matched by .gitignore or .git/info/exclude';
    }
    return undefined;
  }

  /** As isAllowed, for an entry whose folder the walk has already allowed. */
  private isEntryAllowed(relative: string, isDirectory: boolean): boolean {
    return !isSecretPath(relative) && !isInSkippedDirectory(relative) && !this.ignoreRules.ignoresEntry(relative, isDirectory);
  }

  /** Forward-slash path of `absolute` relative to the root, or undefined if outside it. */
  private insideRelative(absolute: string): string | undefined {
    const relative = path.relative(this.root, absolute);
    if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      return undefined;
    }
    return relative.split(path.sep).join('/');
  }
}

/** A NUL byte in the first 8 KB: the same test git uses to call a file binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8192);
  for (let i = 0; i < end; i++) {
    if (bytes[i] === 0) {
      return true;
    }
  }
  return false;
}
