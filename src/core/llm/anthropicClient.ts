// The Anthropic Messages API through @anthropic-ai/sdk: one streamed turn at a time, and token
// counts. Retries are the SDK's own (maxRetries, honouring retry-after); nothing here retries on
// top of them, since that would multiply attempts. One wall-time cap covers a whole call, SDK
// retries and their waits included, because the SDK's own `timeout` is per attempt and stops at
// the response headers: a stalled stream or a long retry-after would otherwise wait forever.
import { format } from 'node:util';
import Anthropic, { APIUserAbortError } from '@anthropic-ai/sdk';
import { partialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';
import type { ContentBlock, MessagesRequest, RequestMessage, ToolUseBlock } from '../context/contextTypes';
import { AttemptTrail } from './attemptTrail';
import { asApiError, ChatTurnError, MissingApiKeyError, redactSecrets, type MalformedOutput, type TurnFailurePhase } from './chatErrors';
import type { CountTokensOptions, ModelClientConfig, StreamTurnOptions, StreamTurnResult, TokenCount, ToolDefinition } from './modelTypes';

export const defaultMaxRetries = 2;

/** The JSON body of a Messages API request (without `stream`), as it goes over the wire. */
export interface MessagesApiParams {
  readonly model: string;
  readonly max_tokens: number;
  readonly system?: string;
  readonly messages: Anthropic.MessageParam[];
  readonly tools?: Anthropic.ToolUnion[];
}

function toBlockParam(block: ContentBlock): Anthropic.ContentBlockParam {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
    case 'tool_result':
      return block.is_error === undefined
        ? { type: 'tool_result', tool_use_id: block.tool_use_id, content: block.content }
        : { type: 'tool_result', tool_use_id: block.tool_use_id, content: block.content, is_error: block.is_error };
  }
}

function toMessageParam(message: RequestMessage): Anthropic.MessageParam {
  return { role: message.role, content: message.content.map(toBlockParam) };
}

function toToolParam(tool: ToolDefinition): Anthropic.ToolUnion {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: {
      type: 'object',
      properties: { ...tool.input_schema.properties },
      ...(tool.input_schema.required === undefined ? {} : { required: [...tool.input_schema.required] }),
    },
  };
}

/**
 * The request body for an assembled request: an empty system prompt is left out (the API
 * rejects empty text), tools only when there are some. The CLI can print this as "what would be sent".
 */
export function toMessagesApiParams(request: MessagesRequest, settings: { model: string; maxTokens: number; tools?: readonly ToolDefinition[] }): MessagesApiParams {
  return {
    model: settings.model,
    max_tokens: settings.maxTokens,
    ...(request.system.length > 0 ? { system: request.system } : {}),
    messages: request.messages.map(toMessageParam),
    ...(settings.tools && settings.tools.length > 0 ? { tools: settings.tools.map(toToolParam) } : {}),
  };
}

function toContentBlocks(message: Anthropic.Message): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const block of message.content) {
    if (block.type === 'text') {
      blocks.push({ type: 'text', text: block.text });
    } else if (block.type === 'tool_use') {
      blocks.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
    }
  }
  return blocks;
}

interface CallState {
  partialText: string;
  partialToolUses: ToolUseBlock[];
  requestId: string | null;
  responseStatus: number | null;
  phase: TurnFailurePhase;
  readonly trail: AttemptTrail;
  /** The tool_use block whose input JSON is streaming, with what arrived of it. */
  openToolInput: { name: string; json: string } | null;
}

function newCallState(): CallState {
  return { partialText: '', partialToolUses: [], requestId: null, responseStatus: null, phase: 'request', trail: new AttemptTrail(), openToolInput: null };
}

/**
 * What was malformed, when the SDK failed on JSON it could not parse: the SDK throws the same
 * SyntaxError for an SSE event's data and for a tool call's input, so tell them apart here.
 */
