import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AppendVerdict, LedgerStats, SessionRange, SessionSummary, VerifyReport } from '../core/ledger';
import type { StoredEvent } from '../core/log/events';

// The engine's custom LSP requests, declared once and imported by both the extension (client)
// and the engine process (server). Method names are namespaced `contextLedger/…`. Later issues
// add requests here (context assembly, compaction, facts, retrieval) without changing these.

export interface EngineInitializationOptions {
  readonly storeDir: string;
  /** sql.js's wasm file, located through the extension's URI. */
  readonly wasmPath: string;
  readonly snapshotEveryEvents: number;
  /** The workspace folder the model's read-only tools may read; null in untrusted workspaces. */
  readonly workspaceFolder: string | null;
}

export interface AppendParams {
  /** Event drafts; validated by the engine (the client is not trusted to have done it). */
  readonly events: readonly unknown[];
}

export interface AppendResult {
  readonly verdicts: readonly AppendVerdict[];
}

export interface ReadSessionParams {
  readonly sessionId: string;
  readonly range?: SessionRange;
}

export interface ReadSessionResult {
  readonly session: SessionSummary | null;
  readonly events: readonly StoredEvent[];
}

export interface EngineInfo {
  readonly pid: number;
  readonly storeDir: string;
  readonly writerId: string;
  /** Why the store could not be opened, if it could not; every other request then fails with it. */
  readonly openError: string | null;
  /** The open failed in a way `repair` can mend (store.json missing or damaged, journal behind its snapshots). */
  readonly openErrorRepairable: boolean;
}

export interface RepairResult {
  readonly repaired: boolean;
  /** What repair found and did, one line each. */
  readonly lines: readonly string[];
  /** The engine must be restarted to open the repaired store. */
  readonly restartNeeded: boolean;
}

export interface StoreChangedParams {
  readonly sessionIds: readonly string[];
  readonly lastSeq: number;
}

/** Error codes of engine responses (JSON-RPC application range). */
export const EngineErrorCode = {
  invalidEvent: -32010,
  storeUnavailable: -32011,
  storeTooNew: -32012,
  writeFailed: -32013,
  internal: -32019,
} as const;

export const EngineRequests = {
  append: new RequestType<AppendParams, AppendResult, void>('contextLedger/append'),
  listSessions: new RequestType0<readonly SessionSummary[], void>('contextLedger/listSessions'),
  readSession: new RequestType<ReadSessionParams, ReadSessionResult, void>('contextLedger/readSession'),
  stats: new RequestType0<LedgerStats, void>('contextLedger/stats'),
  verify: new RequestType0<VerifyReport, void>('contextLedger/verify'),
  info: new RequestType0<EngineInfo, void>('contextLedger/engineInfo'),
  /** Repairs a store this engine could not open; refused while the store is open. */
  repair: new RequestType0<RepairResult, void>('contextLedger/repair'),
} as const;

export const EngineNotifications = {
  storeChanged: new NotificationType<StoreChangedParams>('contextLedger/storeChanged'),
} as const;
