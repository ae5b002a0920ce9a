import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ImportProgress, ImportSummary, ScannedTranscript } from '../core/import/importTypes';

// Import requests between the extension and the engine: list the transcripts under some paths
// (for the quick pick), import chosen files with progress and cancel, and follow folders so
// sessions appear while Claude Code writes them.

export type { ImportFormat, ImportProgress, ImportSummary, ScannedTranscript } from '../core/import/importTypes';

export interface ImportScanParams {
  readonly paths: readonly string[];
}

export interface ImportScanResult {
  readonly transcripts: readonly ScannedTranscript[];
}

export interface ImportRunParams {
  /** Chosen by the caller; progress notifications and cancel use it. */
  readonly requestId: string;
  readonly paths: readonly string[];
}

export interface ImportProgressParams {
  readonly requestId: string;
  readonly progress: ImportProgress;
}

export interface ImportFollowParams {
  /** Folders or files to follow; an empty list stops following. */
  readonly paths: readonly string[];
}

export interface ImportFollowResult {
  readonly following: readonly string[];
}

export const ImportRequests = {
  scan: new RequestType<ImportScanParams, ImportScanResult, void>('contextLedger/import/scan'),
  run: new RequestType<ImportRunParams, ImportSummary, void>('contextLedger/import/run'),
  cancel: new RequestType<{ readonly requestId: string }, boolean, void>('contextLedger/import/cancel'),
  follow: new RequestType<ImportFollowParams, ImportFollowResult, void>('contextLedger/import/follow'),
} as const;

export const ImportNotifications = {
  progress: new NotificationType<ImportProgressParams>('contextLedger/import/progress'),
  /** A followed folder brought new events (sent after each import that added some). */
  followed: new NotificationType<ImportSummary>('contextLedger/import/followed'),
} as const;
