import type { ContextReceipt, MessagesRequest, WindowSpec } from '../context/contextTypes';
import type { Ledger } from '../ledger';
import type { EventDraft } from '../log/events';
import { modelToolDefinitions, runModelTool, type ToolDefinition } from '../tools/modelTools';
import type { WorkspaceFiles } from '../tools/workspaceFiles';
import type { ChatErrorInfo, ChatProgress, ChatSendResult, ChatSettings } from './chatTypes';

// One chat turn, as the engine runs it: log the user's message, assemble the context from the
// log, stream the model's answer, run the read-only tools it asks for, and log every step. The
// request is a pure function of the log; every event of the turn is in the journal before the
// turn's result is returned.

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
    options: { readonly tools: readonly ToolDefinition[]; readonly signal: AbortSignal; onText(delta: string): void; onToolUse(block: ModelToolUse): void },
  ): Promise<ModelTurnResult>;
  /** Exact input tokens of a request (count_tokens); absent or failing = estimates are used. */
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
  readonly onProgress: (progress: ChatProgress) => void;
  readonly log?: (message: string) => void;
}

export interface ChatTurnParams {
  readonly sessionId: string;
  readonly text: string;
  readonly apiKeyPresent: boolean;
  readonly settings: ChatSettings;
  /** Aborted when the user presses Stop. */
  readonly cancel: AbortSignal;
  /** Answer this logged user message again (Retry) instead of logging `text`. */
  readonly retryOfEventId?: string;
}

const maxToolRounds = 8;
const maxRecountAttempts = 2;

export const noKeyError: ChatErrorInfo = {
  kind: 'no-key',
  message: 'No Anthropic API key is set, so the message was not sent.',
  action: 'Run "Context Ledger: Set API Key", or set ANTHROPIC_API_KEY in the environment VS Code starts with.',
  requestId: null,
  status: null,
};

export async function runChatTurn(deps: ChatTurnDependencies, params: ChatTurnParams): Promise<ChatSendResult> {
  const { ledger } = deps;
  const session = ledger.getSession(params.sessionId);
  if (!session || session.closed) {
    return failed({ kind: 'invalid-request', message: session ? 'This session is closed.' : `There is no session ${params.sessionId}.`, action: 'Start a new session.', requestId: null, status: null });
  }
  if (!params.apiKeyPresent) {
    return failed(noKeyError);
  }
  const timeout = AbortSignal.timeout(params.settings.timeoutMs);
  const signal = AbortSignal.any([params.cancel, timeout]);

  let userEventId: string;
  if (params.retryOfEventId) {
    const retried = ledger.readSession(params.sessionId).find((event) => event.id === params.retryOfEventId);
    if (retried?.kind !== 'message.user') {
      return failed({ kind: 'invalid-request', message: 'The message to retry is not a question of this session.', action: 'Send it again as a new message.', requestId: null, status: null });
    }
    userEventId = retried.id;
  } else {
    userEventId = await appendOne(ledger, { kind: 'message.user', sessionId: params.sessionId, body: { text: params.text }, parentId: lastEventId(ledger, params.sessionId) });
  }
  let assistantEventId: string | null = null;
  let receipt: ContextReceipt | null = null;
  let partial = '';
  try {
    for (let round = 0; round < maxToolRounds; round++) {
      const assembled = await assembleWithinBudget(deps, params, signal);
      receipt = assembled.receipt;
      await appendOne(ledger, { kind: 'context.receipt', sessionId: params.sessionId, body: { requestId: `${userEventId}#${round}`, receipt } });
      deps.onProgress({ type: 'receipt', receipt });

      partial = '';
      const result = await deps.model.streamTurn(assembled.request, {
        tools: modelToolDefinitions,
        signal,
        onText: (delta) => {
          partial += delta;
          deps.onProgress({ type: 'text', delta });
        },
        onToolUse: (block) => deps.onProgress({ type: 'toolUse', toolUseId: block.id, name: block.name, input: block.input }),
      });
      partial = '';
      // The answer and the tool calls it makes are one atomic append: a reader never sees a
      // tool_use without the message it belongs to.
      const answer: EventDraft[] = [
        { kind: 'message.assistant', sessionId: params.sessionId, body: { text: result.text, model: params.settings.model, ...(result.stopReason ? { stopReason: result.stopReason } : {}) }, parentId: lastEventId(ledger, params.sessionId) },
        ...result.toolUses.map((use): EventDraft => ({ kind: 'tool.use', sessionId: params.sessionId, body: { toolUseId: use.id, name: use.name, input: use.input } })),
      ];
      const verdicts = await ledger.append(answer);
      assistantEventId = verdicts[0]?.id ?? null;
      if (result.stopReason !== 'tool_use' || result.toolUses.length === 0) {
        return { status: 'complete', userEventId, assistantEventId, receipt, error: null };
      }
      const results = result.toolUses.map((use) => {
        const outcome = runModelTool(deps.workspace, use.name, use.input);
        deps.onProgress({ type: 'toolResult', toolUseId: use.id, content: outcome.content, isError: outcome.isError });
        return { kind: 'tool.result', sessionId: params.sessionId, body: { toolUseId: use.id, content: outcome.content, isError: outcome.isError } } as EventDraft;
      });
      await ledger.append(results);
    }
    return failed(
      { kind: 'invalid-request', message: `The model asked for tools ${maxToolRounds} times in a row; the turn was stopped there.`, action: 'Ask a narrower question, or continue the conversation.', requestId: null, status: null },
      { userEventId, assistantEventId, receipt },
    );
  } catch (error) {
    let info = deps.classifyError(error, partial);
    if (params.cancel.aborted) {
      info = { ...info, kind: 'cancelled', message: 'Stopped.', action: 'Send again or retry when you are ready.' };
    } else if (timeout.aborted) {
      info = { ...info, kind: 'timeout', message: `No complete answer within ${Math.round(params.settings.timeoutMs / 1000)} s.`, action: 'Retry, or raise contextLedger.requestTimeoutSeconds.' };
    }
    if (partial) {
      // A cut answer is kept, marked incomplete: exactly one assistant event for this response.
      const verdicts = await ledger.append([
        { kind: 'message.assistant', sessionId: params.sessionId, body: { text: partial, model: params.settings.model, incomplete: true, stopReason: info.kind }, parentId: lastEventId(ledger, params.sessionId) },
      ]);
      assistantEventId = verdicts[0]?.id ?? assistantEventId;
    }
    deps.log?.(`chat turn in session ${params.sessionId} ended: ${info.kind}${info.requestId ? ` (request ${info.requestId})` : ''}`);
    return {
      status: info.kind === 'cancelled' ? 'cancelled' : partial ? 'incomplete' : 'failed',
      userEventId,
      assistantEventId,
      receipt,
      error: info,
    };
  }
}

