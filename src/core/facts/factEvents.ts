// The fact events' bodies and their checks. Facts live in one reserved stream of the log
// (`factsStreamId`), apart from every chat session; the Facts read model (factsModule.ts)
// folds these events into the facts table. Writes (asserted, updated, retired, merged,
// confirmed) carry the version vector the writer saw, so the read model can tell an update
// that saw the current value from a concurrent one.

/** The stream (session id) every fact event is appended to; never listed as a session. */
export const factsStreamId = 'facts:workspace';

export type FactScope = 'workspace' | 'user';
/** Who the value comes from: the user, the model (a proposal), or text extracted from a file or a tool result. */
export type FactTrust = 'user' | 'model-proposed' | 'extracted-file' | 'extracted-tool';
/** What happens to a write that did not see the current value. */
export type ConflictPolicy = 'surface' | 'lastWriterWins';
/** Writes seen, per stable writer id (src/core/store/writerSlots.ts). */
export type VersionVector = Readonly<Record<string, number>>;

/** The lines of a file a fact rests on, and the SHA-256 of those lines when cited. */
export interface FactCitation {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly sha256: string;
}

/** Where a value came from. */
export interface FactProvenance {
  readonly sessionId: string | null;
  readonly eventId: string | null;
  readonly path: string | null;
  readonly line: number | null;
}

/** What a fact says and where it comes from: written as a fact, or filed as a proposal. */
export interface FactClaim {
  readonly key: string;
  readonly value: string;
  readonly scope: FactScope;
  readonly trust: FactTrust;
  readonly provenance: FactProvenance;
  readonly citations: readonly FactCitation[];
  /** The prompt version the fact was made under (src/core/drift), null when unknown. */
  readonly promptVersion: string | null;
}

/** `fact.asserted` (a key the writer believed new) and `fact.updated` (a key it had seen). */
export interface FactWriteBody extends FactClaim {
  readonly seen: VersionVector;
  readonly policy: ConflictPolicy;
}
export interface FactRetiredBody {
  readonly key: string;
  readonly seen: VersionVector;
  readonly policy: ConflictPolicy;
  readonly reason?: string;
}
/** The user's resolution of a conflict: one value (picked or edited), or none (retired). */
export interface FactMergedBody {
  readonly key: string;
  readonly seen: VersionVector;
  readonly value: string | null;
  /** The heads the user saw and resolved (event ids). */
  readonly resolvedEventIds: readonly string[];
}
/** A citation check: the evidence still holds (citations as found now: moved lines move), or it changed. */
export interface FactVerifiedBody {
  readonly key: string;
  readonly headEventId: string;
  readonly status: 'verified' | 'stale';
  readonly citations: readonly FactCitation[];
  readonly detail?: string;
  /** The prompt version the user re-verified the value under (Mark Verified); absent for read-time checks. */
  readonly promptVersion?: string;
}
export interface FactPinnedBody {
  readonly key: string;
  readonly pinned: boolean;
}
/** A value waiting for the user: from the model's `remember` tool or extraction. Changes nothing until confirmed. */
export interface FactProposedBody extends FactClaim {
  readonly proposalId: string;
  readonly reason?: string;
}
/** The user confirmed a proposal (maybe edited): a write of its key. */
export interface FactConfirmedBody {
  readonly proposalId: string;
  readonly value: string;
  readonly seen: VersionVector;
  readonly policy: ConflictPolicy;
}
export interface FactRejectedBody {
  readonly proposalId: string;
  readonly reason?: string;
}

export interface FactEventBodies {
  'fact.asserted': FactWriteBody;
  'fact.updated': FactWriteBody;
  'fact.retired': FactRetiredBody;
  'fact.merged': FactMergedBody;
  'fact.verified': FactVerifiedBody;
  'fact.pinned': FactPinnedBody;
  'fact.proposed': FactProposedBody;
  'fact.confirmed': FactConfirmedBody;
  'fact.rejected': FactRejectedBody;
}
export type FactEventKind = keyof FactEventBodies;
export const factEventKinds: readonly FactEventKind[] = ['fact.asserted', 'fact.updated', 'fact.retired', 'fact.merged', 'fact.verified', 'fact.pinned', 'fact.proposed', 'fact.confirmed', 'fact.rejected'];

