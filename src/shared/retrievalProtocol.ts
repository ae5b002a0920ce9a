import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { IndexProgress, RetrievalHit, RetrievalSearchResult, RetrievalStats } from '../core/retrieval/retrievalTypes';

// Retrieval requests between the extension and the engine. The engine owns the index; the
// extension forwards file events and unsaved edits, and asks.

export type { IndexProgress, RetrievalHit, RetrievalSearchResult, RetrievalStats } from '../core/retrieval/retrievalTypes';

export interface RetrievalConfiguration {
  /** files.exclude globs set to true, then contextLedger.retrieval.exclude. */
  readonly excludeGlobs: readonly string[];
  readonly maxFileBytes: number;
}

export interface RetrievalIndexParams {
  readonly configuration: RetrievalConfiguration;
  /** Forget the saved index and read every file again (Reindex Workspace). */
  readonly rebuild?: boolean;
}

export interface RetrievalIndexResult {
  readonly progress: IndexProgress;
  readonly cancelled: boolean;
  readonly stats: RetrievalStats;
}

export interface RetrievalSearchParams {
  readonly query: string;
  readonly limit?: number;
}

export type FileChangeKind = 'created' | 'changed' | 'deleted' | 'unsaved' | 'closed';

export interface FileChange {
  /** An absolute path inside the workspace folder. */
  readonly path: string;
  readonly kind: FileChangeKind;
  /** The document's text, for `unsaved` only. */
  readonly text?: string;
}

export interface RetrievalInvalidateParams {
  readonly changes: readonly FileChange[];
}

export interface RetrievalStatsResult {
  readonly stats: RetrievalStats;
  readonly eventsReceived: number;
  readonly reindexesRun: number;
  readonly pending: number;
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  readonly redactions: ReadonlyArray<{ readonly path: string; readonly line: number; readonly kind: string }>;
}

export const RetrievalRequests = {
  /** Runs until the scan is done or cancelled (the LSP cancel of this request); progress comes as notifications. */
  index: new RequestType<RetrievalIndexParams, RetrievalIndexResult, void>('contextLedger/retrieval/index'),
  search: new RequestType<RetrievalSearchParams, RetrievalSearchResult, void>('contextLedger/retrieval/search'),
  stats: new RequestType0<RetrievalStatsResult, void>('contextLedger/retrieval/stats'),
} as const;

export const RetrievalNotifications = {
  invalidate: new NotificationType<RetrievalInvalidateParams>('contextLedger/retrieval/invalidate'),
  progress: new NotificationType<IndexProgress>('contextLedger/retrieval/progress'),
} as const;

/** A hit as the extension shows it (also what `search --json` prints). */
export function hitSummary(hit: RetrievalHit): { path: string; startLine: number; endLine: number; text: string; score: number } {
  return { path: hit.path, startLine: hit.startLine, endLine: hit.endLine, text: hit.text, score: Math.round(hit.score * 1000) / 1000 };
}
