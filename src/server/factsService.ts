import { ResponseError, type Connection } from 'vscode-languageserver/node';
import type { AssemblePort, ChatTurnDependencies } from '../core/chat/chatTurn';
import { checkFact, citeLines, type ReadWorkspaceText } from '../core/facts/citations';
import { vectorText, type ConflictPolicy, type VersionVector } from '../core/facts/factEvents';
import { defaultFactsContextSettings, isDueForReview, withFacts, type FactsContextSettings } from '../core/facts/factsContext';
import { FactChangedError, FactsInputError, FactsStore, type MergeResolution } from '../core/facts/factsStore';
import { runRememberTool } from '../core/facts/rememberTool';
import { driftedFacts } from '../core/facts/factDrift';
import type { Ledger } from '../core/ledger';
import { WorkspaceAccessError, type WorkspaceFiles } from '../core/tools/workspaceFiles';
import { EngineErrorCode } from '../shared/engineProtocol';
import {
  factChangedErrorCode,
  FactsRequests,
  type FactAddParams,
  type FactCheckResult,
  type FactCiteParams,
  type FactDetailResult,
  type FactKeyParams,
  type FactMergeParams,
  type FactPinParams,
  type FactProposalParams,
  type FactsListResult,
  type FactsSettings,
  type FactVerifyParams,
} from '../shared/factsProtocol';
import type { FactCitation } from '../core/facts/factEvents';
import type { FactProposal, FactView } from '../core/facts/factTypes';

// The engine's facts service: the requests of src/shared/factsProtocol.ts on one FactsStore,
// the facts part of every chat request (withFacts) and the model's `remember` tool, which only
// files proposals.

export interface FactsServiceDependencies {
  /** The open store (throws a clear error while it is not). */
  readonly ledger: () => Ledger;
  readonly workspace: () => WorkspaceFiles | undefined;
  readonly log: (message: string) => void;
}

export interface FactsService {
  /** Context assembly with the facts part added. */
  wrapAssemble(inner: AssemblePort): AssemblePort;
  readonly remember: NonNullable<ChatTurnDependencies['remember']>;
  /**
   * Where the prompt version a fact is made under comes from (src/core/drift publishes it);
   * until one is set, facts record null.
   */
  setPromptVersionSource(source: () => string | null): void;
  /** The last drift check's contradictions of facts, by head event id (the Drifted group). */
  setDriftFindingsSource(source: () => ReadonlyMap<string, string>): void;
}

/**
 * The facts requests as methods (tests call them directly; registerFactsService maps the LSP
 * requests onto them), plus the chat's hooks: the facts part of each request and `remember`.
 */
export class FactsEngineService implements FactsService {
  private settings: FactsSettings = { conflictPolicy: 'surface', ...defaultFactsContextSettings };
  private promptVersion: () => string | null = () => null;
  private driftFindings: () => ReadonlyMap<string, string> = () => new Map();
  private current: { ledger: Ledger; facts: FactsStore } | undefined;

  constructor(private readonly deps: FactsServiceDependencies) {}

  readonly remember: FactsService['remember'] = (input, context) => runRememberTool(this.facts(), input, { ...context, promptVersion: this.promptVersion() });

  setPromptVersionSource(source: () => string | null): void {
    this.promptVersion = source;
  }

  setDriftFindingsSource(source: () => ReadonlyMap<string, string>): void {
    this.driftFindings = source;
  }

  facts(): FactsStore {
    const ledger = this.deps.ledger();
    if (this.current?.ledger !== ledger) {
      this.current = { ledger, facts: new FactsStore(ledger, { conflictPolicy: () => this.settings.conflictPolicy }) };
    }
    return this.current.facts;
  }

  configure(params: unknown): void {
    this.settings = checkSettings(params);
  }

  list(): FactsListResult {
    const store = this.facts();
    const list = store.list();
    const now = Date.now();
    const current = Number(this.promptVersion() ?? Number.NaN);
    return {
      facts: list,
      proposals: store.queries.proposals('pending'),
      dueForReview: list.filter((fact) => fact.state === 'active' && isDueForReview(fact, now, this.settings.reviewAfterDays)).map((fact) => fact.key),
      drifted: driftedFacts(list, Number.isFinite(current) ? current : null, this.driftFindings()),
    };
  }

