import type { ContextReceipt, WindowSpec } from '../context/contextTypes';
import type { CompactionCommittedBody, CompactionUndoneBody, SessionTierSetBody } from '../compaction/compactionTypes';
import type { FactEventBodies } from '../facts/factEvents';
import type { McpEventBodies } from '../mcp/mcpEvents';

export { describeWindowProblem } from '../context/contextChecks';
// The events of the conversation log. The journal stores them; every projection (sessions,
// later facts, chunks, prompt versions) is derived from them. A new kind needs: its body type
// here, in `EventBodies`, its name in `eventKinds` and its checks in `bodyValidators`
// (eventKindRegistry.ts, made of bodyChecks.ts), and (if a read model cares) a case in its
// projection module.

// The runtime parts live beside this file and are re-exported, so importers keep one path:
// the kind list and body checks (eventKindRegistry.ts), the size caps (eventSize.ts), and the
// reading of drafts and journal records (eventParsing.ts). They import only types from here.
export { describeBodyProblem, eventKinds, isEventKind, turnKinds } from './eventKindRegistry';
export { describeEventSizeProblem, maxEventBytes, maxEventDepth } from './eventSize';
export { EventValidationError, journalFormatVersion, parseEventDraft, parseJournalEvent, toStoredEvent } from './eventParsing';

export interface SessionStartedBody { readonly name: string }
export interface SessionRenamedBody { readonly name: string }
export type SessionClosedBody = Record<string, never>;
export interface UserMessageBody { readonly text: string }
export interface AssistantMessageBody {
  readonly text: string;
  readonly model?: string;
  readonly stopReason?: string;
  /** True when the answer was cut (stream torn, cancelled); the text is what arrived. */
  readonly incomplete?: boolean;
}
export interface ToolUseBody {
  readonly toolUseId: string;
  readonly name: string;
  readonly input: unknown;
}
export interface ToolResultBody {
  readonly toolUseId: string;
  readonly content: string;
  readonly isError?: boolean;
}

/** Keep this turn in every window of the session (until unpinned). */
export interface ContextPinnedBody { readonly eventId: string }
export interface ContextUnpinnedBody { readonly eventId: string }
/** An explicit "new topic": session windows split here. */
export interface TopicBoundaryBody { readonly label?: string }
/** The window kind and budget chosen for this session (overrides the default). */
export interface SessionWindowSetBody { readonly window: WindowSpec; readonly budgetTokens?: number }
/** What went into one request to the model, and why (DESIGN.md: the context receipt). */
export interface ContextReceiptBody { readonly requestId: string; readonly receipt: ContextReceipt }
/** A cut answer a Retry replaced: it stays in the log but goes into no request again. */
export interface MessageSupersededBody { readonly eventId: string; readonly byRequestId: string }
/** A chat turn that ended without a complete answer, where and when it happened. */
export interface TurnFailedBody {
  /** The chat request (chat/send's requestId) that failed. */
  readonly requestId: string;
  /** The question the turn answered (null: it failed before the question was logged). */
  readonly userEventId: string | null;
  readonly error: {
    readonly kind: string;
    readonly message: string;
    readonly action: string;
    /** The API's request id, when there was a response. */
    readonly requestId: string | null;
    readonly status: number | null;
  };
}
/**
 * Not a kind anyone appends: how a stored event this version cannot read is shown. Its record
 * is well formed, but its kind is unknown here (written by a newer version) or its body fails
 * this version's checks. It is stored, counted and sequenced like any other; projections that
 * do not know it ignore it.
 */
export interface ForeignEventBody { readonly kind: string; readonly body: unknown; readonly problem: string }
/** Deleted from the Sessions view: hidden from lists, never erased from the log. */
export type SessionHiddenBody = Record<string, never>;
/** How far a source file has been imported (the re-import cursor: src/core/import/importCursorsModule.ts). */
export interface ImportCursorBody {
  /** The source file's absolute path. */
  readonly path: string;
  /** 'claude-code', 'jsonl' (this store's own export) or 'markdown'. */
  readonly format: string;
  /** Bytes and whole lines of the file imported so far. */
  readonly bytes: number;
  readonly lines: number;
  /** SHA-256 (hex) of the file's first min(bytes, 4096) bytes: a rewritten file starts over. */
  readonly headDigest: string;
}
/** A thinking block of an imported assistant answer (Claude Code); never sent to a model again. */
export interface ImportThinkingBody { readonly text: string; readonly redacted?: boolean }
/** A record of an imported transcript that is not conversation: meta and system lines, command output. */
export interface ImportRecordBody { readonly recordType: string; readonly subtype?: string; readonly text: string }
/** Where Claude Code compacted its own context (/compact or automatic): its `compact_boundary`. */
export interface ImportCompactBoundaryBody { readonly trigger?: string; readonly preTokens?: number }
/** The summary Claude Code continued from after that boundary (a user line with isCompactSummary). */
export interface ImportCompactSummaryBody { readonly text: string }
/** An API request Claude Code recorded that it sent (its `api-request` records): the imported turn's receipt. */
export interface ImportRequestBody {
  readonly requestRef: string;
  readonly model?: string;
  /** Messages in the request (kept from the previous request + new ones). */
  readonly messageCount: number;
  readonly newMessageCount: number;
  /** Characters of the messages, system prompt and tools this importer could see. */
  readonly messageChars: number;
  readonly systemChars: number;
  readonly toolCount: number;
  /** chars / 4: Claude Code records no token counts with the request. */
  readonly estimatedTokens: number;
  /** False when some messages had no blob this import saw (the turns themselves are transcript lines), so their size is not in the estimate. */
  readonly complete: boolean;
}
/**
 * A new version of the effective system prompt (the setting plus AGENTS.md, CLAUDE.md, ...),
 * appended to the reserved stream `prompt:workspace` (src/core/log/systemStreams.ts).
 */
