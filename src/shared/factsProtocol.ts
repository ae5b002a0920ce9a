import { RequestType } from 'vscode-jsonrpc';
import type { ConflictPolicy, FactCitation, FactScope, VersionVector } from '../core/facts/factEvents';
import type { FactHistoryEntry, FactProposal, FactView } from '../core/facts/factTypes';

// The engine's facts requests (src/server/factsService.ts). Every write here is the user's own
// action in the extension; the model can only propose (the `remember` tool, in the engine).

export interface FactsSettings {
  readonly conflictPolicy: ConflictPolicy;
  readonly budgetTokens: number;
  readonly reviewAfterDays: number;
}

export interface FactsListResult {
  readonly facts: readonly FactView[];
  readonly proposals: readonly FactProposal[];
  /** Keys unused and unverified for reviewAfterDays. */
  readonly dueForReview: readonly string[];
  /** Active facts prompt drift concerns (older prompt version, or contradicted), with why. */
  readonly drifted?: ReadonlyArray<{ readonly key: string; readonly why: string }>;
}

export interface FactDetailResult {
  readonly fact: FactView | null;
  readonly history: readonly FactHistoryEntry[];
}

export interface FactAddParams {
  readonly key: string;
  readonly value: string;
  readonly scope?: FactScope;
  readonly citations?: readonly FactCitation[];
  /** Where it came from: the file and line of a selection. */
  readonly path?: string;
  readonly line?: number;
  /** What the caller read (optimistic concurrency); absent for a new key. */
  readonly expectedVector?: VersionVector;
}

export interface FactKeyParams {
  readonly key: string;
  readonly expectedVector?: VersionVector;
}

export interface FactMergeParams {
  readonly key: string;
  readonly expectedVector: VersionVector;
  /** One of: pick (1-based), value, retire, split (one new key per value). */
  readonly pick?: number;
  readonly value?: string;
  readonly retire?: boolean;
  readonly split?: readonly string[];
}

export interface FactPinParams {
  readonly key: string;
  readonly pinned: boolean;
}

export interface FactProposalParams {
  readonly proposalId: string;
  readonly value?: string;
  readonly reason?: string;
}

export interface FactCiteParams {
  /** Workspace-relative path. */
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

export interface FactVerifyParams {
  readonly key: string;
  /** What the caller read (optimistic concurrency): a fact changed since is refused. */
  readonly expectedVector?: VersionVector;
}

export interface FactCheckResult {
  readonly status: 'verified' | 'stale' | 'uncited' | 'not-checked';
  readonly detail: string | null;
}

/** A write refused because the fact changed since the caller read it (message says to what). */
export const factChangedErrorCode = -32020;

export const FactsRequests = {
  configure: new RequestType<FactsSettings, void, void>('contextLedger/facts/configure'),
  list: new RequestType<Record<string, never>, FactsListResult, void>('contextLedger/facts/list'),
  get: new RequestType<{ readonly key: string }, FactDetailResult, void>('contextLedger/facts/get'),
  add: new RequestType<FactAddParams, FactView, void>('contextLedger/facts/add'),
  retire: new RequestType<FactKeyParams, FactView, void>('contextLedger/facts/retire'),
  merge: new RequestType<FactMergeParams, readonly FactView[], void>('contextLedger/facts/merge'),
  pin: new RequestType<FactPinParams, FactView, void>('contextLedger/facts/pin'),
  confirm: new RequestType<FactProposalParams, FactView, void>('contextLedger/facts/confirm'),
  reject: new RequestType<FactProposalParams, FactProposal, void>('contextLedger/facts/reject'),
  /** Checks a fact's citations against the files now and records the result (Mark Verified). */
  verify: new RequestType<FactVerifyParams, FactCheckResult, void>('contextLedger/facts/verify'),
  /** A citation of workspace lines (read by the engine: secret and ignore rules apply). */
  cite: new RequestType<FactCiteParams, FactCitation, void>('contextLedger/facts/cite'),
} as const;
