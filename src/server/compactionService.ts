import { ResponseError, type Connection } from 'vscode-languageserver/node';
import type { ModelPort } from '../core/chat/chatTurn';
import type { ChatSendResult } from '../core/chat/chatTypes';
import { CompactionBarrierError } from '../core/compaction/barrier';
import {
  CompactionInputError,
  CompactionStaleError,
  commitCompaction,
  listSessionCompactions,
  previewCompaction,
  sessionTier,
  undoCompaction,
  type CommitResult,
  type CompactionContext,
  type Summarizer,
} from '../core/compaction/compactionEngine';
import { CompactionRangeError } from '../core/compaction/compactionRange';
import { isCompactionTier, type CompactionTier } from '../core/compaction/compactionTypes';
import { CompactionModelError } from '../core/compaction/modelCompactor';
import type { TokenCounter } from '../core/context/tokenCounts';
import type { Ledger } from '../core/ledger';
import { checkBaseUrl } from '../core/llm/baseUrl';
import { EventValidationError } from '../core/log/events';
import type { ChatSendParams } from '../shared/chatProtocol';
import {
  CompactionErrorCode,
  CompactionNotifications,
  CompactionRequests,
  type CompactionCommitParams,
  type CompactionCommitResult,
  type CompactionListItem,
  type CompactionListParams,
  type CompactionNoticeParams,
  type CompactionPreviewParams,
  type CompactionPreviewResult,
  type CompactionUndoParams,
  type CompactionUndoResult,
} from '../shared/compactionProtocol';
import type { ModelConnection } from './chatService';
import { invalid, record, sessionIdOf } from './requestParams';

// The engine's compaction service: preview, commit, undo, list and the session's tier, over
// src/core/compaction, plus automatic compaction after a turn when the budget fills past a
// configured share. Shaped like the chat service: checked params in, ResponseErrors out, so a
// client (a command, a memory panel) gets each failure with its own code.

export interface CompactionServiceDependencies {
  readonly counter: TokenCounter;
  /** A chat turn of the session is running (ChatService.isAnswering). */
  readonly inFlight: (sessionId: string) => boolean;
  readonly apiKey: (keyVersion: number) => Promise<string | null>;
  readonly createModel: (connection: ModelConnection) => ModelPort;
  readonly notify?: (notice: CompactionNoticeParams) => void;
  readonly log?: (message: string) => void;
  /** After each commit (the facts service proposes facts from the trail). */
  readonly afterCommit?: (ledger: Ledger, sessionId: string, committed: CommitResult) => void;
}

/** The settings the extension sends (contextLedger.compaction.*). */
export interface CompactionConfig {
  readonly defaultTier: CompactionTier;
  /** Compact automatically once a request takes this share of the budget (0: never). */
  readonly autoAtShare: number;
}


/** Every compaction failure as a response error with its own code. */
export function toCompactionError(error: unknown): unknown {
  if (error instanceof CompactionStaleError) {
    return new ResponseError(CompactionErrorCode.stale, error.message, { sawVersion: error.sawVersion, currentVersion: error.currentVersion });
  }
  if (error instanceof CompactionBarrierError) {
    return new ResponseError(CompactionErrorCode.barrier, error.message, { reason: error.reason, whenReady: error.whenReady });
  }
  if (error instanceof CompactionInputError || error instanceof CompactionRangeError || error instanceof EventValidationError) {
    return invalid(error.message);
  }
  if (error instanceof CompactionModelError) {
    return new ResponseError(CompactionErrorCode.model, error.message);
  }
  return error;
}



function positiveInt(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw invalid(`"${name}" must be a positive whole number`);
  }
  return value as number;
}

export class CompactionService {
  private config: CompactionConfig = { defaultTier: 'balanced', autoAtShare: 0 };

  constructor(private readonly deps: CompactionServiceDependencies) {}

  private committed(ledger: Ledger, sessionId: string, committed: CommitResult): CommitResult {
    if (!committed.duplicate) {
      this.deps.afterCommit?.(ledger, sessionId, committed);
    }
    return committed;
  }

  configure(value: unknown): CompactionConfig {
    const params = record(value, 'compaction/configure');
    const tier = params.defaultTier ?? this.config.defaultTier;
    const share = params.autoAtShare ?? this.config.autoAtShare;
    if (!isCompactionTier(tier)) {
      throw invalid('"defaultTier" must be full, balanced or aggressive');
    }
    if (typeof share !== 'number' || !Number.isFinite(share) || share < 0 || share > 1) {
      throw invalid('"autoAtShare" must be a number from 0 (off) to 1');
    }
    this.config = { defaultTier: tier, autoAtShare: share };
    return this.config;
  }

  private context(ledger: Ledger, defaultTier = this.config.defaultTier): CompactionContext {
    return { ledger, counter: this.deps.counter, inFlight: this.deps.inFlight, defaultTier };
  }