export const maxFactKeyLength = 200;
export const maxFactValueLength = 20_000;
const maxCitations = 20;
const keyPattern = /^[A-Za-z0-9_][A-Za-z0-9_.\-/:@]*$/;

type Body = Record<string, unknown>;
type Check = (body: Body) => string | undefined;

function isRecord(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `key` is not a fact key, or undefined. */
export function describeFactKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxFactKeyLength) {
    return `a fact key must be a non-empty string of at most ${maxFactKeyLength} characters`;
  }
  return keyPattern.test(key) ? undefined : `fact key ${JSON.stringify(key)} may hold only letters, digits and _ . - / : @ (e.g. "build.command")`;
}

const key: Check = (body) => {
  const problem = describeFactKeyProblem(body.key);
  return problem ? `"key": ${problem}` : undefined;
};

function string(field: string, { optional = false, max = maxFactValueLength, nullable = false } = {}): Check {
  return (body) => {
    const value = body[field];
    if ((value === undefined && optional) || (value === null && nullable)) {
      return undefined;
    }
    return typeof value === 'string' && value.length <= max ? undefined : `"${field}" must be a string of at most ${max} characters${nullable ? ' or null' : ''}`;
  };
}

function nonEmpty(field: string): Check {
  return (body) => (typeof body[field] === 'string' && (body[field]).trim() === '' ? `"${field}" must not be empty` : undefined);
}

function oneOf(field: string, values: readonly string[]): Check {
  return (body) => (values.includes(body[field] as string) ? undefined : `"${field}" must be one of ${values.join(', ')}`);
}

const vector: Check = (body) => {
  const value = body.seen;
  if (!isRecord(value) || Object.keys(value).length > 1000) {
    return '"seen" must be a version vector: an object of writer ids and counts';
  }
  return Object.entries(value).every(([writer, count]) => writer.length > 0 && writer.length <= 200 && Number.isSafeInteger(count) && (count as number) >= 0) ? undefined : '"seen" must map writer ids to whole numbers';
};

const provenance: Check = (body) => {
  const value = body.provenance;
  if (!isRecord(value)) {
    return '"provenance" must be an object (sessionId, eventId, path, line)';
  }
  const text = (field: string) => value[field] === null || (typeof value[field] === 'string' && (value[field]).length <= 4096);
  const line = value.line === null || (Number.isSafeInteger(value.line) && (value.line as number) >= 1);
  return text('sessionId') && text('eventId') && text('path') && line ? undefined : '"provenance" needs sessionId, eventId and path (strings or null) and line (a line number or null)';
};

/** Why `value` is not a list of citations, or undefined. */
export function describeCitationsProblem(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length > maxCitations) {
    return `"citations" must be a list of at most ${maxCitations} citations`;
  }
  for (const citation of value) {
    if (
      !isRecord(citation) ||
      typeof citation.path !== 'string' ||
      citation.path.length === 0 ||
      citation.path.length > 4096 ||
      !Number.isSafeInteger(citation.startLine) ||
      !Number.isSafeInteger(citation.endLine) ||
      (citation.startLine as number) < 1 ||
      (citation.endLine as number) < (citation.startLine as number) ||
      typeof citation.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(citation.sha256)
    ) {
      return '"citations": each needs path, startLine ≤ endLine (from 1) and a sha256 of 64 hex digits';
    }
  }
  return undefined;
}

const citations: Check = (body) => describeCitationsProblem(body.citations);

const eventIds: Check = (body) =>
  Array.isArray(body.resolvedEventIds) && body.resolvedEventIds.length <= 1000 && body.resolvedEventIds.every((id) => typeof id === 'string' && id.length <= 200) ? undefined : '"resolvedEventIds" must be a list of event ids';

