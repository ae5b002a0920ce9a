import type { Connection } from 'vscode-languageserver/node';
import { checkDrift } from '../core/drift/checkDrift';
import type { DriftFactSource } from '../core/drift/driftTypes';
import { effectivePrompt } from '../core/drift/promptSources';
import { recordPromptVersion } from '../core/drift/promptVersions';
import { RepositoryView } from '../core/drift/repositoryView';
import type { Ledger } from '../core/ledger';
import { WorkspaceFiles } from '../core/tools/workspaceFiles';
import { DriftRequests, type DriftCheckParams, type DriftCheckResult } from '../shared/driftProtocol';

export interface DriftServiceDependencies {
  /** main.ts's `handle`: runs against the open store and turns errors into response errors. */
  readonly handle: <P, R>(run: (store: Ledger, params: P) => R | Promise<R>) => (params: P) => Promise<R>;
  /** The trusted workspace folder, or null. */
  readonly workspaceFolder: () => string | null;
  /** The facts store's view for the fact checks; absent until one is wired in. */
  readonly facts?: () => DriftFactSource | undefined;
  readonly log: (message: string) => void;
}

const maxSystemPromptChars = 1024 * 1024;

/**
 * Prompt drift in the engine: each check reads the prompt files and the repository through the
 * workspace tools' rules (ignored and secret files unseen), records a prompt version when the
 * effective prompt changed, and returns the diagnostics. Checks run one at a time; a check asked
 * for while one runs waits for it, so saves in quick succession never interleave two appends.
 */
export class DriftService {
  private queue: Promise<unknown> = Promise.resolve();
  private workspace: { folder: string; files: WorkspaceFiles } | undefined;

  constructor(private readonly deps: DriftServiceDependencies) {}

  check(ledger: Ledger, params: DriftCheckParams): Promise<DriftCheckResult> {
    if (typeof params?.systemPrompt !== 'string' || params.systemPrompt.length > maxSystemPromptChars) {
      return Promise.reject(new Error('drift/check expects { systemPrompt } (a string of at most 1 MiB)'));
    }
    const run = this.queue.then(() => this.run(ledger, params.systemPrompt));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(ledger: Ledger, systemPrompt: string): Promise<DriftCheckResult> {
    const folder = this.deps.workspaceFolder();
    if (!folder) {
      return { folder: null, unavailable: 'no trusted workspace folder is open, so the prompt files are not read', promptFiles: [], promptVersion: null, diagnostics: [], factsChecked: false };
    }
    if (this.workspace?.folder !== folder) {
      this.workspace = { folder, files: new WorkspaceFiles(folder) };
    }
    const started = performance.now();
    const repository = await RepositoryView.read(this.workspace.files);
    const { version, recorded } = await recordPromptVersion(ledger, effectivePrompt(systemPrompt, repository.promptFiles));
    const facts = this.deps.facts?.();
    const diagnostics = checkDrift({ repository, ...(facts ? { facts: { list: facts.listFacts(), promptVersion: version.version } } : {}) });
    this.deps.log(`prompt drift: ${repository.promptFiles.length} prompt files, prompt version ${version.version}${recorded ? ' (new)' : ''}, ${diagnostics.length} diagnostics in ${Math.round(performance.now() - started)} ms`);
    return {
      folder,
      unavailable: null,
      promptFiles: repository.promptFiles.map((file) => file.path),
      promptVersion: { version: version.version, digest: version.digest, recorded },
      diagnostics,
      factsChecked: facts !== undefined,
    };
  }
}

/** Registers the drift requests on the engine's connection (one call in main.ts). */
export function registerDriftService(connection: Connection, deps: DriftServiceDependencies): DriftService {
  const service = new DriftService(deps);
  connection.onRequest(DriftRequests.check, deps.handle((store, params: DriftCheckParams) => service.check(store, params)));
  return service;
}
