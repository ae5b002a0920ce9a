import { ResponseError, type Connection } from 'vscode-languageserver/node';
import type { AssemblePort, ChatTurnDependencies } from '../core/chat/chatTurn';
import { checkFact, citeLines, type ReadWorkspaceText } from '../core/facts/citations';
import type { ConflictPolicy, VersionVector } from '../core/facts/factEvents';
import { defaultFactsContextSettings, isDueForReview, withFacts, type FactsContextSettings } from '../core/facts/factsContext';
import { FactChangedError, FactsInputError, FactsStore, type MergeResolution } from '../core/facts/factsStore';
import { runRememberTool } from '../core/facts/rememberTool';
import type { Ledger } from '../core/ledger';
import { WorkspaceAccessError, type WorkspaceFiles } from '../core/tools/workspaceFiles';
import { EngineErrorCode } from '../shared/engineProtocol';
import { factChangedErrorCode, FactsRequests, type FactAddParams, type FactMergeParams, type FactsSettings } from '../shared/factsProtocol';

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
}

export function registerFactsService(connection: Connection, deps: FactsServiceDependencies): FactsService {
  let settings: FactsSettings = { conflictPolicy: 'surface', ...defaultFactsContextSettings };
  let promptVersion: () => string | null = () => null;
  let store: { ledger: Ledger; facts: FactsStore } | undefined;
  const facts = (): FactsStore => {
    const ledger = deps.ledger();
    if (store?.ledger !== ledger) {
      store = { ledger, facts: new FactsStore(ledger, { conflictPolicy: () => settings.conflictPolicy }) };
    }
    return store.facts;
  };
  const read = (): ReadWorkspaceText | undefined => {
    const files = deps.workspace();
    return files ? (relative) => readWorkspaceText(files, relative) : undefined;
  };
  const handle =
    <P, R>(run: (params: P) => R | Promise<R>) =>
    async (params: P): Promise<R> => {
      try {
        return await run(params ?? ({} as P));
      } catch (error) {
        if (error instanceof ResponseError) {
          throw error;
        }
        if (error instanceof FactChangedError) {
          throw new ResponseError(factChangedErrorCode, error.message);
        }
        if (error instanceof FactsInputError || error instanceof RangeError || error instanceof WorkspaceAccessError) {
          throw new ResponseError(EngineErrorCode.invalidEvent, error.message);
        }
        deps.log(`facts request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        throw new ResponseError(EngineErrorCode.internal, error instanceof Error ? error.message : String(error));
      }
    };

  connection.onRequest(
    FactsRequests.configure,
    handle((params) => {
      settings = checkSettings(params);
    }),
  );
  connection.onRequest(
    FactsRequests.list,
    handle(() => {
      const store = facts();
      const list = store.list();
      const now = Date.now();
      return { facts: list, proposals: store.queries.proposals('pending'), dueForReview: list.filter((fact) => fact.state === 'active' && isDueForReview(fact, now, settings.reviewAfterDays)).map((fact) => fact.key) };
    }),
  );
  connection.onRequest(
    FactsRequests.get,
    handle((params) => {
      const key = text(params.key, 'key');
      return { fact: facts().get(key) ?? null, history: facts().queries.history(key) };
    }),
  );
  connection.onRequest(
    FactsRequests.add,
    handle((params: FactAddParams) =>
      facts().add({
        key: text(params.key, 'key'),
        value: text(params.value, 'value'),
        ...(params.scope === 'user' || params.scope === 'workspace' ? { scope: params.scope } : {}),
        ...(Array.isArray(params.citations) ? { citations: params.citations } : {}),
        provenance: { path: typeof params.path === 'string' ? params.path : null, line: Number.isSafeInteger(params.line) ? params.line! : null },
        promptVersion: promptVersion(),
        ...vectorParam(params.expectedVector),
      }),
    ),
  );
  connection.onRequest(
    FactsRequests.retire,
    handle((params) => facts().retire(text(params.key, 'key'), vectorParam(params.expectedVector).expectedVector)),
  );
  connection.onRequest(
    FactsRequests.merge,
    handle((params: FactMergeParams) => facts().merge(text(params.key, 'key'), resolutionOf(params), vectorParam(params.expectedVector).expectedVector ?? {})),
  );
  connection.onRequest(
    FactsRequests.pin,
    handle((params) => facts().pin(text(params.key, 'key'), params.pinned === true)),
  );
  connection.onRequest(
    FactsRequests.confirm,
    handle((params) => facts().confirm(text(params.proposalId, 'proposalId'), params.value === undefined ? undefined : text(params.value, 'value'))),
  );
  connection.onRequest(
    FactsRequests.reject,
    handle((params) => facts().reject(text(params.proposalId, 'proposalId'), typeof params.reason === 'string' ? params.reason : undefined)),
  );
  connection.onRequest(
    FactsRequests.verify,
    handle(async (params) => {
      const store = facts();
      const fact = store.get(text(params.key, 'key'));
      if (!fact) {
        throw new FactsInputError(`there is no fact ${String(params.key)}`);
      }
      const reader = read();
      const check = reader ? checkFact(fact, reader) : undefined;
      if (!check) {
        return { status: 'not-checked' as const, detail: reader ? 'only a fact with one current value is checked' : 'no workspace folder is open (or it is not trusted)' };
      }
      // Mark Verified: an uncited fact is verified by the user's word.
      await store.recordCheck(fact.key, check.headEventId, check.status === 'stale' ? 'stale' : 'verified', check.citations, check.detail ?? undefined);
      return { status: check.status, detail: check.detail };
    }),
  );
  connection.onRequest(
    FactsRequests.cite,
    handle((params) => {
      const files = deps.workspace();
      if (!files) {
        throw new FactsInputError('no workspace folder is open (or it is not trusted): nothing can be cited');
      }
      const file = files.readText(text(params.path, 'path'));
      return citeLines(file.relative, file.text, params.startLine, params.endLine);
    }),
  );

  const contextSettings = (): FactsContextSettings => settings;
  return {
    wrapAssemble: (inner) =>
      withFacts(inner, {
        store: () => {
          try {
            return facts();
          } catch {
            return undefined; // The store is not open: assembly reports that itself.
          }
        },
        settings: contextSettings,
        read,
        questionOf: (sessionId) => {
          const events = deps.ledger().readSession(sessionId, { last: 50 });
          for (let index = events.length - 1; index >= 0; index--) {
            const event = events[index]!;
            if (event.kind === 'message.user') {
              return event.body.text;
            }
          }
          return '';
        },
        log: deps.log,
      }),
    remember: (input, context) => runRememberTool(facts(), input, { ...context, promptVersion: promptVersion() }),
    setPromptVersionSource: (source) => {
      promptVersion = source;
    },
  };
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
    budgetTokens: whole(candidate.budgetTokens, defaultFactsContextSettings.budgetTokens),
    reviewAfterDays: whole(candidate.reviewAfterDays, defaultFactsContextSettings.reviewAfterDays),
  };
}
