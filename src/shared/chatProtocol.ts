import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ChatProgress, ChatSendResult, ChatSettings } from '../core/chat/chatTypes';

// Chat and context requests between the extension (client) and the engine process (server).
// The engine assembles context from the log, calls the model, logs every event of the turn and
// streams progress back as notifications keyed by the caller's requestId.

export type { ChatErrorInfo, ChatErrorKind, ChatProgress, ChatSendResult, ChatSettings } from '../core/chat/chatTypes';

export interface ChatSendParams {
  /** Chosen by the caller; progress notifications and cancel use it. */
  readonly requestId: string;
  readonly sessionId: string;
  readonly text: string;
  /**
   * The API key update (src/shared/apiKeyChannel.ts) this send uses. The key itself never goes in
   * an LSP message: the LSP trace would write it to the output channel.
   */
  readonly keyVersion: number;
  readonly settings: ChatSettings;
  /** Retry: answer this user message (already in the log) again instead of logging `text`. */
  readonly retryOfEventId?: string;
  /** The session is new: the engine starts it with this name before the question (once). */
  readonly newSessionName?: string;
}

export interface ChatProgressParams {
  readonly requestId: string;
  readonly progress: ChatProgress;
}

export interface ChatCancelParams {
  readonly requestId: string;
}

export const ChatRequests = {
  send: new RequestType<ChatSendParams, ChatSendResult, void>('contextLedger/chat/send'),
  cancel: new RequestType<ChatCancelParams, boolean, void>('contextLedger/chat/cancel'),
} as const;

export const ChatNotifications = {
  progress: new NotificationType<ChatProgressParams>('contextLedger/chat/progress'),
} as const;
