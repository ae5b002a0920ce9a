import type { AppendVerdict, Ledger } from '../ledger';
import type { EventDraft } from '../log/events';
import { UlidGenerator } from '../log/ulid';
import {
  describeCitationsProblem,
  describeFactKeyProblem,
  factsStreamId,
  maxFactValueLength,
  vectorText,
  type ConflictPolicy,
  type FactCitation,
  type FactProvenance,
  type FactScope,
  type FactTrust,
  type VersionVector,
} from './factEvents';
import type { FactQueries } from './factQueries';
import type { FactProposal, FactView } from './factTypes';

// Writes of facts, as every front end makes them (engine requests, the CLI, the chat's
// `remember` tool). Only the user's own actions write a fact: add, edit, retire, merge, pin,
// confirm and reject. What the model or a file brings can only be *proposed* here.

/** Bad input: a clear message, nothing written. */
export class FactsInputError extends Error {
  override readonly name = 'FactsInputError';
}

/** Optimistic concurrency: the fact changed since the caller read it (nothing was written). */
export class FactChangedError extends Error {
  override readonly name = 'FactChangedError';
  constructor(
    readonly key: string,
    readonly current: FactView | undefined,
  ) {
    super(
      current
        ? `the fact ${key} changed since you read it (it is now ${describeValues(current)}); nothing was written. Look at it again and repeat the change.`
        : `the fact ${key} no longer exists; nothing was written.`,
    );
  }
}

export interface FactInput {
  readonly key: string;
  readonly value: string;
  readonly scope?: FactScope;
  readonly provenance?: Partial<FactProvenance>;
  readonly citations?: readonly FactCitation[];
  /** The prompt version in effect (src/core/drift), null when unknown. */
  readonly promptVersion?: string | null;
  /** The version vector the caller read; absent: whatever is current now. */
  readonly expectedVector?: VersionVector;
  /** The event's id (a retry with the same id stores nothing twice). */
  readonly id?: string;
}

export type MergeResolution =
  | { readonly pick: number }
  | { readonly value: string }
  | { readonly retire: true }
  /** Keep every value, each under its own new key (in head order); the conflicted key is retired. */
  | { readonly split: readonly string[] };

export interface ProposalInput {
  readonly key: string;
  readonly value: string;
  readonly trust: Exclude<FactTrust, 'user'>;
  readonly scope?: FactScope;
  readonly provenance?: Partial<FactProvenance>;
  readonly citations?: readonly FactCitation[];
  readonly promptVersion?: string | null;
  readonly reason?: string;
}

export interface FactsStoreOptions {
  /** contextLedger.facts.conflictPolicy, read at each write. */
  readonly conflictPolicy: () => ConflictPolicy;
}

/** The stream's start, with one id for every writer: starting it twice stores it once. */
const streamStartId = 'facts-stream-start';

