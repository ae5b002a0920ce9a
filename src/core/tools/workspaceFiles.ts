import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isSecretPath, skippedDirectoryNames } from './secretFiles';

/** A workspace path the tools refuse: outside the folder, secret, ignored, binary or too big. */
export class WorkspaceAccessError extends Error {
  override readonly name = 'WorkspaceAccessError';
}

export interface WorkspaceLimits {
  readonly maxFileBytes: number;
  readonly maxListedFiles: number;
  readonly maxSearchResults: number;
  readonly maxSearchedBytes: number;
}

export const defaultWorkspaceLimits: WorkspaceLimits = {
  maxFileBytes: 256 * 1024,
  maxListedFiles: 500,
  maxSearchResults: 50,
  maxSearchedBytes: 32 * 1024 * 1024,
};

/**
 * Read-only access to one workspace folder for the model's tools (and later the retrieval
 * cache). Every path is resolved inside the folder (symlinks included); secret files and
 * files matched by .gitignore are invisible; binary and oversized files are refused.
 */
export class WorkspaceFiles {
  private readonly root: string;
  private ignoreRules: { matcher: Ignore; loadedMs: number } | undefined;

  constructor(
    root: string,
    private readonly limits: WorkspaceLimits = defaultWorkspaceLimits,
  ) {
    this.root = fs.realpathSync(root);
  }

  get folder(): string {
    return this.root;
  }

  /** Workspace-relative path (forward slashes) of an allowed file or folder, or an error. */
  resolve(requested: string): { absolute: string; relative: string } {
    if (typeof requested !== 'string' || requested.includes('\0')) {
      throw new WorkspaceAccessError('the path must be a string');
    }
    const absolute = path.resolve(this.root, requested);
    let real: string;
    try {
      real = fs.realpathSync(absolute);
    } catch {
      throw new WorkspaceAccessError(`${requested} does not exist in the workspace`);
    }
    const relative = path.relative(this.root, real);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new WorkspaceAccessError(`${requested} is outside the workspace folder`);
    }
    const normalized = relative.split(path.sep).join('/');
    if (normalized && !this.isAllowed(normalized, fs.statSync(real).isDirectory())) {
      throw new WorkspaceAccessError(`${requested} is excluded (a secret file, or matched by .gitignore)`);
    }
    return { absolute: real, relative: normalized };
  }

  isAllowed(relative: string, isDirectory: boolean): boolean {
    if (isSecretPath(relative)) {
      return false;
    }
    const segments = relative.split('/');
    if (segments.some((segment) => skippedDirectoryNames.has(segment))) {
      return false;
    }
    return !this.ignores().ignores(isDirectory ? `${relative}/` : relative);
  }

  readText(requested: string): { relative: string; text: string } {
    const { absolute, relative } = this.resolve(requested);
    const stat = fs.statSync(absolute);
    if (stat.isDirectory()) {
      throw new WorkspaceAccessError(`${relative} is a folder; use list_files`);
    }
    if (stat.size > this.limits.maxFileBytes) {
      throw new WorkspaceAccessError(`${relative} is ${stat.size} bytes, more than the ${this.limits.maxFileBytes}-byte limit`);
    }
    const bytes = fs.readFileSync(absolute);
    if (looksBinary(bytes)) {
      throw new WorkspaceAccessError(`${relative} is a binary file`);
    }
    return { relative, text: bytes.toString('utf8') };
  }

  /** Allowed files under `folder` (relative paths), walked breadth-first, up to the limit. */
  listFiles(folder = '.', include?: (relative: string) => boolean): { files: string[]; truncated: boolean } {
    const start = this.resolve(folder);
    const files: string[] = [];
    const queue = [start.relative];
    while (queue.length > 0) {
      const current = queue.shift()!;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(this.root, current), { withFileTypes: true });
      } catch {
        continue;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        const relative = current ? `${current}/${entry.name}` : entry.name;
        if (entry.isSymbolicLink() || !this.isAllowed(relative, entry.isDirectory())) {
          continue;
        }
        if (entry.isDirectory()) {
          queue.push(relative);
        } else if (entry.isFile() && (!include || include(relative))) {
          if (files.length >= this.limits.maxListedFiles) {
            return { files, truncated: true };
          }
          files.push(relative);
        }
      }
    }
    return { files, truncated: false };
  }

  /** Lines containing `query` (case-insensitive) in allowed text files. */
  searchText(query: string, maxResults = this.limits.maxSearchResults): { matches: Array<{ file: string; line: number; text: string }>; truncated: boolean } {
    const needle = query.toLowerCase();
    if (!needle.trim()) {
      throw new WorkspaceAccessError('the search text is empty');
    }
    const matches: Array<{ file: string; line: number; text: string }> = [];
    let searched = 0;
    const { files } = this.listFiles('.');
    for (const file of files) {
      const absolute = path.join(this.root, file);
      let bytes: Buffer;
      try {
        if (fs.statSync(absolute).size > this.limits.maxFileBytes) {
          continue;
        }
        bytes = fs.readFileSync(absolute);
      } catch {
        continue;
      }
      searched += bytes.length;
      if (looksBinary(bytes)) {
        continue;
      }
      const lines = bytes.toString('utf8').split('\n');
      for (let index = 0; index < lines.length; index++) {
        if (lines[index]!.toLowerCase().includes(needle)) {
          matches.push({ file, line: index + 1, text: lines[index]!.trim().slice(0, 200) });
          if (matches.length >= maxResults) {
            return { matches, truncated: true };
          }
        }
      }
      if (searched > this.limits.maxSearchedBytes) {
        return { matches, truncated: true };
      }
    }
    return { matches, truncated: false };
  }

  private ignores(): Ignore {
    // .gitignore files change rarely; re-read at most every few seconds.
    if (this.ignoreRules && Date.now() - this.ignoreRules.loadedMs < 5000) {
      return this.ignoreRules.matcher;
    }
    const matcher = ignore();
    try {
      matcher.add(fs.readFileSync(path.join(this.root, '.gitignore'), 'utf8'));
    } catch {
      // No .gitignore at the root: nothing more to exclude.
    }
    this.ignoreRules = { matcher, loadedMs: Date.now() };
    return matcher;
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