  async preview(ledger: Ledger, value: unknown): Promise<CompactionPreviewResult> {
    const params = record(value, 'compaction/preview') as Partial<CompactionPreviewParams> & Record<string, unknown>;
    const sessionId = sessionIdOf(params);
    if (params.tier !== undefined && !isCompactionTier(params.tier)) {
      throw invalid('"tier" must be full, balanced or aggressive');
    }
    if (params.defaultTier !== undefined && !isCompactionTier(params.defaultTier)) {
      throw invalid('"defaultTier" must be full, balanced or aggressive');
    }
    const range = params.range === undefined ? undefined : record(params.range, '"range"');
    const turns = range ? { firstTurn: positiveInt(range.firstTurn, 'range.firstTurn'), lastTurn: positiveInt(range.lastTurn, 'range.lastTurn') } : undefined;
    if (params.promptVersion !== undefined && params.promptVersion !== null && (typeof params.promptVersion !== 'string' || params.promptVersion.length > 200)) {
      throw invalid('"promptVersion" must be a string of at most 200 characters, or null');
    }
    const { summarizer, note } = await this.summarizerFor(params.model);
    try {
      const preview = await previewCompaction(
        this.context(ledger, params.defaultTier ?? this.config.defaultTier),
        {
          sessionId,
          ...(params.tier !== undefined ? { tier: params.tier } : {}),
          ...(turns ? { range: turns } : {}),
          ...(params.keepTurns !== undefined ? { keepTurns: positiveInt(params.keepTurns, 'keepTurns') } : {}),
          promptVersion: params.promptVersion ?? null,
        },
        summarizer,
      );
      return { ...preview, note };
    } catch (error) {
      throw toCompactionError(error);
    }
  }

  private async summarizerFor(choice: unknown): Promise<{ summarizer: Summarizer; note: string | null }> {
    if (choice === undefined || choice === null) {
      return { summarizer: { kind: 'offline' }, note: null };
    }
    const params = record(choice, '"model"');
    const keyVersion = positiveInt(params.keyVersion, 'model.keyVersion');
    const settings = record(params.settings, '"model.settings"');
    if (typeof settings.model !== 'string' || settings.model.trim() === '') {
      throw invalid('"model.settings.model" must name a model');
    }
    const baseUrl = checkBaseUrl(settings.baseUrl);
    if (!baseUrl.ok) {
      throw invalid(`"model.settings.baseUrl": ${baseUrl.problem}`);
    }
    const maxTokens = positiveInt(settings.maxTokens, 'model.settings.maxTokens');
    const timeoutMs = positiveInt(settings.timeoutMs, 'model.settings.timeoutMs');
    const apiKey = await this.deps.apiKey(keyVersion);
    if (!apiKey) {
      return { summarizer: { kind: 'offline' }, note: 'No API key is set, so the offline compactor wrote this summary.' };
    }
    const port = this.deps.createModel({ apiKey, settings: { model: settings.model, baseUrl: baseUrl.baseUrl, maxTokens, timeoutMs, budgetTokens: 1, window: { kind: 'full' }, systemPrompt: '' } });
    return { summarizer: { kind: 'model', port, model: settings.model, signal: AbortSignal.timeout(timeoutMs), timeoutMs }, note: null };
  }

  async commit(ledger: Ledger, value: unknown): Promise<CompactionCommitResult> {
    const params = record(value, 'compaction/commit') as Partial<CompactionCommitParams> & Record<string, unknown>;
    const sessionId = sessionIdOf(params);
    const body = record(params.body, '"body"') as unknown as CompactionCommitParams['body'];
    const range = record(body.range, '"body.range"');
    if (typeof body.model !== 'string' || body.model.length === 0 || body.model.length > 200) {
      throw invalid('"body.model" must name the model, or be "offline"');
    }
    try {
      return this.committed(ledger, sessionId, await commitCompaction(this.context(ledger), {
        sessionId,
        body: {
          summary: body.summary,
          range: { firstSeq: Number(range.firstSeq), lastSeq: Number(range.lastSeq), firstEventId: String(range.firstEventId), lastEventId: String(range.lastEventId), firstTurn: positiveInt(range.firstTurn, 'body.range.firstTurn'), lastTurn: positiveInt(range.lastTurn, 'body.range.lastTurn') },
          tier: body.tier,
          model: body.model,
          promptVersion: typeof body.promptVersion === 'string' ? body.promptVersion : null,
          sessionVersion: body.sessionVersion,
        },
      }));
    } catch (error) {
      throw toCompactionError(error);
    }
  }

