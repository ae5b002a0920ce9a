import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ContextReceipt, MessagesRequest, WindowSpec } from '../core/context/contextTypes';

// Chat and context requests between the extension (client) and the engine process (server).
// The engine assembles context from the log, calls the model, logs every event of the turn and
// streams progress back as notifications keyed by the caller's requestId.

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
}

export interface ChatSendParams {
  /** Chosen by the caller; progress notifications and cancel use it. */
  readonly requestId: string;
  readonly sessionId: string;
  readonly text: string;
  /** From VS Code SecretStorage or ANTHROPIC_API_KEY; never logged or stored by the engine. */
  readonly apiKey: string | null;
  readonly settings: ChatSettings;
}

export type ChatProgress =
  | { readonly type: 'receipt'; readonly receipt: ContextReceipt }
  | { readonly type: 'text'; readonly delta: string }
  | { readonly type: 'toolUse'; readonly toolUseId: string; readonly name: string; readonly input: unknown }
  | { readonly type: 'toolResult'; readonly toolUseId: string; readonly content: string; readonly isError: boolean };

export interface ChatProgressParams {
  readonly requestId: string;
  readonly progress: ChatProgress;
}

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
}

export interface ChatCancelParams {
  readonly requestId: string;
}

export interface ContextPreviewParams {
  readonly sessionId: string;
  readonly budgetTokens: number;
  /** Window to use; absent = the session's own, else the default. */
  readonly window?: WindowSpec;
  readonly systemPrompt: string;
  /** A prompt to include as the next user turn (absent = the log as it is). */
  readonly promptText?: string;
}

export interface ContextPreviewResult {
  readonly request: MessagesRequest;
  readonly receipt: ContextReceipt;
}

export const ChatRequests = {
  send: new RequestType<ChatSendParams, ChatSendResult, void>('contextLedger/chat/send'),
  cancel: new RequestType<ChatCancelParams, boolean, void>('contextLedger/chat/cancel'),
  previewContext: new RequestType<ContextPreviewParams, ContextPreviewResult, void>('contextLedger/context/preview'),
} as const;

export const ChatNotifications = {
  progress: new NotificationType<ChatProgressParams>('contextLedger/chat/progress'),
} as const;
