import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ChatSettings } from '../core/chat/chatTypes';
import type { CompactionPreview } from '../core/compaction/compactionEngine';
import type { CompactionCommittedBody, CompactionRange, CompactionTier } from '../core/compaction/compactionTypes';

// Compaction requests between a client (the extension's commands, a memory panel) and the
// engine: preview (changes nothing), commit (the preview's body back, with the session version
// it saw), undo, list (with summaries and trails) and the session's tier.

export type { ArtifactTrail, CompactionCommittedBody, CompactionRange, CompactionTier, SummaryTier } from '../core/compaction/compactionTypes';

export interface CompactionModelChoice {
  /** The API key update to use (the key itself never goes in an LSP message). */
  readonly keyVersion: number;
  readonly settings: Pick<ChatSettings, 'model' | 'baseUrl' | 'maxTokens' | 'timeoutMs'>;
}

export interface CompactionPreviewParams {
  readonly sessionId: string;
  /** Absent: the session's tier, else `defaultTier`. */
  readonly tier?: CompactionTier;
  readonly defaultTier?: CompactionTier;
  /** Turns as the chat numbers them; absent: all but the newest `keepTurns` (default 2). */
  readonly range?: { readonly firstTurn: number; readonly lastTurn: number };
  readonly keepTurns?: number;
  readonly promptVersion?: string | null;
  /** Let the model write the summary (when a key is set); absent or no key: the offline compactor. */
  readonly model?: CompactionModelChoice;
}

export interface CompactionPreviewResult extends CompactionPreview {
  /** Why the offline compactor wrote it though a model was asked for (no key), if so. */
  readonly note: string | null;
}

export interface CompactionCommitParams {
  readonly sessionId: string;
  readonly body: Pick<CompactionCommittedBody, 'summary' | 'range' | 'tier' | 'model' | 'promptVersion' | 'sessionVersion'>;
}

export interface CompactionCommitResult {
  readonly compactionId: string;
  readonly seq: number;
  readonly body: CompactionCommittedBody;
  readonly duplicate: boolean;
}

export interface CompactionUndoParams {
  readonly sessionId: string;
  /** Absent: the newest compaction in force. */
  readonly compactionId?: string;
}

export interface CompactionUndoResult {
  readonly compactionId: string;
  readonly range: Pick<CompactionRange, 'firstSeq' | 'lastSeq' | 'firstTurn' | 'lastTurn'>;
}

export interface CompactionListParams {
  readonly sessionId: string;
  readonly includeUndone?: boolean;
}

export interface CompactionListItem {
  readonly id: string;
  readonly seq: number;
  readonly undoneSeq: number | null;
  readonly body: CompactionCommittedBody;
}

export interface CompactionSetTierParams {
  readonly sessionId: string;
  readonly tier: CompactionTier;
}

export interface CompactionConfigureParams {
  readonly defaultTier: CompactionTier;
  /** Compact automatically once a request takes this share of the budget (0: never). */
  readonly autoAtShare: number;
}

/** A compaction the engine made on its own (automatic compaction), for the chat to announce. */
export interface CompactionNoticeParams {
  readonly sessionId: string;
  readonly compactionId: string;
  readonly message: string;
}

/** Error codes of compaction responses; `data` of a barrier error is { reason, whenReady }. */
export const CompactionErrorCode = {
  /** A turn arrived after the preview: preview again. */
  stale: -32030,
  /** A pending tool call or a reply in flight: `data.whenReady` says when it can run. */
  barrier: -32031,
  /** The request or its range is not valid (nothing to compact, overlap, tier full, no session). */
  invalid: -32032,
  /** The model could not write the summary. */
  model: -32033,
} as const;

export const CompactionRequests = {
  preview: new RequestType<CompactionPreviewParams, CompactionPreviewResult, void>('contextLedger/compaction/preview'),
  commit: new RequestType<CompactionCommitParams, CompactionCommitResult, void>('contextLedger/compaction/commit'),
  undo: new RequestType<CompactionUndoParams, CompactionUndoResult, void>('contextLedger/compaction/undo'),
  list: new RequestType<CompactionListParams, readonly CompactionListItem[], void>('contextLedger/compaction/list'),
  setTier: new RequestType<CompactionSetTierParams, { readonly seq: number }, void>('contextLedger/compaction/setTier'),
  /** contextLedger.compaction.tier and .autoAtShare, sent at start and on every change. */
  configure: new RequestType<CompactionConfigureParams, CompactionConfigureParams, void>('contextLedger/compaction/configure'),
} as const;

export const CompactionNotifications = {
  compacted: new NotificationType<CompactionNoticeParams>('contextLedger/compaction/compacted'),
} as const;