export class FactsStore {
  private readonly ids = new UlidGenerator();
  private started = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly options: FactsStoreOptions = { conflictPolicy: () => 'surface' },
  ) {}

  get queries(): FactQueries {
    return this.ledger.facts();
  }

  list(): FactView[] {
    return this.queries.list();
  }

  get(key: string): FactView | undefined {
    return this.queries.get(key);
  }

  /** The user states a fact (a new key, or a new value of one): trust `user`. */
  async add(input: FactInput): Promise<FactView> {
    checkKey(input.key);
    checkValue(input.value);
    const citations = checkCitations(input.citations ?? []);
    const current = this.expect(input.key, input.expectedVector);
    if (current?.state === 'conflicted' && input.expectedVector === undefined) {
      throw new FactsInputError(`${input.key} has ${current.heads.length} values in conflict; merge it first (pick one, edit, or keep both under separate keys)`);
    }
    await this.appendWrite({
      kind: current ? 'fact.updated' : 'fact.asserted',
      ...(input.id !== undefined ? { id: input.id } : {}),
      sessionId: factsStreamId,
      body: {
        key: input.key,
        value: input.value,
        scope: input.scope ?? current?.scope ?? 'workspace',
        trust: 'user',
        provenance: provenanceOf(input.provenance),
        citations,
        promptVersion: input.promptVersion ?? null,
        seen: current?.vector ?? {},
        policy: this.options.conflictPolicy(),
      },
    });
    return this.get(input.key)!;
  }

  async retire(key: string, expectedVector?: VersionVector, reason?: string): Promise<FactView> {
    const current = this.expect(key, expectedVector);
    if (!current) {
      throw new FactsInputError(`there is no fact ${key}`);
    }
    await this.appendWrite({ kind: 'fact.retired', sessionId: factsStreamId, body: { key, seen: current.vector, policy: this.options.conflictPolicy(), ...(reason ? { reason } : {}) } });
    return this.get(key)!;
  }

  /** Resolves a conflict (or replaces the value of any fact) as the user chose. */
  async merge(key: string, resolution: MergeResolution, expectedVector?: VersionVector): Promise<FactView[]> {
    const current = this.expect(key, expectedVector);
    if (!current) {
      throw new FactsInputError(`there is no fact ${key}`);
    }
    const resolved = current.heads.map((head) => head.eventId);
    const merged = (value: string | null): EventDraft => ({ kind: 'fact.merged', sessionId: factsStreamId, body: { key, seen: current.vector, value, resolvedEventIds: resolved } });
    if ('pick' in resolution) {
      const head = current.heads[resolution.pick - 1];
      if (!Number.isSafeInteger(resolution.pick) || !head) {
        throw new FactsInputError(`${key} has ${current.heads.length} values; pick one from 1 to ${current.heads.length}`);
      }
      await this.appendWrite(merged(head.value));
      return [this.get(key)!];
    }
    if ('value' in resolution) {
      checkValue(resolution.value);
      await this.appendWrite(merged(resolution.value));
      return [this.get(key)!];
    }
    if ('retire' in resolution) {
      await this.appendWrite(merged(null));
      return [this.get(key)!];
    }
    const keys = resolution.split;
    const values = current.heads.filter((head) => head.value !== null);
    if (keys.length !== values.length) {
      throw new FactsInputError(`${key} has ${values.length} values to keep; give ${values.length} new keys`);
    }
    for (const newKey of keys) {
      checkKey(newKey);
      if (this.get(newKey) && this.get(newKey)!.state !== 'retired') {
        throw new FactsInputError(`the key ${newKey} is already a fact; choose another`);
      }
    }
    if (new Set(keys).size !== keys.length || keys.includes(key)) {
      throw new FactsInputError('each value needs a key of its own, other than the conflicted one');
    }
    const drafts: EventDraft[] = [merged(null)];
    values.forEach((head, index) => {
      drafts.push({
        kind: 'fact.asserted',
        sessionId: factsStreamId,
        body: { key: keys[index]!, value: head.value!, scope: head.scope, trust: head.trust, provenance: head.provenance, citations: head.citations, promptVersion: head.promptVersion, seen: this.get(keys[index]!)?.vector ?? {}, policy: 'surface' },
      });
    });
    await this.appendWrite(...drafts);
    return [key, ...keys].map((name) => this.get(name)!);
  }

  async pin(key: string, pinned: boolean): Promise<FactView> {
    if (!this.get(key)) {
      throw new FactsInputError(`there is no fact ${key}`);
    }
    await this.appendWrite({ kind: 'fact.pinned', sessionId: factsStreamId, body: { key, pinned } });
    return this.get(key)!;
  }

  /** A value from the model or extracted text: waits for the user, changes no fact. */
  async propose(input: ProposalInput): Promise<FactProposal> {
    checkKey(input.key);
    checkValue(input.value);
    const proposalId = `proposal-${this.ids.next()}`;
    await this.appendWrite({
      kind: 'fact.proposed',
      sessionId: factsStreamId,
      body: {
        proposalId,
        key: input.key,
        value: input.value,
        scope: input.scope ?? 'workspace',
        trust: input.trust,
        provenance: provenanceOf(input.provenance),
        citations: checkCitations(input.citations ?? []),
        promptVersion: input.promptVersion ?? null,
        ...(input.reason ? { reason: input.reason.slice(0, 2000) } : {}),
      },
    });
    return this.queries.proposal(proposalId)!;
  }

  /** The user confirms a proposal (maybe with an edited value): it becomes a write of its key. */
  async confirm(proposalId: string, editedValue?: string, expectedVector?: VersionVector): Promise<FactView> {
    const proposal = this.pendingProposal(proposalId);
    const value = editedValue ?? proposal.value;
    checkValue(value);
    const current = this.expect(proposal.key, expectedVector);
    await this.appendWrite({ kind: 'fact.confirmed', sessionId: factsStreamId, body: { proposalId, value, seen: current?.vector ?? {}, policy: this.options.conflictPolicy() } });
    return this.get(proposal.key)!;
  }

  async reject(proposalId: string, reason?: string): Promise<FactProposal> {
    this.pendingProposal(proposalId);
    await this.appendWrite({ kind: 'fact.rejected', sessionId: factsStreamId, body: { proposalId, ...(reason ? { reason: reason.slice(0, 2000) } : {}) } });
    return this.queries.proposal(proposalId)!;
  }

  /** Records a citation check of one current value (read-time checks, or the user's Mark Verified). */
  async recordCheck(key: string, headEventId: string, status: 'verified' | 'stale', citations: readonly FactCitation[], detail?: string, promptVersion?: string | null): Promise<void> {
    await this.appendWrite({
      kind: 'fact.verified',
      sessionId: factsStreamId,
      body: { key, headEventId, status, citations: checkCitations(citations), ...(detail ? { detail: detail.slice(0, 2000) } : {}), ...(promptVersion ? { promptVersion } : {}) },
    });
  }

  private pendingProposal(proposalId: string): FactProposal {
    const proposal = this.queries.proposal(proposalId);
    if (!proposal) {
      throw new FactsInputError(`there is no proposal ${proposalId}`);
    }
    if (proposal.status !== 'pending') {
      throw new FactsInputError(`proposal ${proposalId} was already ${proposal.status}`);
    }
    return proposal;
  }

  /** The fact as it is now, after checking it is what the caller read. */
  private expect(key: string, expectedVector: VersionVector | undefined): FactView | undefined {
    const current = this.get(key);
    if (expectedVector !== undefined && vectorText(current?.vector ?? {}) !== vectorText(expectedVector)) {
      throw new FactChangedError(key, current);
    }
    return current;
  }

  private async appendWrite(...drafts: EventDraft[]): Promise<AppendVerdict[]> {
    await this.ensureStream();
    const verdicts = await this.ledger.append(drafts);
    const refused = verdicts.find((verdict) => verdict.status === 'conflict');
    if (refused?.status === 'conflict') {
      throw new Error(`the facts stream refused the write: ${refused.reason}`);
    }
    return verdicts;
  }

  private async ensureStream(): Promise<void> {
    if (this.started || this.ledger.getSession(factsStreamId)) {
      this.started = true;
      return;
    }
    const [verdict] = await this.ledger.append([{ kind: 'session.started', id: streamStartId, sessionId: factsStreamId, body: { name: 'Facts' } }]);
    // Another writer may have started it first: that is the same stream.
    if (verdict?.status === 'conflict' && !/already exists/.test(verdict.reason)) {
      throw new Error(`the facts stream could not be started: ${verdict.reason}`);
    }
    this.started = true;
  }
}

function describeValues(fact: FactView): string {
  if (fact.state === 'retired') {
    return 'retired';
  }
  return fact.heads.map((head) => (head.value === null ? '(retired)' : JSON.stringify(head.value))).join(' | ');
}

function checkKey(key: unknown): void {
  const problem = describeFactKeyProblem(key);
  if (problem) {
    throw new FactsInputError(problem);
  }
}

function checkValue(value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxFactValueLength) {
    throw new FactsInputError(`a fact's value must be non-empty text of at most ${maxFactValueLength} characters`);
  }
}

function checkCitations(citations: readonly FactCitation[]): readonly FactCitation[] {
  const problem = describeCitationsProblem(citations);
  if (problem) {
    throw new FactsInputError(problem);
  }
  return citations;
}

function provenanceOf(partial: Partial<FactProvenance> | undefined): FactProvenance {
  return { sessionId: partial?.sessionId ?? null, eventId: partial?.eventId ?? null, path: partial?.path ?? null, line: partial?.line ?? null };
}
