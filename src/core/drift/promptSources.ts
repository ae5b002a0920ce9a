import { createHash } from 'node:crypto';

// The effective system prompt: the contextLedger.systemPrompt setting, then the instruction
// files the assistants read (AGENTS.md and CLAUDE.md at any depth, Copilot's and Cursor's at the
// root). Its digest names a prompt version: the same texts give the same digest everywhere.

/** The setting's place in a prompt version (it has no file). */
export const settingSourcePath = 'settings:contextLedger.systemPrompt';

/** Instruction files at the root only. */
const rootPromptFiles: ReadonlySet<string> = new Set(['.github/copilot-instructions.md', '.cursorrules']);
/** Instruction files read in any folder (nested ones apply to their subtree). */
const nestedPromptNames: ReadonlySet<string> = new Set(['AGENTS.md', 'CLAUDE.md']);

export function isPromptFile(relative: string): boolean {
  if (rootPromptFiles.has(relative)) {
    return true;
  }
  const name = relative.slice(relative.lastIndexOf('/') + 1);
  return nestedPromptNames.has(name);
}

export interface PromptSource {
  /** Workspace-relative path with forward slashes, or `settingSourcePath`. */
  readonly path: string;
  readonly text: string;
}

export interface EffectivePrompt {
  readonly sources: readonly PromptSource[];
  readonly digest: string;
}

/** Root files before nested ones, then by path: a stable order, so the digest is too. */
export function comparePromptPaths(a: string, b: string): number {
  const depth = (p: string) => (p === settingSourcePath ? -1 : p.split('/').length - (rootPromptFiles.has(p) ? 1 : 0));
  return depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function effectivePrompt(settingText: string, files: readonly PromptSource[]): EffectivePrompt {
  const sources = [{ path: settingSourcePath, text: settingText }, ...[...files].sort((a, b) => comparePromptPaths(a.path, b.path))];
  return { sources, digest: promptDigest(sources) };
}

export function promptDigest(sources: readonly PromptSource[]): string {
  const hash = createHash('sha256');
  for (const source of sources) {
    // Length-prefixed, so no two different lists hash alike.
    hash.update(`${source.path.length}:${source.path}\n${Buffer.byteLength(source.text)}:`);
    hash.update(source.text);
  }
  return hash.digest('hex');
}

export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