function malformedOutput(error: unknown, state: CallState): MalformedOutput | null {
  let syntax: SyntaxError | null = null;
  for (let current: unknown = error, depth = 0; current && depth < 5 && !syntax; depth += 1) {
    syntax = current instanceof SyntaxError ? current : null;
    current = (current as { cause?: unknown }).cause;
  }
  if (!syntax || state.phase !== 'stream') {
    return null;
  }
  const open = state.openToolInput;
  if (open) {
    try {
      // The SDK's own parser of streamed tool input: what it refuses is what it failed on.
      partialParse(open.json);
    } catch {
      return { what: 'tool-input', toolName: open.name, detail: syntax.message };
    }
  }
  return { what: 'event', toolName: null, detail: syntax.message };
}

/** A model client for one set of settings; make a new one when the key or settings change. */
export class AnthropicChatClient {
  readonly model: string;
  readonly baseUrl: string | null;
  readonly maxTokens: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  // null without a key: every call then rejects with MissingApiKeyError (as a ChatTurnError).
  readonly #sdk: Anthropic | null;
  readonly #redact: (text: string) => string;

  constructor(config: ModelClientConfig) {
    this.model = config.model;
    this.baseUrl = config.baseUrl;
    this.maxTokens = config.maxTokens;
    this.timeoutMs = config.timeoutMs;
    this.maxRetries = config.maxRetries ?? defaultMaxRetries;
    const apiKey = config.apiKey && config.apiKey.trim().length > 0 ? config.apiKey.trim() : null;
    this.#redact = (text) => redactSecrets(text, [apiKey]);
    const log = config.log ?? ((level: string, message: string) => (level === 'error' || level === 'warn' ? console.error(`[anthropic-sdk] ${message}`) : undefined));
    const sink =
      (level: 'error' | 'warn' | 'info' | 'debug') =>
      (message: string, ...rest: unknown[]): void =>
        log(level, this.#redact(format(message, ...rest)));
    // Without a key the SDK is not constructed at all: it would otherwise look for credentials
    // of its own (environment, profile files) on the first request.
    this.#sdk =
      apiKey === null
        ? null
        : new Anthropic({
            apiKey,
            ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
            maxRetries: this.maxRetries,
            timeout: config.timeoutMs,
            logLevel: config.logLevel ?? 'warn',
            logger: { error: sink('error'), warn: sink('warn'), info: sink('info'), debug: sink('debug') },
            openTelemetry: false,
          });
  }

  /** Whether a key is set (without one, calls fail with kind `no-key`). */
  get hasKey(): boolean {
    return this.#sdk !== null;
  }

  /**
   * Streams one assistant turn for `request`. Resolves with the whole turn; rejects with a
   * ChatTurnError (classify it with classifyChatError) that keeps the text and tool calls received
   * before the failure.
   */
  async streamTurn(request: MessagesRequest, options: StreamTurnOptions): Promise<StreamTurnResult> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const state = newCallState();
    const sdk = this.#sdk;
    if (!sdk) {
      throw this.#failure(new MissingApiKeyError(), state, null, timeoutMs);
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([options.signal, deadline]);
    const params = toMessagesApiParams(request, { model: this.model, maxTokens: options.maxTokens ?? this.maxTokens, ...(options.tools ? { tools: options.tools } : {}) });
    const stream = sdk.messages.stream(params, { signal, middleware: [state.trail.middleware] });
    // A throwing handler must not look like a broken stream: remember it and stop the stream.
    const handlerFailure: { failed: boolean; error: unknown } = { failed: false, error: null };
    const guard = (handler: () => void): void => {
      if (handlerFailure.failed) {
        return;
      }
      try {
        handler();
      } catch (error) {
        handlerFailure.failed = true;
        handlerFailure.error = error;
        stream.abort();
      }
    };
    stream.on('connect', () => {
      state.phase = 'stream';
      state.requestId = stream.request_id ?? null;
      state.responseStatus = stream.response?.status ?? null;
    });
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_start') {
        state.openToolInput = event.content_block.type === 'tool_use' ? { name: event.content_block.name, json: '' } : null;
      } else if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta' && state.openToolInput) {
        state.openToolInput.json += event.delta.partial_json;
      } else if (event.type === 'content_block_stop') {
        state.openToolInput = null;
      }
    });
    stream.on('text', (delta) => {
      state.partialText += delta;
      guard(() => options.onText?.(delta));
    });
    stream.on('contentBlock', (block) => {
      if (block.type === 'tool_use') {
        const toolUse: ToolUseBlock = { type: 'tool_use', id: block.id, name: block.name, input: block.input };
        state.partialToolUses.push(toolUse);
        guard(() => options.onToolUse?.(toolUse));
      }
    });
    try {
      const message = await stream.finalMessage();
      if (handlerFailure.failed) {
        throw handlerFailure.error;
      }
      const usage = message.usage;
      return {
        stopReason: message.stop_reason,
        text: state.partialText,
        content: toContentBlocks(message),
        toolUses: state.partialToolUses,
        usage: {
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
          cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
        },
        requestId: stream.request_id ?? null,
        messageId: message.id,
        model: message.model,
      };
    } catch (error) {
      if (handlerFailure.failed) {
        throw this.#failure(handlerFailure.error, { ...state, phase: 'handler' }, null, timeoutMs);
      }
      throw this.#failure(error, state, this.#abortReason(error, options.signal, deadline), timeoutMs);
    }
  }

  /**
   * Input tokens of `request` from the API's count_tokens (same wall-time cap as a turn unless
   * `timeoutMs` says otherwise; `maxRetries` overrides the client's SDK retries for this call).
   */
  async countTokens(request: MessagesRequest, options: CountTokensOptions = {}): Promise<TokenCount> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const state = newCallState();
    const sdk = this.#sdk;
    if (!sdk) {
      throw this.#failure(new MissingApiKeyError(), state, null, timeoutMs);
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const full = toMessagesApiParams(request, { model: this.model, maxTokens: this.maxTokens, ...(options.tools ? { tools: options.tools } : {}) });
    const params: Anthropic.MessageCountTokensParams = {
      model: full.model,
      messages: full.messages,
      ...(full.system === undefined ? {} : { system: full.system }),
      ...(full.tools === undefined ? {} : { tools: full.tools as Anthropic.MessageCountTokensTool[] }),
    };
    try {
      const { data, request_id: requestId } = await sdk.messages
        .countTokens(params, { signal, middleware: [state.trail.middleware], ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }) })
        .withResponse();
      return { inputTokens: data.input_tokens, requestId: requestId ?? null };
    } catch (error) {
      throw this.#failure(error, state, this.#abortReason(error, options.signal, deadline), timeoutMs);
    }
  }

  /** Why the call was aborted, if the failure is an abort: the caller's cancel wins over the cap. */
  #abortReason(error: unknown, callerSignal: AbortSignal | undefined, deadline: AbortSignal): 'cancelled' | 'timeout' | null {
    const isAbort = error instanceof APIUserAbortError || (error instanceof Error && error.name === 'AbortError');
    if (!isAbort) {
      return null;
    }
    if (callerSignal?.aborted) {
      return 'cancelled';
    }
    return deadline.aborted ? 'timeout' : null;
  }

  #failure(error: unknown, state: CallState, abortReason: 'cancelled' | 'timeout' | null, timeoutMs: number): ChatTurnError {
    const apiError = asApiError(error);
    // Aborted while the SDK waited to retry: the response that made it wait is the cause.
    const waitedOn = abortReason && state.phase === 'request' ? state.trail.lastRetryable : null;
    const requestId = apiError?.requestID ?? state.requestId ?? waitedOn?.requestId ?? null;
    const responseStatus = apiError?.status ?? state.responseStatus ?? waitedOn?.status ?? null;
    const what = abortReason ?? (error instanceof Error ? error.message : String(error));
    return new ChatTurnError(
      `Model call failed (${what})`,
      error,
      {
        partialText: state.partialText,
        partialToolUses: [...state.partialToolUses],
        requestId,
        responseStatus,
        phase: state.phase,
        abortReason,
        timeoutMs,
        waitedOn,
        malformed: abortReason ? null : malformedOutput(error, state),
      },
      this.#redact,
    );
  }
}

/** The client for the chat settings and key (the key may be null: calls then fail with `no-key`). */
export function createAnthropicClient(config: ModelClientConfig): AnthropicChatClient {
  return new AnthropicChatClient(config);
}
