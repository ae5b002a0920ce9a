import type { ContextReceipt, MessagesRequest, WindowSpec } from '../context/contextTypes';
import type { Ledger } from '../ledger';
import type { EventDraft, StoredEvent } from '../log/events';
import { modelToolDefinitions, runModelTool, type ToolDefinition, type ToolOutcome } from '../tools/modelTools';
import { rememberToolDefinition } from '../facts/rememberTool';
import type { WorkspaceFiles } from '../tools/workspaceFiles';
import type { RetrievalIndex } from '../retrieval/retrievalIndex';
import type { ChatErrorInfo, ChatProgress, ChatSendResult, ChatSettings } from './chatTypes';
import { assembleWithinBudget, type ExactCountState } from './exactBudget';
import { acceptedId, openTurnOfOthers, TurnConflictError, turnIds, TurnLog } from './turnLog';

// One chat turn, as the engine runs it: log the user's message, assemble the context from the
// log, stream the model's answer, run the read-only tools it asks for, and log every step. The
// request is a pure function of the log; every event of the turn is in the journal before the
// turn's result is returned, and so is how it ended when it did not complete (`turn.failed`).

export interface ModelToolUse {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

export interface ModelTurnResult {
  readonly stopReason: string | null;
  readonly text: string;
  readonly toolUses: readonly ModelToolUse[];
  readonly requestId: string | null;
}

/** The model, as the turn needs it (src/core/llm implements it with the Anthropic SDK). */
export interface ModelPort {
  streamTurn(
    request: MessagesRequest,
    options: {
      readonly tools: readonly ToolDefinition[];
      readonly signal: AbortSignal;
      /** What is left of the send's wall time: the client names a timeout itself, with its cause. */
      readonly timeoutMs: number;
      onText(delta: string): void;
      onToolUse(block: ModelToolUse): void;
    },
  ): Promise<ModelTurnResult>;
  /**
   * Exact input tokens of a request (count_tokens), a refinement: a short deadline and no
   * retries; absent or failing = estimates are used and the receipt says why.
   */
  countTokens?(request: MessagesRequest, tools: readonly ToolDefinition[], signal: AbortSignal): Promise<number>;
}

export interface AssembleOptions {
  readonly window: WindowSpec;
  readonly budgetTokens: number;
  readonly systemPrompt: string;
  readonly nowMs: number;
}

/** Context assembly for a session from the log (src/core/context's ContextIndex in the engine). */
export interface AssemblePort {
  /** Brings the session's index up to date without blocking the engine for long. */
  warmUp?(sessionId: string): Promise<unknown>;
  assemble(sessionId: string, options: AssembleOptions): { request: MessagesRequest; receipt: ContextReceipt };
}

export interface ChatTurnDependencies {
  readonly ledger: Ledger;
  readonly model: ModelPort;
  readonly assemble: AssemblePort;
  readonly classifyError: (error: unknown, partialText: string) => ChatErrorInfo;
  readonly workspace: WorkspaceFiles | undefined;
  /** The retrieval index, when open: search_text answers from it once it is complete. */
  readonly retrieval?: () => RetrievalIndex | undefined;
  readonly onProgress: (progress: ChatProgress) => void;
  readonly log?: (message: string) => void;
  /** The current prompt version, named in each receipt (absent: none recorded). */
  readonly promptVersion?: () => { readonly version: number; readonly digest: string } | null;
  /** The model's `remember` tool (a proposal the user confirms, never a fact); absent: not offered. */
  readonly remember?: (input: unknown, context: { readonly sessionId: string; readonly toolUseId: string }) => Promise<ToolOutcome>;
}

export interface ChatTurnParams {
  /** chat/send's requestId: every event of the turn gets an id made from it (turnLog.ts). */
  readonly requestId: string;
  readonly sessionId: string;
  readonly text: string;
  readonly apiKeyPresent: boolean;
  readonly settings: ChatSettings;
  /** Aborted when the user presses Stop. */
  readonly cancel: AbortSignal;
  /** Answer this logged user message again (Retry) instead of logging `text`. */
  readonly retryOfEventId?: string;
  /** The session does not exist yet: start it with this name (a new chat's first message). */
  readonly newSessionName?: string;
}

const maxToolRounds = 8;
const timeoutGraceMs = 250;
const retryLookbackEvents = 2000;

export const noKeyError: ChatErrorInfo = {
  kind: 'no-key',
  message: 'No Anthropic API key is set, so the message was not sent.',
  action: 'Run "Context Ledger: Set API Key", or set ANTHROPIC_API_KEY in the environment VS Code starts with.',
  requestId: null,
  status: null,
};

function invalid(message: string, action: string): ChatErrorInfo {
  return { kind: 'invalid-request', message, action, requestId: null, status: null };
}

export async function runChatTurn(deps: ChatTurnDependencies, params: ChatTurnParams): Promise<ChatSendResult> {
  const { ledger } = deps;
  if (!params.apiKeyPresent) {
    return failed(noKeyError);
  }
  let session = ledger.getSession(params.sessionId);
  if (!session && params.newSessionName !== undefined && params.retryOfEventId === undefined) {
    // chat/send starts a new chat's session itself, so a panel never holds a half-made one.
    const [verdict] = await ledger.append([{ kind: 'session.started', id: turnIds.session(params.requestId), sessionId: params.sessionId, body: { name: params.newSessionName }, expectedVersion: 0 }]);
    if (verdict?.status === 'conflict') {
      return failed({ ...invalid('A session with this id already exists; the message was not sent.', 'Send it again.'), kind: 'conflict' });
    }
    session = ledger.getSession(params.sessionId);
  }
  if (!session || session.closed) {
    return failed(invalid(session ? 'This session is closed.' : `There is no session ${params.sessionId}.`, 'Start a new session.'));
  }
  const turnLog = new TurnLog(ledger, params.sessionId, params.requestId, session);
  // The model client gets what is left of the cap and names a timeout with its cause (a
  // retry-after wait, the characters kept); this one, a little later, is the net for the rest.
  const timeout = AbortSignal.timeout(params.settings.timeoutMs + timeoutGraceMs);
  const signal = AbortSignal.any([params.cancel, timeout]);
  const startedMs = Date.now();

  let userEventId: string;
  try {
    if (params.retryOfEventId) {
      // The newest question is among the session's last events (a turn has at most 8 rounds).
      const retry = planRetry(ledger.readSession(params.sessionId, { last: retryLookbackEvents }), params.retryOfEventId);
      if ('error' in retry) {
        return failed(retry.error);
      }
      userEventId = retry.userEventId;
      // The cut answers of earlier attempts stay in the log, but no request sends them again:
      // a request ending with an assistant message would be a prefill (refused by recent models).
      if (retry.cutAnswers.length > 0) {
        await turnLog.append(retry.cutAnswers.map((eventId, index): EventDraft => ({ kind: 'message.superseded', id: turnIds.superseded(params.requestId, index), sessionId: params.sessionId, body: { eventId, byRequestId: params.requestId } })));
      }
    } else {
      // Another window's question still being answered: asking now would interleave the turns.
      const open = openTurnOfOthers(ledger.readSession(params.sessionId, { last: retryLookbackEvents }), params.requestId, ledger.writerId, Date.now(), params.settings.timeoutMs + timeoutGraceMs);
      if (open) {
        return failed({
          kind: 'conflict',
          message: `Another window is answering a question in this session (asked ${Math.max(0, Math.round((Date.now() - open.askedMs) / 1000))} s ago); this message was not sent, so the two turns would not interleave.`,
          action: 'Wait for that answer (it appears here), then send again; or start a new session.',
          requestId: null,
          status: null,
        });
      }
      const [verdict] = await turnLog.append([{ kind: 'message.user', id: turnIds.user(params.requestId), sessionId: params.sessionId, body: { text: params.text }, parentId: lastEventId(ledger, params.sessionId) }]);
      userEventId = acceptedId(verdict, 'message.user');
    }
  } catch (error) {
    if (error instanceof TurnConflictError) {
      return failed(conflictInfo(error), error.reason === 'repeated' ? { userEventId: turnIds.user(params.requestId) } : {});
    }
    throw error;
  }

  let assistantEventId: string | null = null;
  let receipt: ContextReceipt | null = null;
  let partial = '';
  let round = 0;
  const exactCounts: ExactCountState = { unavailable: null };
  try {
    for (; round < maxToolRounds; round++) {
      const assembled = await assembleWithinBudget(deps, params, signal, exactCounts);
      if (assembled.request.messages.at(-1)?.role !== 'user') {
        // Never a prefill: the question is answered already, or the log lost it.
        return failed(invalid('This question already has a complete answer in the log.', 'Send a new message to continue.'), { userEventId, assistantEventId, receipt });
      }
      const promptVersion = deps.promptVersion?.();
      receipt = promptVersion ? { ...assembled.receipt, promptVersion: { version: promptVersion.version, digest: promptVersion.digest } } : assembled.receipt;
      await turnLog.append([{ kind: 'context.receipt', id: turnIds.receipt(params.requestId, round), sessionId: params.sessionId, body: { requestId: `${params.requestId}#${round}`, receipt } }]);
      deps.onProgress({ type: 'receipt', receipt });

      partial = '';
      const result = await deps.model.streamTurn(assembled.request, {
        tools: deps.remember ? [...modelToolDefinitions, rememberToolDefinition] : modelToolDefinitions,
        signal,
        timeoutMs: Math.max(1, params.settings.timeoutMs - (Date.now() - startedMs)),
        onText: (delta) => {
          partial += delta;
          deps.onProgress({ type: 'text', delta });
        },
        onToolUse: (block) => deps.onProgress({ type: 'toolUse', toolUseId: block.id, name: block.name, input: block.input }),
      });
      // The answer and the tool calls it makes are one atomic append: a reader never sees a
      // tool_use without the message it belongs to.
      const answer: EventDraft[] = [
        { kind: 'message.assistant', id: turnIds.assistant(params.requestId, round), sessionId: params.sessionId, body: { text: result.text, model: params.settings.model, ...(result.stopReason ? { stopReason: result.stopReason } : {}) }, parentId: lastEventId(ledger, params.sessionId) },
        ...result.toolUses.map((use, index): EventDraft => ({ kind: 'tool.use', id: turnIds.toolUse(params.requestId, round, index), sessionId: params.sessionId, body: { toolUseId: use.id, name: use.name, input: use.input } })),
      ];
      const verdicts = await turnLog.append(answer);
      partial = '';
      assistantEventId = verdicts[0]?.id ?? null;
      if (result.stopReason !== 'tool_use' || result.toolUses.length === 0) {
        return { status: 'complete', userEventId, assistantEventId, receipt, error: null, failureEventId: null };
      }
      // Tools run one after another and yield to the event loop (a search can take seconds),
      // so the engine answers other requests meanwhile; Stop aborts a running search.
      const results: EventDraft[] = [];
      for (const [index, use] of result.toolUses.entries()) {
        const outcome = use.name === rememberToolDefinition.name && deps.remember ? await deps.remember(use.input, { sessionId: params.sessionId, toolUseId: use.id }) : await runModelTool(deps.workspace, use.name, use.input, signal, deps.retrieval?.());
        deps.onProgress({ type: 'toolResult', toolUseId: use.id, content: outcome.content, isError: outcome.isError });
        results.push({ kind: 'tool.result', id: turnIds.toolResult(params.requestId, round, index), sessionId: params.sessionId, body: { toolUseId: use.id, content: outcome.content, isError: outcome.isError } });
      }
      await turnLog.append(results);
    }
    const info = invalid(`The model asked for tools ${maxToolRounds} times in a row; the turn was stopped there.`, 'Ask a narrower question, or continue the conversation.');
    return await endTurn(deps, params, turnLog, { status: 'failed', userEventId, assistantEventId, receipt, error: info, failureEventId: null });
  } catch (error) {
    if (error instanceof TurnConflictError && error.reason === 'repeated') {
      return failed(conflictInfo(error), { userEventId }); // How it ended is logged by the first run.
    }
    let info = error instanceof TurnConflictError ? conflictInfo(error) : deps.classifyError(error, partial);
    const kept = partial ? ` The ${partial.length} characters received so far are kept, marked incomplete.` : '';
    if (params.cancel.aborted && info.kind !== 'cancelled') {
      info = { ...info, kind: 'cancelled', message: `Stopped.${kept}`, action: 'Send again or retry when you are ready.' };
    } else if (timeout.aborted && info.kind !== 'timeout') {
      info = { ...info, kind: 'timeout', message: `No complete answer within ${Math.round(params.settings.timeoutMs / 1000)} s.${kept}`, action: 'Retry, or raise contextLedger.requestTimeoutSeconds.' };
    }
    if (partial && !(error instanceof TurnConflictError)) {
      // A cut answer is kept, marked incomplete: exactly one assistant event for this response.
      const verdicts = await turnLog.record([
        { kind: 'message.assistant', id: turnIds.assistant(params.requestId, round), sessionId: params.sessionId, body: { text: partial, model: params.settings.model, incomplete: true, stopReason: info.kind }, parentId: lastEventId(ledger, params.sessionId) },
      ]);
      assistantEventId = verdicts[0]?.status === 'conflict' ? assistantEventId : (verdicts[0]?.id ?? assistantEventId);
    }
    const status = info.kind === 'cancelled' ? 'cancelled' : partial ? 'incomplete' : 'failed';
    return await endTurn(deps, params, turnLog, { status, userEventId, assistantEventId, receipt, error: info, failureEventId: null });
  }
}

/** Logs how a turn that did not complete ended (`turn.failed`), so it stays where it happened. */
async function endTurn(deps: ChatTurnDependencies, params: ChatTurnParams, turnLog: TurnLog, result: ChatSendResult): Promise<ChatSendResult> {
  const info = result.error!;
  deps.log?.(`chat turn ${params.requestId} in session ${params.sessionId} ended: ${info.kind}${info.requestId ? ` (request ${info.requestId})` : ''}`);
  try {
    const [verdict] = await turnLog.record([
      {
        kind: 'turn.failed',
        id: turnIds.failed(params.requestId),
        sessionId: params.sessionId,
        body: { requestId: params.requestId, userEventId: result.userEventId, error: { kind: info.kind, message: info.message, action: info.action, requestId: info.requestId, status: info.status } },
      },
    ]);
    return { ...result, failureEventId: verdict?.status === 'conflict' ? null : (verdict?.id ?? null) };
  } catch (error) {
    deps.log?.(`the failure of turn ${params.requestId} could not be logged: ${error instanceof Error ? error.message : String(error)}`);
    return result;
  }
}

type RetryPlan = { readonly userEventId: string; readonly cutAnswers: readonly string[] } | { readonly error: ChatErrorInfo };

/**
 * What a Retry of `eventId` answers: that question, in its place. Only the session's newest
 * question can be answered again: an answer logged after a newer turn would belong to neither.
 */
export function planRetry(events: readonly StoredEvent[], eventId: string): RetryPlan {
  const index = events.findIndex((event) => event.id === eventId);
  const question = events[index];
  if (question?.kind !== 'message.user') {
    return { error: invalid('The message to retry is not a question of this session.', 'Send it again as a new message.') };
  }
  const after = events.slice(index + 1);
  if (after.some((event) => event.kind === 'message.user')) {
    return { error: invalid('A newer question was asked after this one, so its answer would no longer fit where it was asked.', 'Send it again as a new message.') };
  }
  const superseded = new Set(after.flatMap((event) => (event.kind === 'message.superseded' ? [event.body.eventId] : [])));
  const cutAnswers = after.filter((event) => event.kind === 'message.assistant' && event.body.incomplete === true && !superseded.has(event.id)).map((event) => event.id);
  return { userEventId: question.id, cutAnswers };
}

function conflictInfo(error: TurnConflictError): ChatErrorInfo {
  if (error.reason === 'repeated') {
    return invalid(error.message, 'Retry it, or send the message again.');
  }
  return {
    kind: 'conflict',
    message: error.message,
    action: error.reason === 'closed' ? 'Start a new session, or pick another one.' : 'Reload the session to see both turns, then send again.',
    requestId: null,
    status: null,
  };
}

function lastEventId(ledger: Ledger, sessionId: string): string | null {
  return ledger.readSession(sessionId, { last: 1 })[0]?.id ?? null;
}

function failed(error: ChatErrorInfo, partial: Partial<Pick<ChatSendResult, 'userEventId' | 'assistantEventId' | 'receipt'>> = {}): ChatSendResult {
  return { status: 'failed', userEventId: partial.userEventId ?? null, assistantEventId: partial.assistantEventId ?? null, receipt: partial.receipt ?? null, error, failureEventId: null };
}
