import { ResponseError, createConnection, ProposedFeatures, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { Ledger } from '../core/ledger';
import { EventValidationError } from '../core/log/events';
import { JournalWriteError } from '../core/log/journal';
import { JournalFormatError } from '../core/log/journalRecord';
import { StoreTooNewError } from '../core/store/schema';
import { StoreAccessError } from '../core/store/storeManifest';
import { EngineErrorCode, EngineNotifications, EngineRequests, type EngineInitializationOptions } from '../shared/engineProtocol';

// The engine process: owns the store (journal + sql.js) for one workspace, so the extension
// host never runs sql.js or fsync on its thread. Spoken to over LSP with the custom requests in
// src/shared/engineProtocol.ts.
const connection = createConnection(ProposedFeatures.all);
let ledger: Ledger | undefined;
let openError: Error | undefined;
let options: EngineInitializationOptions | undefined;

connection.onInitialize(async (params) => {
  options = parseInitializationOptions(params.initializationOptions);
  try {
    ledger = await Ledger.open({
      storeDir: options.storeDir,
      wasmPath: options.wasmPath,
      snapshotEveryEvents: options.snapshotEveryEvents,
      watch: true,
      pollMs: 500,
      log: (level, message) => connection.console[level === 'info' ? 'info' : level](message),
    });
    ledger.onDidChange((change) => void connection.sendNotification(EngineNotifications.storeChanged, change));
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
connection.onRequest(EngineRequests.listSessions, handle((store) => store.listSessions()));
connection.onRequest(
  EngineRequests.readSession,
  handle((store, params) => {
    if (typeof params?.sessionId !== 'string') {
      throw new ResponseError(EngineErrorCode.invalidEvent, 'readSession expects { sessionId }');
    }
    return { session: store.getSession(params.sessionId) ?? null, events: store.readSession(params.sessionId, params.range ?? {}) };
  }),
);
connection.onRequest(EngineRequests.stats, handle((store) => store.stats()));
connection.onRequest(EngineRequests.verify, handle((store) => store.verify()));
connection.onRequest(EngineRequests.snapshot, handle((store) => store.snapshot()));
connection.onRequest(EngineRequests.info, () => ({
  pid: process.pid,
  storeDir: options?.storeDir ?? '',
  writerId: ledger?.writerId ?? '',
  openError: openError?.message ?? null,
}));

// A clean shutdown leaves a fresh snapshot, so the next window opens without replaying a tail.
const snapshotOnShutdownAfterEvents = 100;

connection.onShutdown(() => {
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
