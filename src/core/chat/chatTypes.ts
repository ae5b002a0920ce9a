import type { ContextReceipt, WindowSpec } from '../context/contextTypes';

// The vocabulary of a chat turn: its settings, its streamed progress, its errors and its result.
// Defined in the engine; src/shared/chatProtocol.ts carries them between processes.

export interface ChatSettings {
  readonly model: string;
  readonly maxTokens: number;
  /** Messages API base URL (gateways, tests); null = the SDK default. */
  readonly baseUrl: string | null;
  /** Token budget of the assembled context (system prompt + history + the new prompt). */
  readonly budgetTokens: number;
  /** Default window; a session's own `session.windowSet` event overrides it. */
  readonly window: WindowSpec;
  readonly systemPrompt: string;
  /** Cap on the wall time of one send: every retry and tool round included. */
  readonly timeoutMs: number;
  /** Tokens of retrieved workspace chunks added to each request (0: none; absent: the default). */
  readonly retrievalBudgetTokens?: number;
}

export type ChatProgress =
  | { readonly type: 'receipt'; readonly receipt: ContextReceipt }
  | { readonly type: 'text'; readonly delta: string }
  | { readonly type: 'toolUse'; readonly toolUseId: string; readonly name: string; readonly input: unknown }
  | { readonly type: 'toolResult'; readonly toolUseId: string; readonly content: string; readonly isError: boolean };

export type ChatErrorKind =
  | 'no-key'
  | 'auth'
  | 'permission'
  | 'model-not-found'
  | 'prompt-too-long'
  | 'request-too-large'
  | 'rate-limited'
  | 'overloaded'
  | 'server'
  | 'network'
  | 'stream-error'
  | 'stream-cut'
  /** The answer held JSON that could not be parsed (an SSE event, a tool call's input). */
  | 'malformed-response'
  /** Another window wrote to the session (closed it, or answered in it) during this turn. */
  | 'conflict'
  | 'timeout'
  | 'cancelled'
  | 'invalid-request'
  | 'unknown';

export interface ChatErrorInfo {
  readonly kind: ChatErrorKind;
  /** What happened, in a sentence a user understands. */
  readonly message: string;
  /** What to do about it. */
  readonly action: string;
  /** The API's request id (request-id header), when there was a response. */
  readonly requestId: string | null;
  readonly status: number | null;
}

export interface ChatSendResult {
  readonly status: 'complete' | 'incomplete' | 'cancelled' | 'failed';
  readonly userEventId: string | null;
  /** The one assistant event of this turn (a cut answer is logged with `incomplete: true`). */
  readonly assistantEventId: string | null;
  readonly receipt: ContextReceipt | null;
  readonly error: ChatErrorInfo | null;
  /** The `turn.failed` event that records the error in the log (null: not logged). */
  readonly failureEventId: string | null;
}
