import type { ContextReceipt, WindowSpec } from '../context/contextTypes';

// The events of the conversation log. The journal stores them; every projection (sessions,
// later facts, chunks, prompt versions) is derived from them. A new kind needs: its body type
// here, a validator in `bodyValidators`, and (if a projection cares) a case in the projection.

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
/** Deleted from the Sessions view: hidden from lists, never erased from the log. */
export type SessionHiddenBody = Record<string, never>;

export interface EventBodies {
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
  'session.hidden': SessionHiddenBody;
}

export type EventKind = keyof EventBodies;
export const eventKinds: readonly EventKind[] = [
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
  'session.hidden',
];

/** Kinds that count as a turn in session summaries: a user question (its answer and tool rounds belong to it). */
export const turnKinds: ReadonlySet<EventKind> = new Set(['message.user']);

/** What a caller hands to append: the writer fills in id (if absent), clock and writer. */
export type EventDraft = {
  [K in EventKind]: {
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
}[EventKind];

/** An event as written to the journal. Its sequence number is not in it: see `StoredEvent`. */
export type LoggedEvent = {
  [K in EventKind]: {
    readonly formatVersion: 1;
    readonly id: string;
    readonly kind: K;
    readonly sessionId: string;
    readonly parentId: string | null;
    readonly writerId: string;
    readonly hlc: string;
    readonly wallMs: number;
    readonly expectedVersion?: number;
    readonly body: EventBodies[K];
  };
}[EventKind];

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

type Validator = (body: Record<string, unknown>) => string | undefined;

const maxText = 10 * 1024 * 1024;

function text(field: string, { optional = false, max = maxText } = {}): Validator {
  return (body) => {
    const value = body[field];
    if (value === undefined && optional) {
      return undefined;
    }
    if (typeof value !== 'string') {
      return `"${field}" must be a string`;
    }
    if (value.length > max) {
      return `"${field}" is longer than ${max} characters`;
    }
    return undefined;
  };
}

function flag(field: string): Validator {
  return (body) => (body[field] === undefined || typeof body[field] === 'boolean' ? undefined : `"${field}" must be true or false`);
}

function nonEmpty(field: string): Validator {
  return (body) => {
    const value = body[field];
    return typeof value === 'string' && value.trim() === '' ? `"${field}" must not be empty` : undefined;
  };
}

const bodyValidators: Record<EventKind, readonly Validator[]> = {
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
  'context.receipt': [text('requestId', { max: 200 }), nonEmpty('requestId'), object('receipt')],
  'session.hidden': [],
};

function object(field: string): Validator {
  return (body) => (isRecord(body[field]) ? undefined : `"${field}" must be an object`);
}

function positive(field: string): Validator {
  return (body) => (body[field] === undefined || (Number.isSafeInteger(body[field]) && (body[field] as number) > 0) ? undefined : `"${field}" must be a positive whole number`);
}

function windowSpec(field: string): Validator {
  return (body) => {
    const problem = describeWindowProblem(body[field]);
    return problem ? `"${field}": ${problem}` : undefined;
  };
}

/** Why `value` is not a valid WindowSpec, or undefined if it is. */
export function describeWindowProblem(value: unknown): string | undefined {
  if (!isRecord(value)) {
    return 'a window must be an object with a "kind"';
  }
  const whole = (name: string, optional: boolean): string | undefined => {
    const field = value[name];
    if (field === undefined && optional) {
      return undefined;
    }
    return Number.isSafeInteger(field) && (field as number) > 0 ? undefined : `"${name}" must be a positive whole number`;
  };
  switch (value.kind) {
    case 'full':
      return undefined;
    case 'sliding':
      if (value.turns === undefined && value.tokens === undefined) {
        return 'a sliding window needs "turns" or "tokens"';
      }
      return whole('turns', true) ?? whole('tokens', true);
    case 'tumbling':
      return whole('blockTurns', false);
    case 'session':
      return whole('idleGapMinutes', false) ?? (typeof value.detectShift === 'boolean' ? undefined : '"detectShift" must be true or false');
    default:
      return `unknown window kind ${JSON.stringify(value.kind)}; expected full, sliding, tumbling or session`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isEventKind(value: unknown): value is EventKind {
  return typeof value === 'string' && (eventKinds as readonly string[]).includes(value);
}

/** Checks untrusted input (CLI stdin, a protocol request) and returns a typed draft. */
export function parseEventDraft(input: unknown): EventDraft {
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
  if (!isRecord(bodyValue)) {
    throw new EventValidationError(`"body" of a ${kind} event must be a JSON object`);
  }
  for (const validate of bodyValidators[kind]) {
    const problem = validate(bodyValue);
    if (problem) {
      throw new EventValidationError(`${kind} body: ${problem}`);
    }
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

/** Checks an event read back from the journal (a line that passed its checksum). */
export function parseLoggedEvent(input: unknown): LoggedEvent {
  if (!isRecord(input)) {
    throw new EventValidationError('journal record is not an object');
  }
  if (input.formatVersion !== journalFormatVersion) {
    throw new EventValidationError(`journal record has format version ${String(input.formatVersion)}; this version reads ${journalFormatVersion}`);
  }
  const draft = parseEventDraft(input);
  const { writerId, hlc, wallMs } = input;
  if (typeof draft.id !== 'string' || typeof writerId !== 'string' || typeof hlc !== 'string' || typeof wallMs !== 'number') {
    throw new EventValidationError('journal record lacks id, writerId, hlc or wallMs');
  }
  return {
    formatVersion: journalFormatVersion,
    id: draft.id,
    kind: draft.kind,
    sessionId: draft.sessionId,
    parentId: draft.parentId ?? null,
    writerId,
    hlc,
    wallMs,
    ...(draft.expectedVersion !== undefined ? { expectedVersion: draft.expectedVersion } : {}),
    body: draft.body,
  } as LoggedEvent;
}
