import type { Connection } from 'vscode-languageserver/node';
import { PromptFileCache, systemPromptText } from '../core/drift/chatPrompt';
import { checkDrift } from '../core/drift/checkDrift';
import type { DriftDiagnostic, DriftFact, DriftFactSource } from '../core/drift/driftTypes';
import { checkFactsWithModel, modelFactCheckDigest, type ModelFactCheckResult } from '../core/drift/modelFactCheck';
import type { ModelPort } from '../core/chat/chatTurn';
import { checkBaseUrl } from '../core/llm/baseUrl';
import { comparePromptPaths, effectivePrompt, type PromptSource } from '../core/drift/promptSources';
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
  /** For the model's fact check (a request carrying `model`): the key of that version, and a client. */
  readonly apiKey?: (keyVersion: number) => Promise<string | null>;
  readonly createModel?: (connection: { apiKey: string; settings: NonNullable<DriftCheckParams['model']>['settings'] }) => ModelPort;
}

const maxSystemPromptChars = 1024 * 1024;

/** A check's rule part, and what the model's check needs (when there are facts). */
interface RuleCheck {
  readonly result: DriftCheckResult;
  readonly forModel?: { readonly files: readonly PromptSource[]; readonly facts: readonly DriftFact[] };
}

/**
 * Prompt drift in the engine: each check reads the prompt files and the repository through the
 * workspace tools' rules (ignored and secret files unseen), records a prompt version when the
 * effective prompt changed, and returns the diagnostics. Checks run one at a time; a check asked
 * for while one runs waits for it, so saves in quick succession never interleave two appends.
 */
export class DriftService {
  private queue: Promise<unknown> = Promise.resolve();
  private workspace: { folder: string; files: WorkspaceFiles; prompts: PromptFileCache } | undefined;
  private lastModelCheck: { digest: string; result: ModelFactCheckResult } | undefined;
  private findings: ReadonlyMap<string, string> = new Map();

  constructor(private readonly deps: DriftServiceDependencies) {}

  check(ledger: Ledger, params: DriftCheckParams): Promise<DriftCheckResult> {
    if (typeof params?.systemPrompt !== 'string' || params.systemPrompt.length > maxSystemPromptChars) {
      return Promise.reject(new Error('drift/check expects { systemPrompt } (a string of at most 1 MiB)'));
    }
    const model = checkModelParams(params.model);
    // The walk, the version and the rules run in the queue; the model's check after it, so a
    // slow model answer never holds a chat turn's prompt (which waits in the same queue).
    const ruled = this.queue.then(() => this.run(ledger, params.systemPrompt));
    this.queue = ruled.catch(() => undefined);
    return ruled.then((checked) => this.withModelCheck(checked, model));
  }

  /** The last check's contradictions of facts, by the head event id of the value they name. */
  factFindings(): ReadonlyMap<string, string> {
    return this.findings;
  }

