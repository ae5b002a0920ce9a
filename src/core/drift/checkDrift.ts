import { checkAcrossFiles } from './crossFileChecks';
import type { DriftDiagnostic, DriftFact } from './driftTypes';
import { checkFacts } from './factChecks';
import { extractClaims } from './promptClaims';
import { comparePromptPaths, type PromptSource } from './promptSources';
import { parsePrompt } from './promptText';
import { checkAgainstRepository } from './repositoryChecks';
import type { RepositoryView } from './repositoryView';

export interface DriftCheckInput {
  readonly repository: RepositoryView;
  /** Prompt files to check; the repository's own when absent. */
  readonly files?: readonly PromptSource[];
  /** Facts and the current prompt version, when a facts store is wired in. */
  readonly facts?: { readonly list: readonly DriftFact[]; readonly promptVersion: number };
}

/** Every drift diagnostic of the prompt files, ordered by file and line. */
export function checkDrift(input: DriftCheckInput): DriftDiagnostic[] {
  const files = [...(input.files ?? input.repository.promptFiles)].sort((a, b) => comparePromptPaths(a.path, b.path));
  const documents = files.map((file) => parsePrompt(file.path, file.text));
  const claims = documents.map(extractClaims);
  const diagnostics = [
    ...claims.flatMap((fileClaims) => checkAgainstRepository(fileClaims, input.repository)),
    ...checkAcrossFiles(claims, documents),
    ...(input.facts ? checkFacts(input.facts.list, claims, { version: input.facts.promptVersion, firstFile: files[0]?.path }) : []),
  ];
  const lines = new Map(files.map((file) => [file.path, file.text.split('\n')]));
  const withOldText = diagnostics.map((diagnostic) => (diagnostic.fix ? { ...diagnostic, fix: { ...diagnostic.fix, oldText: lines.get(diagnostic.path)?.[diagnostic.line - 1]?.slice(diagnostic.fix.start, diagnostic.fix.end) ?? '' } } : diagnostic));
  return withOldText.sort((a, b) => comparePromptPaths(a.path, b.path) || a.line - b.line || (a.range?.start ?? 0) - (b.range?.start ?? 0));
}

/** The CLI's JSON shape: only what names a problem. */
export function toPlainDiagnostic(diagnostic: DriftDiagnostic): { path: string; line: number; code: string; message: string } {
  return { path: diagnostic.path, line: diagnostic.line, code: diagnostic.code, message: diagnostic.message };
}

/** Applies a diagnostic's fix to the text of its file (what the "update the line" action does). */
export function applyFix(text: string, diagnostic: DriftDiagnostic): string {
  if (!diagnostic.fix) {
    return text;
  }
  const lines = text.split('\n');
  const line = lines[diagnostic.line - 1];
  if (line === undefined) {
    return text;
  }
  lines[diagnostic.line - 1] = line.slice(0, diagnostic.fix.start) + diagnostic.fix.newText + line.slice(diagnostic.fix.end);
  return lines.join('\n');
}
