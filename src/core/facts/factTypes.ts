import type { FactCitation, FactClaim, FactProvenance, FactScope, FactTrust, VersionVector } from './factEvents';

// What the Facts read model answers: facts with their current values (heads), their history,
// and proposals waiting for the user.

/** active: one value; conflicted: concurrent values wait for a merge; retired: no value. */
export type FactState = 'active' | 'conflicted' | 'retired';
export type VerifyStatus = 'unchecked' | 'verified' | 'stale';

/** One current value of a fact (a conflicted fact has several). */
export interface FactHead {
  readonly eventId: string;
  /** null: this head retires the fact. */
  readonly value: string | null;
  readonly kind: string;
  readonly trust: FactTrust;
  readonly scope: FactScope;
  readonly provenance: FactProvenance;
  readonly citations: readonly FactCitation[];
  readonly promptVersion: string | null;
  /** The prompt version under which the user last marked it verified (null: never). */
  readonly verifiedPromptVersion: string | null;
  readonly writerId: string;
  /** The write's own dot: the writer's counter for this key. */
  readonly dot: number;
  readonly seq: number;
  readonly wallMs: number;
  readonly verifyStatus: VerifyStatus;
  readonly verifyDetail: string | null;
  readonly verifiedMs: number | null;
}

/** A value that stopped being current, and when. */
export interface FactHistoryEntry {
  readonly eventId: string;
  readonly key: string;
  readonly value: string | null;
  readonly trust: FactTrust;
  readonly writerId: string;
  readonly fromSeq: number;
  readonly fromMs: number;
  readonly toSeq: number;
  readonly toMs: number;
  /** superseded: a write that saw it; overwritten: last-writer-wins replaced it unseen; merged: the user resolved a conflict. */
  readonly ended: 'superseded' | 'overwritten' | 'merged';
  readonly endedBy: string;
}

export interface FactView {
  readonly key: string;
  readonly scope: FactScope;
  readonly state: FactState;
  readonly pinned: boolean;
  /** What a writer that saw every head sends as `seen`. */
  readonly vector: VersionVector;
  readonly heads: readonly FactHead[];
  readonly createdMs: number;
  readonly updatedSeq: number;
  readonly updatedMs: number;
  /** The last request it went into, if any. */
  readonly usedMs: number | null;
  /** Any head's citations no longer match the file. */
  readonly stale: boolean;
  readonly historyCount: number;
}

export type ProposalStatus = 'pending' | 'confirmed' | 'rejected';

export interface FactProposal extends FactClaim {
  readonly proposalId: string;
  readonly eventId: string;
  readonly reason: string | null;
  readonly status: ProposalStatus;
  readonly seq: number;
  readonly wallMs: number;
}

/** What was believed about a key at one moment. */
export interface BeliefAt {
  readonly key: string;
  readonly values: readonly (string | null)[];
}
