import type { ContextReceiptBody, EventDraft, JournalEvent, StoredEvent } from './events';
import { isRecord } from './bodyChecks';
import { describeBodyProblem, eventKinds, isEventKind } from './eventKindRegistry';
import { describeEventSizeProblem } from './eventSize';

// Reading events from outside: drafts from untrusted input (checked against the registry and
// the size caps), and journal records (envelope only) turned into typed stored events.

export const journalFormatVersion = 1;

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
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
