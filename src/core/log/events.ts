import type { ContextReceipt, WindowSpec } from '../context/contextTypes';
import type { CompactionCommittedBody, CompactionUndoneBody, SessionTierSetBody } from '../compaction/compactionTypes';
import { compactionCommittedValidators, compactionUndoneValidators, sessionTierSetValidators } from '../compaction/compactionValidators';
import { factBodyChecks, factEventKinds, type FactEventBodies } from '../facts/factEvents';
import { mcpBodyChecks, mcpEventKinds, type McpEventBodies } from '../mcp/mcpEvents';
import { sourceTimeProblem } from '../import/sourceTime';
import { receiptShape, windowSpec } from '../context/contextChecks';
import { digest, errorInfo, flag, isRecord, nonEmpty, nullableDigest, nullableText, object, optionalWholeNumber, positive, text, wholeNumber, type Validator } from './bodyChecks';

export { describeWindowProblem } from '../context/contextChecks';

// The events of the conversation log. The journal stores them; every projection (sessions,
// later facts, chunks, prompt versions) is derived from them. A new kind needs: its body type
// here, its checks in `bodyValidators` (made of bodyChecks.ts), and (if a read model cares) a
// case in its projection module.

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
export const eventKinds: readonly AppendableKind[] = [
  'session.started',
  'session.renamed',
  'session.closed',
  'message.user',
  'message.assistant',
  'tool.use',
  'tool.result',
  'context.pinned',
  'context.unpinned',
  'topic.boundary',
  'session.windowSet',
  'context.receipt',
  'message.superseded',
  'turn.failed',
  'session.hidden',
  'compaction.committed',
  'compaction.undone',
  'session.tierSet',
  'import.cursor',
  'import.thinking',
  'import.record',
  'import.compactBoundary',
  'import.compactSummary',
  'import.request',
  'prompt.version',
  ...factEventKinds,
  ...mcpEventKinds,
];

/** Kinds that count as a turn in session summaries: a user question (its answer and tool rounds belong to it). */
export const turnKinds: ReadonlySet<EventKind> = new Set(['message.user']);

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

export const journalFormatVersion = 1;

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
}

const bodyValidators: Record<AppendableKind, readonly Validator[]> = {
  'session.started': [text('name', { max: 200 }), nonEmpty('name')],
  'session.renamed': [text('name', { max: 200 }), nonEmpty('name')],
  'session.closed': [],
  'message.user': [text('text')],
  'message.assistant': [text('text'), text('model', { optional: true, max: 200 }), text('stopReason', { optional: true, max: 200 }), flag('incomplete')],
  'tool.use': [text('toolUseId', { max: 200 }), nonEmpty('toolUseId'), text('name', { max: 200 }), nonEmpty('name')],
  'tool.result': [text('toolUseId', { max: 200 }), nonEmpty('toolUseId'), text('content'), flag('isError')],
  'context.pinned': [text('eventId', { max: 200 }), nonEmpty('eventId')],
  'context.unpinned': [text('eventId', { max: 200 }), nonEmpty('eventId')],
  'topic.boundary': [text('label', { optional: true, max: 200 })],
  'session.windowSet': [windowSpec('window'), positive('budgetTokens')],
  'context.receipt': [text('requestId', { max: 200 }), nonEmpty('requestId'), object('receipt'), receiptShape('receipt')],
  'message.superseded': [text('eventId', { max: 200 }), nonEmpty('eventId'), text('byRequestId', { max: 200 }), nonEmpty('byRequestId')],
  'turn.failed': [text('requestId', { max: 200 }), nonEmpty('requestId'), nullableText('userEventId'), errorInfo('error')],
  'session.hidden': [],
  'compaction.committed': compactionCommittedValidators,
  'compaction.undone': compactionUndoneValidators,
  'session.tierSet': sessionTierSetValidators,
  'import.cursor': [text('path', { max: 4096 }), nonEmpty('path'), text('format', { max: 40 }), wholeNumber('bytes'), wholeNumber('lines'), text('headDigest', { max: 64 })],
  'import.thinking': [text('text'), flag('redacted')],
  'import.record': [text('recordType', { max: 100 }), nonEmpty('recordType'), text('subtype', { optional: true, max: 100 }), text('text')],
  'import.compactBoundary': [text('trigger', { optional: true, max: 100 }), optionalWholeNumber('preTokens')],
  'import.compactSummary': [text('text')],
  'import.request': [
    text('requestRef', { max: 200 }),
    nonEmpty('requestRef'),
    text('model', { optional: true, max: 200 }),
    wholeNumber('messageCount'),
    wholeNumber('newMessageCount'),
    wholeNumber('messageChars'),
    wholeNumber('systemChars'),
    wholeNumber('toolCount'),
    wholeNumber('estimatedTokens'),
    flag('complete'),
  ],
  'prompt.version': [digest('digest'), nullableDigest('previousDigest'), promptVersionSources('sources')],
  ...factBodyChecks,
  ...mcpBodyChecks,
};

