// Every way a model call fails, turned into what the user reads: a kind, a sentence, what to do,
// the API's request id and the HTTP status. The client (anthropicClient.ts) rejects with a
// ChatTurnError that keeps what was streamed before the failure, so a cut answer can be logged as
// an incomplete assistant message. No message here ever carries the API key.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import type { ChatErrorInfo, ChatErrorKind } from '../chat/chatTypes';
import type { ToolUseBlock } from '../context/contextTypes';
import type { AttemptRecord } from './attemptTrail';

/** An SDK APIError of any status (its generic defaults are `any`). */
export type AnyApiError = APIError<number | undefined, Headers | undefined, object | undefined>;

/** The error as an SDK APIError, or null. */
export function asApiError(error: unknown): AnyApiError | null {
  return error instanceof APIError ? (error as AnyApiError) : null;
}

/** There is no API key: chat is unavailable until one is set. */
export class MissingApiKeyError extends Error {
  override readonly name = 'MissingApiKeyError';
  constructor() {
    super('No Anthropic API key is set.');
  }
}

/**
 * Where a call failed: before an answer began (`request`: an HTTP error, the network, a cancel
 * while waiting or retrying), while the 200 answer streamed (`stream`), or in one of the caller's
 * own onText/onToolUse handlers (`handler`).
 */
export type TurnFailurePhase = 'request' | 'stream' | 'handler';

/** JSON in the answer that could not be parsed: an SSE event's data, or a tool call's input. */
export interface MalformedOutput {
  readonly what: 'event' | 'tool-input';
  readonly toolName: string | null;
  /** The parser's message. */
  readonly detail: string;
}

export interface ChatTurnFailure {
  /** Text deltas received before the failure, concatenated. */
  readonly partialText: string;
  /** Tool calls whose input was complete before the failure. */
  readonly partialToolUses: readonly ToolUseBlock[];
  /** The request id of the response the failure belongs to (the last attempt), if any. */
  readonly requestId: string | null;
  /** HTTP status of that response (200 for a failure mid-stream), if any. */
  readonly responseStatus: number | null;
  readonly phase: TurnFailurePhase;
  /** Set when the call was aborted: by the caller (`cancelled`) or by the wall-time cap (`timeout`). */
  readonly abortReason: 'cancelled' | 'timeout' | null;
  /** The wall-time cap that applied. */
  readonly timeoutMs: number;
  /** When aborted while the SDK waited to retry: the failed attempt it was waiting on. */
  readonly waitedOn?: AttemptRecord | null;
  /** When the answer held JSON the SDK could not parse. */
  readonly malformed?: MalformedOutput | null;
}

/** How every model call of the client rejects. `cause` is the SDK's error (never shown as is). */
export class ChatTurnError extends Error implements ChatTurnFailure {
  override readonly name = 'ChatTurnError';
  readonly partialText: string;
  readonly partialToolUses: readonly ToolUseBlock[];
  readonly requestId: string | null;
  readonly responseStatus: number | null;
  readonly phase: TurnFailurePhase;
  readonly abortReason: 'cancelled' | 'timeout' | null;
  readonly timeoutMs: number;
  readonly waitedOn: AttemptRecord | null;
  readonly malformed: MalformedOutput | null;
  // A closure, so the key it redacts never shows in an inspected or serialized error.
  readonly #redact: (text: string) => string;

  constructor(message: string, cause: unknown, failure: ChatTurnFailure, redact: (text: string) => string = (text) => redactSecrets(text)) {
    super(redact(message), { cause });
    this.#redact = redact;
    this.partialText = failure.partialText;
    this.partialToolUses = failure.partialToolUses;
    this.requestId = failure.requestId;
    this.responseStatus = failure.responseStatus;
    this.phase = failure.phase;
    this.abortReason = failure.abortReason;
    this.timeoutMs = failure.timeoutMs;
    this.waitedOn = failure.waitedOn ?? null;
    this.malformed = failure.malformed ?? null;
  }

  /** Removes the client's API key (and anything shaped like a key) from a text. */
  redact(text: string): string {
    return this.#redact(text);
  }
}