  get(params: { key: string }): FactDetailResult {
    const key = text(params.key, 'key');
    return { fact: this.facts().get(key) ?? null, history: this.facts().queries.history(key) };
  }

  add(params: FactAddParams): Promise<FactView> {
    return this.facts().add({
      key: text(params.key, 'key'),
      value: text(params.value, 'value'),
      ...(params.scope === 'user' || params.scope === 'workspace' ? { scope: params.scope } : {}),
      ...(Array.isArray(params.citations) ? { citations: params.citations } : {}),
      provenance: { path: typeof params.path === 'string' ? params.path : null, line: Number.isSafeInteger(params.line) ? params.line! : null },
      promptVersion: this.promptVersion(),
      ...vectorParam(params.expectedVector),
    });
  }

  retire(params: FactKeyParams): Promise<FactView> {
    return this.facts().retire(text(params.key, 'key'), vectorParam(params.expectedVector).expectedVector);
  }

  merge(params: FactMergeParams): Promise<FactView[]> {
    return this.facts().merge(text(params.key, 'key'), resolutionOf(params), vectorParam(params.expectedVector).expectedVector ?? {});
  }

  pin(params: FactPinParams): Promise<FactView> {
    return this.facts().pin(text(params.key, 'key'), params.pinned === true);
  }

  confirm(params: FactProposalParams): Promise<FactView> {
    return this.facts().confirm(text(params.proposalId, 'proposalId'), params.value === undefined ? undefined : text(params.value, 'value'));
  }

  reject(params: FactProposalParams): Promise<FactProposal> {
    return this.facts().reject(text(params.proposalId, 'proposalId'), typeof params.reason === 'string' ? params.reason : undefined);
  }

  /** Checks a fact's citations now and records the result (Mark Verified). */
  async verify(params: FactVerifyParams): Promise<FactCheckResult> {
    const store = this.facts();
    const fact = store.get(text(params.key, 'key'));
    if (!fact) {
      throw new FactsInputError(`there is no fact ${String(params.key)}`);
    }
    const expected = vectorParam(params.expectedVector).expectedVector;
    if (expected !== undefined && vectorText(expected) !== vectorText(fact.vector)) {
      throw new FactChangedError(fact.key, fact);
    }
    const reader = this.reader();
    const check = reader ? checkFact(fact, reader) : undefined;
    if (!check) {
      return { status: 'not-checked', detail: reader ? 'only a fact with one current value is checked' : 'no workspace folder is open (or it is not trusted)' };
    }
    // An uncited fact is verified by the user's word, under the prompt version in effect now
    // (so a drift diagnostic about an older prompt version is answered).
    await store.recordCheck(fact.key, check.headEventId, check.status === 'stale' ? 'stale' : 'verified', check.citations, check.detail ?? undefined, this.promptVersion());
    return { status: check.status, detail: check.detail };
  }

  cite(params: FactCiteParams): FactCitation {
    const files = this.deps.workspace();
    if (!files) {
      throw new FactsInputError('no workspace folder is open (or it is not trusted): nothing can be cited');
    }
    const file = files.readText(text(params.path, 'path'));
    return citeLines(file.relative, file.text, params.startLine, params.endLine);
  }

  wrapAssemble(inner: AssemblePort): AssemblePort {
    return withFacts(inner, {
      store: () => {
        try {
          return this.facts();
        } catch {
          return undefined; // The store is not open: assembly reports that itself.
        }
      },
      settings: (): FactsContextSettings => this.settings,
      read: () => this.reader(),
      questionOf: (sessionId) => {
        const events = this.deps.ledger().readSession(sessionId, { last: 50 });
        for (let index = events.length - 1; index >= 0; index--) {
          const event = events[index]!;
          if (event.kind === 'message.user') {
            return event.body.text;
          }
        }
        return '';
      },
      log: this.deps.log,
    });
  }

