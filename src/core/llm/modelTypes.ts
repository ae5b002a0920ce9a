// The model client's own shapes: its settings, the tools offered to the model, and what one
// streamed turn returns. Request content uses the Messages API shapes of context assembly.
import type { ContentBlock, ToolUseBlock } from '../context/contextTypes';

export interface ModelClientConfig {
  /** From SecretStorage or ANTHROPIC_API_KEY (resolved by the caller); null = chat is unavailable. */
  readonly apiKey: string | null;
  /** Messages API base URL (a gateway, the test server); null = the SDK's default. */
  readonly baseUrl: string | null;
  readonly model: string;
  readonly maxTokens: number;
  /** Cap on the wall time of one action (a streamed turn or a count), every SDK retry included. */
  readonly timeoutMs: number;
  /** The SDK's retries of 408/409/429/5xx and connection errors (honouring retry-after). Default 2. */
  readonly maxRetries?: number;
  /** Where the SDK's log lines go, secrets redacted. Default: warnings and errors to stderr. */
  readonly log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
  /** Default 'warn'. */
  readonly logLevel?: 'off' | 'error' | 'warn' | 'info' | 'debug';
}

/** A client tool offered to the model (Messages API `tools[]`). */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly input_schema: {
    readonly type: 'object';
    readonly properties: Readonly<Record<string, unknown>>;
    readonly required?: readonly string[];
  };
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded'
  | (string & {});

export interface TurnUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens: number;
  readonly cacheCreationInputTokens: number;
}

export interface StreamTurnOptions {
  readonly tools?: readonly ToolDefinition[];
  /** The caller's cancel (the user's Stop). */
  readonly signal: AbortSignal;
  /** Each text delta, in order. */
  readonly onText?: (delta: string) => void;
  /** Each tool call, once its input is complete (at its content_block_stop). */
  readonly onToolUse?: (block: ToolUseBlock) => void;
  /** Wall-time cap of this call; default the client's timeoutMs (pass what is left of a send's budget). */
  readonly timeoutMs?: number;
  /** Default the client's maxTokens. */
  readonly maxTokens?: number;
}

export interface StreamTurnResult {
  readonly stopReason: StopReason | null;
  /** Every text delta concatenated: exactly what onText delivered. */
  readonly text: string;
  /** The assistant message's blocks in order (text and tool_use), as the next request must repeat them. */
  readonly content: readonly ContentBlock[];
  readonly toolUses: readonly ToolUseBlock[];
  readonly usage: TurnUsage;
  /** The API's request-id header. */
  readonly requestId: string | null;
  readonly messageId: string;
  readonly model: string;
}

export interface CountTokensOptions {
  readonly tools?: readonly ToolDefinition[];
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** The SDK's retries for this call; default the client's. */
  readonly maxRetries?: number;
}

export interface TokenCount {
  readonly inputTokens: number;
  readonly requestId: string | null;
}