function promptVersionSources(field: string): Validator {
  return (body) => {
    const value = body[field];
    if (!Array.isArray(value) || value.length > 1000) {
      return `"${field}" must be a list of at most 1000 sources`;
    }
    for (const [index, source] of value.entries()) {
      const problem = isRecord(source) ? (text('path', { max: 1000 })(source) ?? nonEmpty('path')(source) ?? digest('digest')(source) ?? text('text')(source)) : 'must be an object';
      if (problem) {
        return `"${field}[${index}]": ${problem}`;
      }
    }
    return undefined;
  };
}

const appendableKinds: ReadonlySet<string> = new Set(eventKinds);

export function isEventKind(value: unknown): value is AppendableKind {
  return typeof value === 'string' && appendableKinds.has(value);
}

/** Why `body` is not a valid body of `kind` in this version, or undefined if it is. */
export function describeBodyProblem(kind: AppendableKind, body: unknown): string | undefined {
  const value = body === undefined && (kind === 'session.closed' || kind === 'session.hidden') ? {} : body;
  if (!isRecord(value)) {
    return `"body" of a ${kind} event must be a JSON object`;
  }
  for (const validate of bodyValidators[kind]) {
    const problem = validate(value);
    if (problem) {
      return `${kind} body: ${problem}`;
    }
  }
  // Any body may carry the time its source record had (imports).
  const timeProblem = sourceTimeProblem(value);
  return timeProblem ? `${kind} body: ${timeProblem}` : undefined;
}

/** Most levels of object/array nesting in one event (JSON.stringify recurses per level). */
export const maxEventDepth = 100;
/** Most bytes one event may take as JSON, every field included. */
export const maxEventBytes = 16 * 1024 * 1024;

/**
 * Why `input` is too deep or too big to store, or undefined. The depth is measured without
 * recursion, before anything that recurses (JSON.stringify) sees the value: 10,000 levels
 * parse fine but overflow the stack when serialized. The same walk adds up a bound on the JSON
 * size (every character escaped as \uXXXX); only an event that could pass the cap is serialized
 * to measure it exactly, so the append path usually serializes each event once, to write it.
 */
export function describeEventSizeProblem(input: unknown): string | undefined {
  const values: unknown[] = [input];
  const depths: number[] = [1];
  let bound = 0;
  let exact = false;
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      bound += 6 * value.length + 2;
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      bound += 24; // a number, boolean or null; undefined and functions are left out
      continue;
    }
    if (depth > maxEventDepth) {
      return `the event nests objects and arrays more than ${maxEventDepth} levels deep`;
    }
    // toJSON (a Date, a Buffer) writes something else than its fields: measure it exactly.
    exact ||= typeof (value as { toJSON?: unknown }).toJSON === 'function';
    bound += 2;
    if (Array.isArray(value)) {
      for (const child of value as unknown[]) {
        values.push(child);
        depths.push(depth + 1);
        bound += 1;
      }
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      values.push(child);
      depths.push(depth + 1);
      bound += 6 * key.length + 4;
    }
  }
  if (bound <= maxEventBytes && !exact) {
    return undefined;
  }
  const bytes = Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
  if (bytes > maxEventBytes) {
    return `the event is ${bytes} bytes as JSON, more than the ${maxEventBytes / (1024 * 1024)} MiB (${maxEventBytes} bytes) one event may take`;
  }
  return undefined;
}

/** Checks untrusted input (CLI stdin, a protocol request) and returns a typed draft. */
export function parseEventDraft(input: unknown): EventDraft {
  const sizeProblem = describeEventSizeProblem(input);
  if (sizeProblem) {
    throw new EventValidationError(sizeProblem);
  }
  return parseDraftFields(input);
}

