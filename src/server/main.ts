import { ResponseError, createConnection, ProposedFeatures, TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { ChatErrorInfo } from '../core/chat/chatTypes';
import { ContextBudgetError, ContextInputError } from '../core/context/assembleContext';
import { ContextIndex } from '../core/context/contextIndex';
import { CachedTokenCounter } from '../core/context/tokenCounts';
import { Ledger } from '../core/ledger';
import { eventContentForCounting } from '../core/context/units';
import { createAnthropicClient } from '../core/llm/anthropicClient';
import { classifyChatError } from '../core/llm/chatErrors';
import { ApiExactTokenCounter, ExactCountBaselines } from '../core/llm/exactTokenCounter';
import { createModelPort } from '../core/llm/modelPort';
import { WorkspaceFiles } from '../core/tools/workspaceFiles';
import { EventValidationError } from '../core/log/events';
import { JournalWriteError } from '../core/log/journal';
import { JournalFormatError } from '../core/log/journalRecord';
import { StoreTooNewError } from '../core/store/schema';
import { RepairableStoreError, StoreAccessError } from '../core/store/storeManifest';
import { repairStore } from '../core/storeRepair';
import { nodeFileSystem } from '../core/fs/fileSystem';
import { ChatNotifications, ChatRequests, type ChatSendParams } from '../shared/chatProtocol';
import { EngineErrorCode, EngineNotifications, EngineRequests, type EngineInitializationOptions } from '../shared/engineProtocol';
import { ApiKeyHolder } from './apiKeyHolder';
import { ChatRequestError, ChatService } from './chatService';
import { registerCompactionService } from './compactionService';
import { registerImportService } from './importService';
import { registerRetrievalService } from './retrievalService';
import { registerDriftService } from './driftService';
import { currentPromptVersion } from '../core/drift/promptVersions';
import type { DriftFactSource } from '../core/drift/driftTypes';
import { registerFactsService } from './factsService';
import { driftFactsOf } from '../core/facts/factDrift';
import { registerMemoryPanelService } from './memoryPanelService';
import { sessionActivityOf } from '../core/memory/sessionActivity';
import { registerMemoryToolsService } from './memoryToolsService';

// The engine process: owns the store (journal + sql.js) for one workspace, so the extension
// host never runs sql.js or fsync on its thread. Spoken to over LSP with the custom requests in
// src/shared/engineProtocol.ts.
const connection = createConnection(ProposedFeatures.all);
let ledger: Ledger | undefined;
let openError: Error | undefined;
let options: EngineInitializationOptions | undefined;
let workspace: WorkspaceFiles | undefined;
// Per-session unit layouts kept current from the log, so assembly reads only what goes in.
let contextIndex: ContextIndex | undefined;
// Token counts per event live as long as the engine: events never change.
const tokenCounter = new CachedTokenCounter();
// The API key arrives on stdin, never in an LSP message (the LSP trace logs params).
const apiKeys = new ApiKeyHolder();
apiKeys.listen(process.stdin);

connection.onInitialize(async (params) => {
  options = parseInitializationOptions(params.initializationOptions);
  try {
    ledger = await Ledger.open({
      storeDir: options.storeDir,
      wasmPath: options.wasmPath,
      snapshotEveryEvents: options.snapshotEveryEvents,
      writerKind: 'vscode',
      watch: true,
      pollMs: 500,
      log: (level, message) => connection.console[level === 'info' ? 'info' : level](message),
    });
    ledger.onDidChange((change) => void connection.sendNotification(EngineNotifications.storeChanged, change));
    contextIndex = new ContextIndex(ledger, tokenCounter);
    const stats = ledger.stats();
    connection.console.info(`store ${stats.storeDir} opened in ${stats.openMs} ms: ${stats.eventCount} events, ${stats.sessionCount} sessions (writer ${ledger.writerId})`);
  } catch (error) {
    openError = error instanceof Error ? error : new Error(String(error));
    connection.console.error(`the store could not be opened: ${openError.message}`);
  }
  return { capabilities: { textDocumentSync: TextDocumentSyncKind.None } };
});

function parseInitializationOptions(value: unknown): EngineInitializationOptions {
  const candidate = (value ?? {}) as Partial<EngineInitializationOptions>;
  if (typeof candidate.storeDir !== 'string' || typeof candidate.wasmPath !== 'string') {
    throw new Error('the engine was started without storeDir and wasmPath');
  }
  return {
    storeDir: candidate.storeDir,
    wasmPath: candidate.wasmPath,
    snapshotEveryEvents: typeof candidate.snapshotEveryEvents === 'number' ? candidate.snapshotEveryEvents : 5000,
    workspaceFolder: typeof candidate.workspaceFolder === 'string' ? candidate.workspaceFolder : null,
  };
}

function openLedger(): Ledger {
  if (ledger) {
    return ledger;
  }
  throw toResponseError(openError ?? new Error('the store is not open yet'));
}

function toResponseError(error: unknown): ResponseError<void> {
  if (error instanceof ResponseError) {
    return error as ResponseError<void>;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EventValidationError) {
    return new ResponseError(EngineErrorCode.invalidEvent, `invalid event: ${message}`);
  }
  if (error instanceof StoreTooNewError || error instanceof JournalFormatError) {
    return new ResponseError(EngineErrorCode.storeTooNew, message);
  }
  if (error instanceof StoreAccessError) {
    return new ResponseError(EngineErrorCode.storeUnavailable, message);
  }
  if (error instanceof JournalWriteError) {
    return new ResponseError(EngineErrorCode.writeFailed, message);
  }
  if (error instanceof ChatRequestError || error instanceof ContextBudgetError || error instanceof ContextInputError) {
    return new ResponseError(EngineErrorCode.invalidEvent, message);
  }
  connection.console.error(error instanceof Error && error.stack ? error.stack : message);
  return new ResponseError(EngineErrorCode.internal, message);
}

/** Runs a handler against the open store, turning every failure into a clear response error. */
function handle<P, R>(run: (store: Ledger, params: P) => R | Promise<R>): (params: P) => Promise<R> {
  return async (params: P) => {
    try {
      return await run(openLedger(), params);
    } catch (error) {
      throw toResponseError(error);
    }
  };
}

connection.onRequest(
  EngineRequests.append,
  handle(async (store, params) => {
    if (typeof params !== 'object' || params === null || !Array.isArray(params.events)) {
      throw new ResponseError(EngineErrorCode.invalidEvent, 'append expects { events: [...] }');
    }
    return { verdicts: await store.append(params.events) };
  }),
);
// Sessions at their events' own times (an imported one where its conversation happened).
connection.onRequest(EngineRequests.listSessions, handle((store) => sessionActivityOf(store).list(store.listSessions())));
connection.onRequest(
  EngineRequests.readSession,
  handle((store, params) => {
    if (typeof params?.sessionId !== 'string') {
      throw new ResponseError(EngineErrorCode.invalidEvent, 'readSession expects { sessionId }');
    }
    const session = store.getSession(params.sessionId);
    return { session: session ? sessionActivityOf(store).of(session) : null, events: store.readSession(params.sessionId, params.range ?? {}) };
  }),
);
connection.onRequest(EngineRequests.stats, handle((store) => store.stats()));
connection.onRequest(EngineRequests.verify, handle((store) => store.verify()));
connection.onRequest(EngineRequests.info, () => ({
  pid: process.pid,
  storeDir: options?.storeDir ?? '',
  writerId: ledger?.writerId ?? '',
  openError: openError?.message ?? null,
  openErrorRepairable: openError instanceof RepairableStoreError,
}));
connection.onRequest(EngineRequests.repair, async () => {
  if (ledger || !options) {
    return { repaired: false, lines: [ledger ? 'the store is open: nothing to repair (Verify Store checks it)' : 'the engine has not started'], restartNeeded: false };
  }
  try {
    const report = await repairStore(nodeFileSystem, options.storeDir, options.wasmPath);
    for (const line of report.lines) {
      connection.console.info(`repair: ${line}`);
    }
    return { repaired: report.repaired, lines: report.lines, restartNeeded: true };
  } catch (error) {
    throw toResponseError(error);
  }
});

// A clean shutdown leaves a fresh snapshot, so the next window opens without replaying a tail.
const snapshotOnShutdownAfterEvents = 100;

const retrieval = registerRetrievalService(connection, () => options);
function openWorkspace(): WorkspaceFiles | undefined {
  if (!workspace && options?.workspaceFolder) {
    try {
      workspace = new WorkspaceFiles(options.workspaceFolder);
    } catch (error) {
      connection.console.warn(`the model's tools cannot read ${options.workspaceFolder}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return workspace;
}

const facts = registerFactsService(connection, { ledger: openLedger, workspace: openWorkspace, log: (message) => connection.console.info(message) });
// New facts and proposals record the prompt version they were made under (drift flags old ones).
facts.setPromptVersionSource(() => {
  const version = ledger ? currentPromptVersion(ledger) : null;
  return version ? String(version.version) : null;
});

const chat = new ChatService({
  assemble: facts.wrapAssemble({
    warmUp: (sessionId) => openContextIndex().warmUp(sessionId),
    assemble: (sessionId, assembleOptions) => openContextIndex().assemble(sessionId, assembleOptions),
  }),
  remember: facts.remember,
  systemPrompt: (store, settingText) => drift.chatSystemPrompt(store, settingText),
  createModel: ({ apiKey, settings }) =>
    createModelPort({
      apiKey,
      baseUrl: settings.baseUrl,
      model: settings.model,
      maxTokens: settings.maxTokens,
      timeoutMs: settings.timeoutMs,
      log: (level, message) => connection.console[level === 'debug' ? 'log' : level](message),
    }),
  apiKey: (keyVersion) => apiKeys.keyOf(keyVersion),
  classifyError: classifyTurnError,
  workspace: openWorkspace,
  retrieval: () => retrieval.current(),
  onProgress: (requestId, progress) => void connection.sendNotification(ChatNotifications.progress, { requestId, progress }),
  log: (message) => connection.console.info(message),
  afterTurn: (store, params, result) => {
    if (result.status === 'complete' && apiKeys.current) {
      fillExactCounts(store, params, apiKeys.current);
    }
    void compaction.afterTurn(store, params, result);
  },
});

const compaction = registerCompactionService(connection, handle, { afterCommit: (_store, sessionId, committed) => void facts.proposeFromCompaction(sessionId, committed), counter: tokenCounter, inFlight: (sessionId) => chat.isAnswering(sessionId), apiKey: (keyVersion) => apiKeys.keyOf(keyVersion), createModel: ({ apiKey, settings }) => createModelPort({ apiKey, baseUrl: settings.baseUrl, model: settings.model, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs }), log: (message) => connection.console.info(message) });

const exactCountsPerTurn = 16;
// The placeholder counts exact per-event counts subtract, per model and endpoint, for the engine's life.
const exactBaselines = new ExactCountBaselines();

/**
 * After a turn, count the session's newest text events exactly (count_tokens) in the
 * background, so later assemblies use exact per-event counts where the API gave them.
 */
function fillExactCounts(store: Ledger, params: ChatSendParams, apiKey: string): void {
  // Background refinement: no SDK retries (a 429 must not queue behind a retry-after) and a short cap.
  const client = createAnthropicClient({ apiKey, baseUrl: params.settings.baseUrl, model: params.settings.model, maxTokens: params.settings.maxTokens, timeoutMs: 5_000, maxRetries: 0, logLevel: 'off' });
  const pending = store
    .readSession(params.sessionId, { last: 200 })
    .map(eventContentForCounting)
    .filter((request): request is NonNullable<typeof request> => request !== undefined && request.blocks.every((block) => block.type === 'text') && !tokenCounter.hasExact(request.key))
    .slice(-exactCountsPerTurn);
  tokenCounter.fillExact(pending, new ApiExactTokenCounter(client, exactBaselines), { concurrency: 2 }).then(
    (filled) => filled > 0 && connection.console.log(`exact token counts for ${filled} events of session ${params.sessionId}`),
    (error: unknown) => connection.console.log(`exact token counts unavailable, estimates stay: ${error instanceof Error ? error.message : String(error)}`),
  );
}

/** Errors of our own assembly are named as such; everything else is the model client's call. */
function classifyTurnError(error: unknown, partialText: string): ChatErrorInfo {
  if (error instanceof ContextBudgetError) {
    return { kind: 'prompt-too-long', message: `The message does not fit the context budget: ${error.message}`, action: 'Raise contextLedger.budgetTokens, or shorten the message.', requestId: null, status: null };
  }
  if (error instanceof ContextInputError) {
    return { kind: 'invalid-request', message: error.message, action: 'Write a message first.', requestId: null, status: null };
  }
  return classifyChatError(error, partialText);
}

connection.onRequest(ChatRequests.send, handle((store, params) => chat.send(store, params)));
connection.onRequest(ChatRequests.cancel, (params) => chat.cancel((params as { requestId?: unknown } | null)?.requestId));
registerImportService(connection, handle);
registerMemoryPanelService(connection, handle, { counter: tokenCounter, inFlight: (sessionId) => chat.isAnswering(sessionId) });
function openContextIndex(): ContextIndex {
  if (!contextIndex) {
    throw toResponseError(openError ?? new Error('the store is not open yet'));
  }
  return contextIndex;
}

const drift = registerDriftService(connection, {
  handle,
  workspaceFolder: () => options?.workspaceFolder ?? null,
  facts: () => (ledger ? driftFactSourceOf(ledger) : undefined),
  log: (message) => connection.console.info(message),
  apiKey: (keyVersion) => apiKeys.keyOf(keyVersion),
  createModel: ({ apiKey, settings }) => createModelPort({ apiKey, baseUrl: settings.baseUrl, model: settings.model, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs }),
});
// The Facts view's Drifted group shows what the last drift check found about each fact.
facts.setDriftFindingsSource(() => drift.factFindings());

/** The facts as the drift checks read them (src/core/facts/factDrift.ts). */
function driftFactSourceOf(store: Ledger): DriftFactSource {
  return { listFacts: () => driftFactsOf(store.facts().list()) };
}

// The MCP server's memory tools for VS Code's language-model tools, on this store and this index.
registerMemoryToolsService(connection, handle, { search: async (query, limit) => ((await retrieval.index()) ? retrieval.search({ query, limit }) : 'no workspace folder is open (or it is not trusted), so there is no retrieval index to search') });

connection.onShutdown(async () => {
  // A turn still streaming logs what arrived (marked incomplete) and how it ended before the
  // store closes: a reload mid-answer keeps the partial text.
  await chat.stopAll();
  if (ledger) {
    const since = ledger.stats().snapshot?.eventsSince ?? ledger.lastSeq;
    if (since >= snapshotOnShutdownAfterEvents) {
      try {
        ledger.snapshot();
      } catch (error) {
        connection.console.warn(`snapshot at shutdown failed (the journal has everything): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    ledger.close();
    ledger = undefined;
  }
});

connection.listen();