export interface PromptVersionBody {
  /** SHA-256 (hex) over the sources in order: the version's name. */
  readonly digest: string;
  /** The digest of the version this one follows (null: the first). */
  readonly previousDigest: string | null;
  readonly sources: readonly PromptVersionSource[];
}
export interface PromptVersionSource {
  /** Workspace-relative path, or `settings:contextLedger.systemPrompt`. */
  readonly path: string;
  readonly digest: string;
  readonly text: string;
}

export interface EventBodies extends FactEventBodies, McpEventBodies {
  'session.started': SessionStartedBody;
  'session.renamed': SessionRenamedBody;
  'session.closed': SessionClosedBody;
  'message.user': UserMessageBody;
  'message.assistant': AssistantMessageBody;
  'tool.use': ToolUseBody;
  'tool.result': ToolResultBody;
  'context.pinned': ContextPinnedBody;
  'context.unpinned': ContextUnpinnedBody;
  'topic.boundary': TopicBoundaryBody;
  'session.windowSet': SessionWindowSetBody;
  'context.receipt': ContextReceiptBody;
  'message.superseded': MessageSupersededBody;
  'turn.failed': TurnFailedBody;
  foreign: ForeignEventBody;
  'session.hidden': SessionHiddenBody;
  'compaction.committed': CompactionCommittedBody;
  'compaction.undone': CompactionUndoneBody;
  'session.tierSet': SessionTierSetBody;
  'import.cursor': ImportCursorBody;
  'import.thinking': ImportThinkingBody;
  'import.record': ImportRecordBody;
  'import.compactBoundary': ImportCompactBoundaryBody;
  'import.compactSummary': ImportCompactSummaryBody;
  'import.request': ImportRequestBody;
  'prompt.version': PromptVersionBody;
}

export type EventKind = keyof EventBodies;
/** Kinds a writer may append (every kind but `foreign`). */
export type AppendableKind = Exclude<EventKind, 'foreign'>;

/** What a caller hands to append: the writer fills in id (if absent), clock and writer. */
export type EventDraft = {
  [K in AppendableKind]: {
    readonly kind: K;
    readonly sessionId: string;
    readonly body: EventBodies[K];
    /** Caller-chosen id makes a retry idempotent: a second copy of an id is not stored. */
    readonly id?: string;
    /** The causal parent: the event this one answers or follows. */
    readonly parentId?: string | null;
    /** Optimistic concurrency: the session version this append expects (0 = new session). */
    readonly expectedVersion?: number;
  };
}[AppendableKind];

/** An event as written to the journal. Its sequence number is not in it: see `StoredEvent`. */
/** What every event carries besides its kind and body. */
export interface EventEnvelope {
  readonly formatVersion: 1;
  readonly id: string;
  readonly sessionId: string;
  readonly parentId: string | null;
  readonly writerId: string;
  readonly hlc: string;
  readonly wallMs: number;
  readonly expectedVersion?: number;
}

export type LoggedEvent = {
  [K in EventKind]: EventEnvelope & { readonly kind: K; readonly body: EventBodies[K] };
}[EventKind];

/**
 * An event as read back from the journal: a well-formed envelope whose kind and body this
 * version has not judged. The acceptance rules (duplicate, version, session) need only this.
 */
export interface JournalEvent extends EventEnvelope {
  readonly kind: string;
  readonly body: unknown;
}

/**
 * An event with the sequence number the store gave it. Sequence numbers come from the journal
 * order (the nth accepted event is seq n), so every engine that reads the journal assigns the
 * same numbers without talking to the others.
 */
export type StoredEvent = LoggedEvent & { readonly seq: number };
