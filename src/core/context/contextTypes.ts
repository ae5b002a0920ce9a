// The shapes of context assembly: how a window is chosen, what a request to the Messages API
// looks like, and the receipt that says what went into it and why. Shared by the engine, the
// CLI and (through src/shared) the extension and webviews.

/** The window kinds a user picks per session or as a default (DESIGN.md: ring buffer/windows). */
export type WindowSpec =
  | { readonly kind: 'full' }
  /** The last `turns` user turns, or as many trailing turns as fit in `tokens`, whichever is smaller. */
  | { readonly kind: 'sliding'; readonly turns?: number; readonly tokens?: number }
  /** Fixed, non-overlapping blocks of `blockTurns` user turns; only the current block is sent. */
  | { readonly kind: 'tumbling'; readonly blockTurns: number }
  /** Split at topic boundaries: an idle gap, an explicit "new topic", or a detected shift. */
  | { readonly kind: 'session'; readonly idleGapMinutes: number; readonly detectShift: boolean };

export type WindowKind = WindowSpec['kind'];

export const defaultWindow: WindowSpec = { kind: 'sliding', turns: 20 };

// Messages API request shapes (the subset we send).
export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
}
export interface ToolUseBlock {
  readonly type: 'tool_use';
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}
export interface ToolResultBlock {
  readonly type: 'tool_result';
  readonly tool_use_id: string;
  readonly content: string;
  readonly is_error?: boolean;
}
export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

export interface RequestMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentBlock[];
}

export interface MessagesRequest {
  readonly system: string;
  readonly messages: readonly RequestMessage[];
}

/** One part of an assembled request, with why it is there and what it costs. */
export interface ReceiptPart {
  /** compaction: a committed summary in place of the range it covers (src/core/compaction). */
  readonly kind: 'system' | 'turn' | 'pinned' | 'tool-exchange' | 'prompt' | 'compaction' | 'retrieved' | 'facts';
  /**
   * The session's content events from `firstSeq` to `lastSeq`, less those the receipt lists as
   * held back, are the ones the part was made from (`receiptEvents.ts` resolves them): a receipt
   * names ranges and counts, so its size does not grow with the session. A compaction part's
   * range is the one its summary replaces.
   */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** How many content events went in (0 for the system prompt and a new message). */
  readonly eventCount: number;
  readonly tokens: number;
  readonly reason: string;
  /** A compaction part: the tokens its range would take as raw events. */
  readonly replacesTokens?: number;
  /** A compaction part: the `compaction.committed` event it stands for. */
  readonly compactionId?: string;
  /** A facts part: the head events of the facts that went in (a few: they have their own budget). */
  readonly factEventIds?: readonly string[];
  /** For `retrieved`: the workspace chunks that went in, by file and lines. */
  readonly chunks?: ReadonlyArray<{ readonly path: string; readonly startLine: number; readonly endLine: number; readonly tokens: number }>;
}

/**
 * Something left out: whole units by the window or the budget (adjacent units left out for the
 * same reason are one entry), or single events held back from a unit that went in.
 */
export interface ReceiptExclusion {
  /** How many content events (messages, tool calls, tool results) were left out. */
  readonly eventCount: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly tokens: number;
  readonly reason: ExclusionReason;
}

/**
 * Why something was left out. Units: `outside-window`, `over-budget`, `before-topic-boundary`,
 * `no-user-turn` (events before the session's first user message: a request starts with a user
 * message). Events held back from a unit that went in: `tool-result-pending` (a tool_use at the
 * end of the log whose result has not arrived), `unanswered-tool-use` (a tool_use that never got
 * a result), `orphan-tool-result` (a tool_result with no tool_use before it), `duplicate-tool-use`
 * (a second tool_use with an id already used), `empty` (a message of only whitespace),
 * `superseded` (a cut answer a Retry replaced).
 */
export type ExclusionReason =
  | 'outside-window'
  | 'over-budget'
  | 'before-topic-boundary'
  | 'no-user-turn'
  | 'tool-result-pending'
  | 'unanswered-tool-use'
  | 'orphan-tool-result'
  | 'duplicate-tool-use'
  | 'empty'
  /** A cut answer that a Retry replaced (`message.superseded`). */
  | 'superseded';

export interface ContextReceipt {
  readonly sessionId: string;
  readonly createdMs: number;
  readonly window: WindowSpec;
  readonly budgetTokens: number;
  readonly totalTokens: number;
  /** Exact counts came from the API's count_tokens, or the offline estimate was used. */
  readonly tokenSource: 'api' | 'estimate';
  /** Why the exact count was not used (count_tokens slow, throttled or failing), when it was not. */
  readonly tokenSourceNote?: string;
  readonly parts: readonly ReceiptPart[];
  readonly excluded: readonly ReceiptExclusion[];
  /** The prompt version (src/core/drift) current when the request was made, once one is recorded. */
  readonly promptVersion?: { readonly version: number; readonly digest: string };
}