// The field checks of a draft. Records read back from the journal go through parseJournalEvent
// instead, without these checks or the size caps, so neither ever turns a stored event into damage.
function parseDraftFields(input: unknown): EventDraft {
  if (!isRecord(input)) {
    throw new EventValidationError('an event must be a JSON object');
  }
  const { kind, sessionId, body, id, parentId, expectedVersion } = input;
  if (!isEventKind(kind)) {
    throw new EventValidationError(`unknown event kind ${JSON.stringify(kind)}; expected one of ${eventKinds.join(', ')}`);
  }
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 200) {
    throw new EventValidationError('"sessionId" must be a non-empty string of at most 200 characters');
  }
  const bodyValue = body === undefined && (kind === 'session.closed' || kind === 'session.hidden') ? {} : body;
  const problem = describeBodyProblem(kind, bodyValue);
  if (problem) {
    throw new EventValidationError(problem);
  }
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200)) {
    throw new EventValidationError('"id" must be a non-empty string of at most 200 characters');
  }
  if (parentId !== undefined && parentId !== null && (typeof parentId !== 'string' || parentId.length > 200)) {
    throw new EventValidationError('"parentId" must be a string or null');
  }
  if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || (expectedVersion as number) < 0)) {
    throw new EventValidationError('"expectedVersion" must be a non-negative integer');
  }
  return {
    kind,
    sessionId,
    body: bodyValue,
    ...(id !== undefined ? { id } : {}),
    ...(parentId !== undefined ? { parentId } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
  } as EventDraft;
}

const maxIdLength = 200;

/**
 * Checks the envelope of an event read back from the journal (a record that passed its
 * checksum). The kind and body are not judged here: a kind this version does not know is still
 * an event, so that two versions on one store agree on what is stored and how it is numbered.
 */
export function parseJournalEvent(input: unknown): JournalEvent {
  if (!isRecord(input)) {
    throw new EventValidationError('journal record is not an object');
  }
  if (input.formatVersion !== journalFormatVersion) {
    throw new EventValidationError(`journal record has format version ${String(input.formatVersion)}; this version reads ${journalFormatVersion}`);
  }
  const { id, kind, sessionId, parentId, writerId, hlc, wallMs, expectedVersion, body } = input;
  const shortString = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= maxIdLength;
  if (!shortString(id) || !shortString(kind) || !shortString(sessionId) || typeof writerId !== 'string' || typeof hlc !== 'string' || typeof wallMs !== 'number') {
    throw new EventValidationError('journal record lacks a valid id, kind, sessionId, writerId, hlc or wallMs');
  }
  if (parentId !== undefined && parentId !== null && typeof parentId !== 'string') {
    throw new EventValidationError('journal record has a parentId that is not a string');
  }
  if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || (expectedVersion as number) < 0)) {
    throw new EventValidationError('journal record has an invalid expectedVersion');
  }
  return {
    formatVersion: journalFormatVersion,
    id,
    kind,
    sessionId,
    parentId: typeof parentId === 'string' ? parentId : null,
    writerId,
    hlc,
    wallMs,
    ...(expectedVersion !== undefined ? { expectedVersion: expectedVersion as number } : {}),
    body,
  };
}

/**
 * The typed view of a stored event: its own kind when this version knows the kind and accepts
 * the body, else a `foreign` event that carries both as they are.
 */
export function toStoredEvent(event: JournalEvent, seq: number): StoredEvent {
  const problem = isEventKind(event.kind) ? describeBodyProblem(event.kind, event.body) : `unknown event kind ${JSON.stringify(event.kind)} (written by another version)`;
  const known = problem === undefined;
  const body = known
    ? event.body === undefined && (event.kind === 'session.closed' || event.kind === 'session.hidden')
      ? {}
      : event.kind === 'context.receipt'
        ? withPartCounts(event.body as ContextReceiptBody)
        : event.body
    : { kind: event.kind, body: event.body, problem };
  // Object literals of fixed shapes (no spreads, no delete): this runs for every event read or replayed.
  const kind = known ? event.kind : 'foreign';
  const stored =
    event.expectedVersion === undefined
      ? { formatVersion: 1 as const, seq, id: event.id, kind, sessionId: event.sessionId, parentId: event.parentId, writerId: event.writerId, hlc: event.hlc, wallMs: event.wallMs, body }
      : { formatVersion: 1 as const, seq, id: event.id, kind, sessionId: event.sessionId, parentId: event.parentId, writerId: event.writerId, hlc: event.hlc, wallMs: event.wallMs, expectedVersion: event.expectedVersion, body };
  return stored as StoredEvent;
}

/** A receipt written before 0.2 (event ids per part, no count) in today's shape. */
function withPartCounts(body: ContextReceiptBody): ContextReceiptBody {
  if (body.receipt.parts.every((part) => typeof part.eventCount === 'number')) {
    return body;
  }
  const parts = body.receipt.parts.map((part) => {
    if (typeof part.eventCount === 'number') {
      return part;
    }
    const { eventIds, ...rest } = part as typeof part & { eventIds?: readonly string[] };
    return { ...rest, eventCount: eventIds?.length ?? 0 };
  });
  return { ...body, receipt: { ...body.receipt, parts } };
}
