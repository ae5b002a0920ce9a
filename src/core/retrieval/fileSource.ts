import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import ignore, { type Ignore } from 'ignore';
import { readRegularFileSync } from '../tools/regularFiles';
import { describeSecretContent } from '../tools/secretFiles';
import { looksBinary, WorkspaceAccessError, type WorkspaceFiles } from '../tools/workspaceFiles';

// What the retrieval index may read, and how. The workspace tools' rules come first (real path
// inside the folder, secret names, .gitignore nested and .git/info/exclude, folders never
// walked); then the user's own exclusions (files.exclude and contextLedger.retrieval.exclude,
// matched as gitignore patterns), a size limit, binary files and files holding credentials.

export interface FileVersion {
  readonly size: number;
  readonly mtimeMs: number;
  /** SHA-256 prefix of the bytes (of the text, for an unsaved document). */
  readonly hash: string;
}

export type FileReading =
  | { readonly kind: 'text'; readonly text: string; readonly version: FileVersion }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'folder' };

export interface RetrievalScopeOptions {
  /** Glob patterns (files.exclude keys set to true, and contextLedger.retrieval.exclude). */
  readonly excludeGlobs: readonly string[];
  readonly maxFileBytes: number;
}

export const defaultMaxIndexedFileBytes = 512 * 1024;

/** One-shot hashing where the runtime has it (Node 20.12+; no Hash object per chunk). */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string }).hash;

export function hashBytes(bytes: Uint8Array | string): string {
  return (oneShot ? oneShot('sha256', bytes, 'hex') : crypto.createHash('sha256').update(bytes).digest('hex')).slice(0, 32);
}

/** files.exclude-style globs as gitignore patterns: `**\/x` and `x/**` mean what they say there. */
function globMatcher(globs: readonly string[]): Ignore | undefined {
  const patterns = globs.map((glob) => glob.trim()).filter((glob) => glob !== '' && !glob.startsWith('#'));
  return patterns.length > 0 ? ignore().add(patterns) : undefined;
}

export class RetrievalScope {
  private readonly userExclude: Ignore | undefined;

  constructor(
    readonly workspace: WorkspaceFiles,
    readonly options: RetrievalScopeOptions,
  ) {
    this.userExclude = globMatcher(options.excludeGlobs);
  }

  /** Why the user's own exclusions leave `relative` out, or undefined. */
  userExclusion(relative: string, isDirectory: boolean): string | undefined {
    if (!this.userExclude) {
      return undefined;
    }
    try {
      return this.userExclude.ignores(isDirectory ? `${relative}/` : relative) ? 'matched by files.exclude or contextLedger.retrieval.exclude' : undefined;
    } catch {
      return undefined;
    }
  }

  /** The stat of an allowed path as the read-time check sees it (no link followed), or undefined if gone. */
  statOf(relative: string): fs.Stats | undefined {
    try {
      const stat = fs.lstatSync(this.workspace.absolutePath(relative));
      return stat.isFile() ? stat : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Reads a file for the index. The stat is taken before the read, so a write landing during
   * the read changes the mtime after the recorded one and the next check sees it.
   */
  read(relative: string, options: { readonly walked?: boolean; readonly unsavedText?: string } = {}): FileReading {
    const excluded = this.userExclusion(relative, false);
    if (excluded) {
      return { kind: 'skipped', reason: excluded };
    }
    const resolved = options.walked ? { absolute: this.workspace.absolutePath(relative), relative, isDirectory: false } : this.resolve(relative);
    if ('kind' in resolved) {
      return resolved;
    }
    if (resolved.isDirectory) {
      return { kind: 'folder' };
    }
    if (resolved.relative !== relative) {
      return { kind: 'skipped', reason: 'a symbolic link (links are not followed)' };
    }
    const unsavedText = options.unsavedText;
    if (unsavedText !== undefined) {
      return this.classify(relative, Buffer.from(unsavedText, 'utf8'), { mtimeMs: -1 });
    }
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(resolved.absolute);
    } catch {
      return { kind: 'missing' };
    }
    try {
      const read = readRegularFileSync(resolved.absolute, this.options.maxFileBytes, { noFollow: true });
      if (read.kind === 'not-regular') {
        return { kind: 'skipped', reason: 'not a regular file' };
      }
      if (read.kind === 'too-large') {
        return { kind: 'skipped', reason: `larger than the ${this.options.maxFileBytes}-byte limit` };
      }
      return this.classify(relative, read.bytes, stat);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? { kind: 'missing' } : { kind: 'skipped', reason: `could not be read (${code ?? 'error'})` };
    }
  }

  /** A path from outside the walk (a watcher, an editor) checked by the tools' rules. */
  private resolve(relative: string): ReturnType<WorkspaceFiles['resolve']> | FileReading {
    try {
      return this.workspace.resolve(relative);
    } catch (error) {
      if (error instanceof WorkspaceAccessError && / does not exist /.test(error.message)) {
        return { kind: 'missing' };
      }
      return { kind: 'skipped', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  private classify(_relative: string, bytes: Buffer, stat: { mtimeMs: number }): FileReading {
    if (bytes.length > this.options.maxFileBytes) {
      return { kind: 'skipped', reason: `larger than the ${this.options.maxFileBytes}-byte limit` };
    }
    if (looksBinary(bytes)) {
      return { kind: 'skipped', reason: 'a binary file' };
    }
    const text = bytes.toString('utf8');
    const secret = describeSecretContent(text);
    if (secret) {
      return { kind: 'skipped', reason: `it holds ${secret}, which is never indexed` };
    }
    return { kind: 'text', text, version: { size: bytes.length, mtimeMs: stat.mtimeMs, hash: hashBytes(bytes) } };
  }
}