  /**
   * The system prompt a chat turn sends: the setting, then the prompt files as they are now,
   * labelled by file (chatPrompt.ts). A change records a prompt version first, so the turn's
   * receipt names the version its request was made under. Without a trusted folder: the setting.
   */
  chatSystemPrompt(ledger: Ledger, settingText: string): Promise<{ systemPrompt: string; promptFiles: readonly string[] }> {
    const folder = this.deps.workspaceFolder();
    if (!folder) {
      return Promise.resolve({ systemPrompt: settingText, promptFiles: [] });
    }
    const run = this.queue.then(async () => {
      const files = await this.workspaceOf(folder).prompts.read();
      const prompt = effectivePrompt(settingText, files);
      await recordPromptVersion(ledger, prompt);
      return { systemPrompt: systemPromptText(prompt), promptFiles: files.map((file) => file.path) };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private workspaceOf(folder: string): { folder: string; files: WorkspaceFiles; prompts: PromptFileCache } {
    if (this.workspace?.folder !== folder) {
      const files = new WorkspaceFiles(folder);
      this.workspace = { folder, files, prompts: new PromptFileCache(files) };
    }
    return this.workspace;
  }

  private async run(ledger: Ledger, systemPrompt: string): Promise<RuleCheck> {
    const folder = this.deps.workspaceFolder();
    if (!folder) {
      return { result: { folder: null, unavailable: 'no trusted workspace folder is open, so the prompt files are not read', promptFiles: [], promptVersion: null, diagnostics: [], factsChecked: false } };
    }
    const workspace = this.workspaceOf(folder);
    const started = performance.now();
    const repository = await RepositoryView.read(workspace.files);
    workspace.prompts.found(repository.promptFiles.map((file) => file.path));
    const { version, recorded } = await recordPromptVersion(ledger, effectivePrompt(systemPrompt, repository.promptFiles));
    const facts = this.deps.facts?.();
    const factList = facts?.listFacts() ?? [];
    const diagnostics = checkDrift({ repository, ...(facts ? { facts: { list: factList, promptVersion: version.version } } : {}) });
    this.deps.log(`prompt drift: ${repository.promptFiles.length} prompt files, prompt version ${version.version}${recorded ? ' (new)' : ''}, ${diagnostics.length} diagnostics in ${Math.round(performance.now() - started)} ms`);
    return {
      result: {
        folder,
        unavailable: null,
        promptFiles: repository.promptFiles.map((file) => file.path),
        promptVersion: { version: version.version, digest: version.digest, recorded },
        diagnostics,
        factsChecked: facts !== undefined,
      },
      ...(facts ? { forModel: { files: repository.promptFiles, facts: factList } } : {}),
    };
  }

  /** Adds the model's findings to a rule check (when it had facts), and notes them for the Facts view. */
  private async withModelCheck(checked: RuleCheck, model: DriftCheckParams['model']): Promise<DriftCheckResult> {
    const modelCheck = checked.forModel ? await this.modelCheck(checked.forModel.files, checked.forModel.facts, model, checked.result.diagnostics) : undefined;
    if (modelCheck?.ran) {
      this.deps.log(`prompt drift, model check: ${modelCheck.note}`);
    }
    const diagnostics = [...checked.result.diagnostics, ...(modelCheck?.diagnostics ?? [])].sort((a, b) => comparePromptPaths(a.path, b.path) || a.line - b.line || (a.range?.start ?? 0) - (b.range?.start ?? 0));
    if (checked.forModel) {
      // Contradictions by the fact value they name (the older-prompt check is the facts' own).
      this.findings = new Map(diagnostics.filter((diagnostic) => diagnostic.factId !== undefined && diagnostic.code !== 'fact-older-prompt').map((diagnostic) => [diagnostic.factId!, `${diagnostic.message} (${diagnostic.path}:${diagnostic.line})`]));
    }
    return { ...checked.result, diagnostics, ...(modelCheck ? { modelCheck: { ran: modelCheck.ran, note: modelCheck.note } } : {}) };
  }

  /**
   * The model's check of the current facts against the prompt files, when the request brings a
   * key. The same files and facts are not asked about twice (each save re-checks the rules, and a
   * model call costs the user): the last answer is reused while its digest is current.
   */
  private async modelCheck(files: readonly PromptSource[], all: readonly DriftFact[], model: DriftCheckParams['model'], ruled: readonly DriftDiagnostic[]): Promise<{ ran: boolean; note: string; diagnostics: DriftDiagnostic[] }> {
    const facts = all.filter((fact) => fact.status !== 'retired');
    const skip = (note: string) => ({ ran: false, note, diagnostics: [] });
    if (files.length === 0 || facts.length === 0) {
      return skip(files.length === 0 ? 'no prompt files to check the facts against' : 'no facts to check');
    }
    if (!model) {
      return skip('the model check was not asked for (contextLedger.drift.modelCheck is off): only the rule checks ran');
    }
    const apiKey = this.deps.apiKey && this.deps.createModel ? await this.deps.apiKey(model.keyVersion) : null;
    if (!apiKey || !this.deps.createModel) {
      return skip('no API key: only the rule checks ran');
    }
    const input = { files, facts };
    const digest = modelFactCheckDigest(input);
    let answer = this.lastModelCheck?.digest === digest ? this.lastModelCheck.result : undefined;
    if (!answer) {
      try {
        answer = await checkFactsWithModel(this.deps.createModel({ apiKey, settings: model.settings }), input, { signal: AbortSignal.timeout(model.settings.timeoutMs), timeoutMs: model.settings.timeoutMs });
        this.lastModelCheck = { digest, result: answer };
      } catch (error) {
        return skip(`the model check failed (${error instanceof Error ? error.message : String(error)}): only the rule checks ran`);
      }
    }
    // A contradiction the rules found already is not reported twice.
    const ruledFacts = new Set(ruled.filter((diagnostic) => diagnostic.code === 'fact-contradicts-prompt').map((diagnostic) => diagnostic.factId));
    const diagnostics = answer.diagnostics.filter((diagnostic) => !ruledFacts.has(diagnostic.factId));
    const dropped = answer.dropped > 0 ? `; ${answer.dropped} entries of its answer named no given fact, file or line and were dropped` : '';
    return { ran: true, note: `${facts.length} facts checked by the model, ${answer.diagnostics.length} contradictions found${dropped}`, diagnostics };
  }
}

function checkModelParams(value: unknown): DriftCheckParams['model'] {
  if (value === undefined || value === null) {
    return undefined;
  }
  const model = value as Partial<NonNullable<DriftCheckParams['model']>>;
  const settings = model.settings as Partial<NonNullable<DriftCheckParams['model']>['settings']> | undefined;
  const positive = (field: unknown) => Number.isSafeInteger(field) && (field as number) > 0;
  if (!positive(model.keyVersion) || !settings || typeof settings.model !== 'string' || settings.model === '' || !positive(settings.maxTokens) || !positive(settings.timeoutMs)) {
    throw new Error('drift/check "model" expects { keyVersion, settings: { model, baseUrl, maxTokens, timeoutMs } }');
  }
  const baseUrl = checkBaseUrl(settings.baseUrl);
  if (!baseUrl.ok) {
    throw new Error(`drift/check "model.settings.baseUrl": ${baseUrl.problem}`);
  }
  return { keyVersion: model.keyVersion!, settings: { model: settings.model, baseUrl: baseUrl.baseUrl, maxTokens: settings.maxTokens!, timeoutMs: settings.timeoutMs! } };
}

/** Registers the drift requests on the engine's connection (one call in main.ts). */
export function registerDriftService(connection: Connection, deps: DriftServiceDependencies): DriftService {
  const service = new DriftService(deps);
  connection.onRequest(DriftRequests.check, deps.handle((store, params: DriftCheckParams) => service.check(store, params)));
  return service;
}