const pinned: Check = (body) => (typeof body.pinned === 'boolean' ? undefined : '"pinned" must be true or false');

const scopes = ['workspace', 'user'];
const trusts = ['user', 'model-proposed', 'extracted-file', 'extracted-tool'];
const policies = ['surface', 'lastWriterWins'];
const write: readonly Check[] = [key, string('value'), oneOf('scope', scopes), oneOf('trust', trusts), provenance, citations, string('promptVersion', { nullable: true, max: 200 }), vector, oneOf('policy', policies)];

/** The body checks of each fact kind (events.ts runs them like its own). */
export const factBodyChecks: Record<FactEventKind, readonly Check[]> = {
  'fact.asserted': write,
  'fact.updated': write,
  'fact.retired': [key, vector, oneOf('policy', policies), string('reason', { optional: true, max: 2000 })],
  'fact.merged': [key, vector, string('value', { nullable: true }), eventIds],
  'fact.verified': [key, string('headEventId', { max: 200 }), nonEmpty('headEventId'), oneOf('status', ['verified', 'stale']), citations, string('detail', { optional: true, max: 2000 }), string('promptVersion', { optional: true, max: 100 })],
  'fact.pinned': [key, pinned],
  'fact.proposed': [string('proposalId', { max: 200 }), nonEmpty('proposalId'), key, string('value'), oneOf('scope', scopes), oneOf('trust', trusts), provenance, citations, string('promptVersion', { nullable: true, max: 200 }), string('reason', { optional: true, max: 2000 })],
  'fact.confirmed': [string('proposalId', { max: 200 }), nonEmpty('proposalId'), string('value'), vector, oneOf('policy', policies)],
  'fact.rejected': [string('proposalId', { max: 200 }), nonEmpty('proposalId'), string('reason', { optional: true, max: 2000 })],
};

/** One line describing a fact event, for transcripts. */
export function describeFactEvent(kind: FactEventKind, body: FactEventBodies[FactEventKind]): string {
  switch (kind) {
    case 'fact.asserted':
    case 'fact.updated': {
      const write = body as FactWriteBody;
      return `${kind === 'fact.asserted' ? 'asserted' : 'updated'} ${write.key} = ${JSON.stringify(write.value)} (${write.trust})`;
    }
    case 'fact.retired':
      return `retired ${(body as FactRetiredBody).key}`;
    case 'fact.merged': {
      const merged = body as FactMergedBody;
      return `merged ${merged.key}: ${merged.value === null ? 'retired' : JSON.stringify(merged.value)}`;
    }
    case 'fact.verified': {
      const verified = body as FactVerifiedBody;
      return `${verified.key}: citations ${verified.status}${verified.detail ? ` (${verified.detail})` : ''}`;
    }
    case 'fact.pinned': {
      const pin = body as FactPinnedBody;
      return `${pin.pinned ? 'pinned' : 'unpinned'} ${pin.key}`;
    }
    case 'fact.proposed': {
      const proposal = body as FactProposedBody;
      return `proposed ${proposal.key} = ${JSON.stringify(proposal.value)} (${proposal.trust}; waits for the user)`;
    }
    case 'fact.confirmed':
      return `confirmed proposal ${(body as FactConfirmedBody).proposalId}`;
    case 'fact.rejected':
      return `rejected proposal ${(body as FactRejectedBody).proposalId}`;
  }
}

// Version vectors.

export function joinVectors(a: VersionVector, b: VersionVector): Record<string, number> {
  const joined: Record<string, number> = { ...a };
  for (const [writer, count] of Object.entries(b)) {
    joined[writer] = Math.max(joined[writer] ?? 0, count);
  }
  return joined;
}

/** a ≥ b: everything b saw, a saw too. */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  return Object.entries(b).every(([writer, count]) => (a[writer] ?? 0) >= count);
}

/** A stable text form (sorted writers), for digests and comparisons. */
export function vectorText(vector: VersionVector): string {
  return JSON.stringify(Object.fromEntries(Object.entries(vector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