/**
 * Assembles with estimated counts, then checks the exact count (count_tokens) and shrinks the
 * budget if the estimate was low, so "prompt is too long" never comes from our own assembly.
 */
async function assembleWithinBudget(deps: ChatTurnDependencies, params: ChatTurnParams, signal: AbortSignal): Promise<{ request: MessagesRequest; receipt: ContextReceipt }> {
  await deps.assemble.warmUp?.(params.sessionId);
  const options: AssembleOptions = { window: params.settings.window, budgetTokens: params.settings.budgetTokens, systemPrompt: params.settings.systemPrompt, nowMs: Date.now() };
  let assembled = deps.assemble.assemble(params.sessionId, options);
  if (!deps.model.countTokens) {
    return assembled;
  }
  let budget = options.budgetTokens;
  for (let attempt = 0; attempt <= maxRecountAttempts; attempt++) {
    let exact: number;
    try {
      exact = await deps.model.countTokens(assembled.request, modelToolDefinitions, signal);
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      deps.log?.(`count_tokens failed; using estimates: ${error instanceof Error ? error.message : String(error)}`);
      return assembled;
    }
    if (exact <= options.budgetTokens || attempt === maxRecountAttempts) {
      // The receipt states the user's budget, not the smaller one a re-assembly aimed at: one set of numbers everywhere.
      return { request: assembled.request, receipt: { ...assembled.receipt, budgetTokens: options.budgetTokens, totalTokens: exact, tokenSource: 'api' } };
    }
    budget = Math.floor((budget * options.budgetTokens) / exact) - 1;
    assembled = deps.assemble.assemble(params.sessionId, { ...options, budgetTokens: budget });
  }
  return assembled;
}

async function appendOne(ledger: Ledger, draft: EventDraft): Promise<string> {
  const [verdict] = await ledger.append([draft]);
  if (!verdict || verdict.status === 'conflict') {
    throw new Error(`the log refused the ${draft.kind} event: ${verdict?.status === 'conflict' ? verdict.reason : 'no verdict'}`);
  }
  return verdict.id;
}

function lastEventId(ledger: Ledger, sessionId: string): string | null {
  return ledger.readSession(sessionId, { last: 1 })[0]?.id ?? null;
}

function failed(error: ChatErrorInfo, partial: Partial<Pick<ChatSendResult, 'userEventId' | 'assistantEventId' | 'receipt'>> = {}): ChatSendResult {
  return { status: 'failed', userEventId: partial.userEventId ?? null, assistantEventId: partial.assistantEventId ?? null, receipt: partial.receipt ?? null, error };
}
