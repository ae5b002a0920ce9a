import * as fs from 'node:fs';
import { checkDrift, toPlainDiagnostic } from '../core/drift/checkDrift';
import type { DriftFact } from '../core/drift/driftTypes';
import { driftFactsOf } from '../core/facts/factDrift';
import { settingSourcePath, textDigest } from '../core/drift/promptSources';
import { currentPromptVersion } from '../core/drift/promptVersions';
import { RepositoryView } from '../core/drift/repositoryView';
import type { Ledger } from '../core/ledger';
import type { PromptVersion } from '../core/store/modules/promptVersionsModule';
import { WorkspaceFiles } from '../core/tools/workspaceFiles';
import { UsageError } from './args';

/** Thrown for a folder that cannot be checked; main.ts prints it with exit status 1. */
export class DriftFolderError extends Error {
  override readonly name = 'DriftFolderError';
}

/**
 * `drift --folder FOLDER [--json]`: the prompt files of FOLDER checked against it. The store is
 * read, never written: its current prompt version is compared with the files (VS Code records
 * versions, with the prompt setting the CLI does not know). Exit 0 clean, 1 drift found.
 */
export async function runDriftCommand(openLedger: () => Promise<Ledger>, folder: string | true | undefined, json: boolean, out: (line: string) => void): Promise<number> {
  if (typeof folder !== 'string' || folder === '') {
    throw new UsageError('drift needs --folder FOLDER (the workspace whose prompt files to check)');
  }
  let workspace: WorkspaceFiles;
  try {
    if (!fs.statSync(folder).isDirectory()) {
      throw new DriftFolderError(`${folder} is not a folder`);
    }
    workspace = new WorkspaceFiles(folder);
  } catch (error) {
    throw error instanceof DriftFolderError ? error : new DriftFolderError(`${folder} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const repository = await RepositoryView.read(workspace);
  // The store adds the recorded version and the facts: a folder is checked without them too.
  let version: PromptVersion | null = null;
  let facts: DriftFact[] | undefined;
  let storeNote: string | undefined;
  try {
    const ledger = await openLedger();
    try {
      version = currentPromptVersion(ledger);
      facts = driftFactsOf(ledger.facts().list());
    } finally {
      ledger.close();
    }
  } catch (error) {
    storeNote = `the store could not be read (${error instanceof Error ? error.message : String(error)}), so no prompt version is compared and no fact checked`;
  }
  const diagnostics = checkDrift({ repository, ...(facts && version ? { facts: { list: facts, promptVersion: version.version } } : {}) });
  if (json) {
    out(JSON.stringify(diagnostics.map(toPlainDiagnostic), null, 2));
    return diagnostics.length > 0 ? 1 : 0;
  }
  if (repository.promptFiles.length === 0) {
    out(`no prompt files in ${workspace.folder} (AGENTS.md, CLAUDE.md, .github/copilot-instructions.md, .cursorrules)`);
  } else {
    out(`prompt files: ${repository.promptFiles.map((file) => file.path).join(', ')}`);
  }
  if (version) {
    const recorded = version.sources.filter((source) => source.path !== settingSourcePath).map((source) => `${source.path}:${source.digest}`).sort();
    const now = repository.promptFiles.map((file) => `${file.path}:${textDigest(file.text)}`).sort();
    const same = recorded.length === now.length && recorded.every((entry, index) => entry === now[index]);
    out(`prompt version ${version.version} (${version.digest.slice(0, 12)}) in the store; ${same ? 'the files are the ones it recorded' : 'the files changed since it was recorded'}`);
  } else {
    out(storeNote ?? 'no prompt version recorded in the store yet');
  }
  if (facts && version) {
    const current = facts.filter((fact) => fact.status !== 'retired').length;
    out(`${current} ${current === 1 ? 'fact' : 'facts'} checked by the rules (the model's check runs in VS Code, with a key)`);
  }
  for (const diagnostic of diagnostics) {
    out(`${diagnostic.path}:${diagnostic.line}: ${diagnostic.code}: ${diagnostic.message}`);
  }
  out(diagnostics.length === 0 ? 'no drift found' : `${diagnostics.length} drift ${diagnostics.length === 1 ? 'diagnostic' : 'diagnostics'}`);
  return diagnostics.length > 0 ? 1 : 0;
}