  private reader(): ReadWorkspaceText | undefined {
    const files = this.deps.workspace();
    return files ? (relative) => readWorkspaceText(files, relative) : undefined;
  }
}

export function registerFactsService(connection: Connection, deps: FactsServiceDependencies): FactsService {
  const service = new FactsEngineService(deps);
  const handle =
    <P, R>(run: (params: P) => R | Promise<R>) =>
    async (params: P): Promise<R> => {
      try {
        return await run(params ?? ({} as P));
      } catch (error) {
        throw toFactsResponseError(error, deps.log);
      }
    };
  connection.onRequest(FactsRequests.configure, handle((params) => service.configure(params)));
  connection.onRequest(FactsRequests.list, handle(() => service.list()));
  connection.onRequest(FactsRequests.get, handle((params) => service.get(params)));
  connection.onRequest(FactsRequests.add, handle((params) => service.add(params)));
  connection.onRequest(FactsRequests.retire, handle((params) => service.retire(params)));
  connection.onRequest(FactsRequests.merge, handle((params) => service.merge(params)));
  connection.onRequest(FactsRequests.pin, handle((params) => service.pin(params)));
  connection.onRequest(FactsRequests.confirm, handle((params) => service.confirm(params)));
  connection.onRequest(FactsRequests.reject, handle((params) => service.reject(params)));
  connection.onRequest(FactsRequests.verify, handle((params) => service.verify(params)));
  connection.onRequest(FactsRequests.cite, handle((params) => service.cite(params)));
  return service;
}

function toFactsResponseError(error: unknown, log: (message: string) => void): ResponseError<void> {
  if (error instanceof ResponseError) {
    return error as ResponseError<void>;
  }
  if (error instanceof FactChangedError) {
    return new ResponseError(factChangedErrorCode, error.message);
  }
  if (error instanceof FactsInputError || error instanceof RangeError || error instanceof WorkspaceAccessError) {
    return new ResponseError(EngineErrorCode.invalidEvent, error.message);
  }
  log(`facts request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ResponseError(EngineErrorCode.internal, error instanceof Error ? error.message : String(error));
}

export function readWorkspaceText(files: WorkspaceFiles, relative: string): { text: string } | { problem: string } {
  try {
    return { text: files.readText(relative).text };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new FactsInputError(`"${field}" must be a non-empty string`);
  }
  return value;
}

function vectorParam(value: unknown): { expectedVector?: VersionVector } {
  if (value === undefined || value === null) {
    return {};
  }
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((count) => Number.isSafeInteger(count))) {
    throw new FactsInputError('"expectedVector" must map writer ids to whole numbers');
  }
  return { expectedVector: value as VersionVector };
}

function resolutionOf(params: FactMergeParams): MergeResolution {
  if (params.pick !== undefined) {
    return { pick: Number(params.pick) };
  }
  if (typeof params.value === 'string') {
    return { value: params.value };
  }
  if (params.retire === true) {
    return { retire: true };
  }
  if (Array.isArray(params.split) && params.split.every((key) => typeof key === 'string')) {
    return { split: params.split };
  }
  throw new FactsInputError('a merge needs one of pick, value, retire or split');
}

function checkSettings(value: unknown): FactsSettings {
  const candidate = (value ?? {}) as Partial<FactsSettings>;
  const policies: readonly ConflictPolicy[] = ['surface', 'lastWriterWins'];
  const whole = (field: unknown, fallback: number): number => (Number.isSafeInteger(field) && (field as number) >= 0 ? (field as number) : fallback);
  return {
    conflictPolicy: policies.includes(candidate.conflictPolicy as ConflictPolicy) ? candidate.conflictPolicy! : 'surface',
    budgetTokens: Math.min(20_000, whole(candidate.budgetTokens, defaultFactsContextSettings.budgetTokens)),
    reviewAfterDays: whole(candidate.reviewAfterDays, defaultFactsContextSettings.reviewAfterDays),
  };
}