  async undo(ledger: Ledger, value: unknown): Promise<CompactionUndoResult> {
    const params = record(value, 'compaction/undo') as Partial<CompactionUndoParams> & Record<string, unknown>;
    const sessionId = sessionIdOf(params);
    if (params.compactionId !== undefined && (typeof params.compactionId !== 'string' || params.compactionId.length > 200)) {
      throw invalid('"compactionId" must be a string');
    }
    try {
      return await undoCompaction(this.context(ledger), { sessionId, ...(params.compactionId !== undefined ? { compactionId: params.compactionId } : {}) });
    } catch (error) {
      throw toCompactionError(error);
    }
  }

  list(ledger: Ledger, value: unknown): CompactionListItem[] {
    const params = record(value, 'compaction/list') as Partial<CompactionListParams> & Record<string, unknown>;
    return listSessionCompactions(ledger, sessionIdOf(params), params.includeUndone === true);
  }

  async setTier(ledger: Ledger, value: unknown): Promise<{ seq: number }> {
    const params = record(value, 'compaction/setTier');
    const sessionId = sessionIdOf(params);
    if (!isCompactionTier(params.tier)) {
      throw invalid('"tier" must be full, balanced or aggressive');
    }
    const [verdict] = await ledger.append([{ kind: 'session.tierSet', sessionId, body: { tier: params.tier } }]);
    if (!verdict || verdict.status === 'conflict') {
      throw invalid(`the tier was not set: ${verdict?.reason ?? 'no verdict'}`);
    }
    return { seq: verdict.seq };
  }

  /**
   * Automatic compaction after a complete turn: when its last request took at least the
   * configured share of the budget, compact all but the newest turns with the session's tier
   * (offline: it spends no key on its own). Never across a barrier: then it waits for a later turn.
   */
  async afterTurn(ledger: Ledger, params: Pick<ChatSendParams, 'sessionId'>, result: ChatSendResult): Promise<CompactionNoticeParams | null> {
    const share = this.config.autoAtShare;
    const receipt = result.receipt;
    if (share <= 0 || result.status !== 'complete' || !receipt || receipt.totalTokens < share * receipt.budgetTokens) {
      return null;
    }
    // The chat service counts the turn as running until its afterTurn hook returns.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const context = this.context(ledger);
    // The whole session: its tier may have been set long before its newest events.
    const tier = sessionTier(ledger.readSession(params.sessionId), this.config.defaultTier);
    const used = Math.round((100 * receipt.totalTokens) / receipt.budgetTokens);
    if (tier === 'full') {
      const notice = { sessionId: params.sessionId, compactionId: '', message: `The last request took ${used}% of the context budget. This session's tier is "full", so it is never compacted.` };
      this.deps.notify?.(notice);
      return notice;
    }
    try {
      const preview = await previewCompaction(context, { sessionId: params.sessionId, tier });
      const { firstSeq, lastSeq } = preview.body.range;
      if (ledger.listCompactions(params.sessionId).some((row) => row.firstSeq <= firstSeq && row.lastSeq >= lastSeq)) {
        return null; // Those turns are compacted already: only the newest turns are over the share.
      }
      const committed = this.committed(ledger, params.sessionId, await commitCompaction(context, { sessionId: params.sessionId, body: preview.body, automatic: true }));
      const { firstTurn, lastTurn } = committed.body.range;
      const notice = {
        sessionId: params.sessionId,
        compactionId: committed.compactionId,
        message: `The last request took ${used}% of the context budget, so turns ${firstTurn}–${lastTurn} were compacted (${tier}): ${committed.body.summaryTokens.toLocaleString('en-US')} tokens in place of ${committed.body.sourceTokens.toLocaleString('en-US')}.`,
      };
      this.deps.notify?.(notice);
      return notice;
    } catch (error) {
      this.deps.log?.(`automatic compaction of session ${params.sessionId} skipped: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }
}

type Handle = <P, R>(run: (store: Ledger, params: P) => R | Promise<R>) => (params: P) => Promise<R>;

/** Registers the compaction requests on the engine's connection (one call from src/server/main.ts). */
export function registerCompactionService(connection: Connection, handle: Handle, deps: CompactionServiceDependencies): CompactionService {
  const service = new CompactionService({ ...deps, notify: deps.notify ?? ((notice) => void connection.sendNotification(CompactionNotifications.compacted, notice)) });
  connection.onRequest(CompactionRequests.preview, handle((store, params: unknown) => service.preview(store, params)));
  connection.onRequest(CompactionRequests.commit, handle((store, params: unknown) => service.commit(store, params)));
  connection.onRequest(CompactionRequests.undo, handle((store, params: unknown) => service.undo(store, params)));
  connection.onRequest(CompactionRequests.list, handle((store, params: unknown) => service.list(store, params)));
  connection.onRequest(CompactionRequests.setTier, handle((store, params: unknown) => service.setTier(store, params)));
  connection.onRequest(CompactionRequests.configure, handle((_store, params: unknown) => service.configure(params)));
  return service;
}
