import type { WorkspaceFiles } from '../tools/workspaceFiles';
import { comparePromptPaths, isPromptFile, settingSourcePath, type EffectivePrompt, type PromptSource } from './promptSources';

// The effective prompt as the chat sends it. The prompt files (AGENTS.md, CLAUDE.md, Copilot's
// and Cursor's) are the user's own instructions to assistants, so they go into the system
// prompt as instructions, not fenced as data; each is labelled with its file and the folder it
// applies to, so the model (and a reader of the request) can tell them apart. The engine reads
// them only in a trusted workspace folder, through the workspace tools' rules.

/** A prompt file longer than this is cut (and says so): it shares the request's budget. */
export const maxPromptFileChars = 50_000;

export function systemPromptText(prompt: EffectivePrompt): string {
  const parts: string[] = [];
  for (const source of prompt.sources) {
    const text = source.text.trim();
    if (text === '') {
      continue;
    }
    if (source.path === settingSourcePath) {
      parts.push(text);
      continue;
    }
    const slash = source.path.lastIndexOf('/');
    const nested = slash >= 0 && !source.path.startsWith('.github/');
    const scope = nested ? `they apply to files under ${source.path.slice(0, slash)}/` : 'they apply to the whole workspace';
    const cut = text.length > maxPromptFileChars ? `${text.slice(0, maxPromptFileChars)}\n[… cut at ${maxPromptFileChars} of ${text.length} characters]` : text;
    parts.push(`Project instructions from the workspace file ${source.path} (${scope}):\n\n${cut}`);
  }
  return parts.join('\n\n');
}

/**
 * The prompt files of a folder for each chat turn. A walk finds them (the drift check's walk,
 * or one of its own before the first check); each turn re-reads the files found, so an edit
 * counts at the next message, and a file created or deleted counts after the next walk (the
 * extension asks for a drift check when one is).
 */
export class PromptFileCache {
  private paths: readonly string[] | undefined;

  constructor(private readonly files: WorkspaceFiles) {}

  /** What a walk (the drift check's RepositoryView) found. */
  found(paths: readonly string[]): void {
    this.paths = [...paths].sort(comparePromptPaths);
  }

  async read(signal?: AbortSignal): Promise<PromptSource[]> {
    if (!this.paths) {
      const found: string[] = [];
      for await (const relative of this.files.walkFiles('.', signal)) {
        if (isPromptFile(relative)) {
          found.push(relative);
        }
      }
      this.found(found);
    }
    const sources: PromptSource[] = [];
    for (const relative of this.paths ?? []) {
      try {
        sources.push({ path: relative, text: this.files.readText(relative).text });
      } catch {
        // Deleted (or now ignored) since the walk: it is no longer part of the prompt.
      }
    }
    return sources;
  }
}