const secretPatterns: ReadonlyArray<[RegExp, string]> = [
  [/sk-ant-[A-Za-z0-9_-]+/g, 'sk-ant-[redacted]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]'],
  [/(x-api-key["'\s:=]+)[^\s"',;}]+/gi, '$1[redacted]'],
];

/** Removes the given secrets, and anything shaped like an Anthropic key or a bearer token. */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) {
      redacted = redacted.split(secret).join('[redacted]');
    }
  }
  for (const [pattern, replacement] of secretPatterns) {
    redacted = redacted.replace(pattern, replacement);
  }
  return redacted;
}

function errorCode(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** The messages of an error and its causes, without a final period. */
function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : JSON.stringify(current);
    if (message && !parts.includes(message)) {
      parts.push(message);
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ').replace(/[.\s]+$/, '');
}

/** The body's `error.message`, else the SDK's message, without a final period (it goes mid-sentence). */
function apiMessage(error: AnyApiError): string {
  return (error.apiMessage ?? error.message).replace(/[.\s]+$/, '');
}

function bodyRequestId(error: AnyApiError): string | null {
  const body = error.error as { request_id?: unknown } | undefined;
  return typeof body?.request_id === 'string' ? body.request_id : null;
}

/** "waiting to retry after the API answered 429 (request req_…), which asked to wait 10 s". */
function describeWait(attempt: AttemptRecord): string {
  const name = attempt.status === 429 ? '429, rate limited' : attempt.status === 529 ? '529, overloaded' : String(attempt.status);
  return `waiting to retry after the API answered ${name}${attempt.requestId ? `, request ${attempt.requestId}` : ''}${attempt.retryAfter ? `, and asked to wait ${attempt.retryAfter} s` : ''}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Messages of a cut stream: the SDK's words for a body that ended or broke before message_stop. */
const cutStreamMessage = /terminated|other side closed|socket hang up|ECONNRESET|stream ended without producing|request ended without sending any chunks|Unexpected end of JSON/i;

/**
 * What a failure of a model call means to the user. `error` is what the client rejected with (a
 * ChatTurnError), or any SDK error; `partialText` defaults to the ChatTurnError's.
 */
export function classifyChatError(error: unknown, partialText?: string): ChatErrorInfo {
  const turn = error instanceof ChatTurnError ? error : null;
  const cause: unknown = turn ? turn.cause : error;
  const partial = partialText ?? turn?.partialText ?? '';
  let requestId = turn?.requestId ?? null;
  let status = turn?.responseStatus ?? null;
  const keptNote = partial.length > 0 ? ` The ${partial.length} characters received so far are kept, marked incomplete.` : '';

  const redact = (text: string): string => (turn ? turn.redact(text) : redactSecrets(text));
  const info = (kind: ChatErrorKind, message: string, action: string): ChatErrorInfo => ({
    kind,
    message: redact(message),
    action: redact(action),
    requestId,
    status,
  });

  if (cause instanceof MissingApiKeyError) {
    return info('no-key', 'No Anthropic API key is set, so chat is unavailable (everything else still works).', 'Run "Context Ledger: Set API Key", or set ANTHROPIC_API_KEY before starting VS Code, then send again.');
  }
  const waited = turn?.waitedOn ? describeWait(turn.waitedOn) : '';
  if (turn?.abortReason === 'timeout') {
    return info(
      'timeout',
      `No complete answer within ${seconds(turn.timeoutMs)}, the time allowed for one request (retries included)${waited ? `: it ran out while ${waited}` : ''}.${keptNote}`,
      turn.waitedOn?.status === 429
        ? 'Wait a minute and retry, or raise the timeout setting so a retry-after wait fits in it.'
        : 'Send again; if it keeps happening, check your network or gateway, or raise the timeout setting.',
    );
  }
  if (turn?.abortReason === 'cancelled' || cause instanceof APIUserAbortError) {
    return info('cancelled', partial.length > 0 ? `Stopped.${keptNote}` : `Stopped before an answer arrived${waited ? `, while ${waited}` : ''}.`, 'Send again or retry when you are ready.');
  }
  if (turn?.malformed) {
    const { what, toolName, detail } = turn.malformed;
    return info(
      'malformed-response',
      what === 'tool-input'
        ? `The model's call of the tool "${toolName ?? '?'}" came with input that is not valid JSON (${detail}); the answer was stopped there.${keptNote}`
        : `The API sent part of the answer as data that is not valid JSON (${detail}); the answer was stopped there.${keptNote}`,
      what === 'tool-input' ? 'Retry; the model usually writes the call correctly the next time.' : 'Retry; if it keeps happening, a proxy or gateway between you and the API may be altering the stream.',
    );
  }
  if (turn?.phase === 'handler') {
    return info('unknown', `Context Ledger failed while handling the streamed answer: ${messageChain(cause)}.${keptNote}`, 'Retry; if it happens again, report it with the engine log.');
  }
  if (cause instanceof APIConnectionTimeoutError) {
    return info('timeout', 'The model API did not answer in time.', 'Check your network, proxy or gateway, then send again.');
  }
  if (cause instanceof APIConnectionError) {
    const code = errorCode(cause);
    return info(
      'network',
      `Could not reach the model API${code ? ` (${code})` : ''}.`,
      'Check your network connection and the "Base URL" setting (a proxy or gateway may be down), then send again.',
    );
  }
  const apiError = asApiError(cause);
  if (apiError) {
    requestId = apiError.requestID ?? bodyRequestId(apiError) ?? requestId;
    const detail = apiMessage(apiError);
    if (typeof apiError.status === 'number') {
      status = apiError.status;
      const retryAfter = apiError.headers?.get('retry-after');
      switch (apiError.status) {
        case 400:
          if (/prompt is too long/i.test(detail) || apiError.errorCode === 'prompt_too_long') {
            return info('prompt-too-long', `The request is longer than the model's context window: ${detail}.`, 'Choose a smaller window or token budget, start a new topic, or compact the session, then send again.');
          }
          return info('invalid-request', `The API rejected the request as invalid: ${detail}.`, 'This is likely a bug in Context Ledger: report it with the request id.');
        case 401:
          return info('auth', 'The API key was rejected (401 authentication error).', 'Set a valid key with "Context Ledger: Set API Key" (or fix ANTHROPIC_API_KEY), then send again.');
        case 402:
          return info('permission', `The account cannot be billed for this request (402): ${detail}.`, 'Check billing for your organization in the Anthropic Console.');
        case 403:
          return info('permission', `This API key is not allowed to make this request (403): ${detail}.`, "Check the key's workspace and model access in the Anthropic Console, or choose another model.");
        case 404:
          return info('model-not-found', /^model: /.test(detail) ? `The model "${detail.slice('model: '.length)}" was not found (404).` : `Not found (404): ${detail}.`, 'Check the "Model" setting for a typo or a retired model, and that the "Base URL" setting points at the Messages API.');
        case 408:
          return info('timeout', 'The API timed out on the request (408).', 'Send again in a moment.');
        case 413:
          return info('request-too-large', 'The request is larger than the API accepts (413 request too large).', 'Lower the token budget or leave out large file chunks, then send again.');
        case 429:
          return info(
            'rate-limited',
            `The API's rate limit was reached (429)${retryAfter ? `; it asks to wait ${retryAfter} s` : ''}.`,
            'Wait a minute and retry, or lower the token budget so requests are smaller.',
          );
        case 529:
          return info('overloaded', "Anthropic's API is overloaded (529).", 'Retry in a little while.');
        default:
          if (apiError.status >= 500) {
            return info('server', `The API failed with an internal error (${apiError.status}).`, 'Retry in a moment; if it persists, check status.anthropic.com.');
          }
          return info('unknown', `The API answered ${apiError.status}: ${detail}.`, 'Retry; if it happens again, report it with the request id.');
      }
    }
    // An APIError without a status is an `error` event inside the 200 stream.
    status = status ?? 200;
    const overloaded = apiError.type === 'overloaded_error';
    return info(
      'stream-error',
      `The API reported an error in the middle of the answer (${apiError.type ?? 'error'}: ${detail}).${keptNote}`,
      overloaded ? 'The API is overloaded: retry in a little while.' : 'Retry to get a complete answer.',
    );
  }
  if (turn?.phase === 'stream' || cutStreamMessage.test(messageChain(cause))) {
    return info('stream-cut', `The connection dropped in the middle of the answer.${keptNote}`, 'Retry to get the complete answer.');
  }
  return info('unknown', `Unexpected error: ${messageChain(cause)}.${keptNote}`, 'Retry; if it happens again, report it with the engine log.');
}
