import type { ModelPort } from '../chat/chatTurn';
import type { TokenCounter } from '../context/tokenCounts';
import { messageOverheadTokens } from '../context/tokenEstimator';
import type { Ledger } from '../ledger';
import type { StoredEvent } from '../log/events';
import { deriveTrail, renderTrail } from './artifactTrail';
import { checkBarrier } from './barrier';
import { compactionMessageText } from './compactionText';
import type { ArtifactTrail, CompactionCommittedBody, CompactionRange, CompactionTier, SummaryTier } from './compactionTypes';
import { CompactionRangeError, resolveRange, sourceDigestOf, type TurnRange } from './compactionRange';
import { modelCompactionRequest, summarizeWithModel } from './modelCompactor';
import { summarizeOffline } from './offlineCompactor';

// Preview, commit, undo and list, on a Ledger: what the engine service and the CLI call. A
// preview is computed from the log and changes nothing; a commit appends one
// compaction.committed event that carries the session version the preview saw (and appends it
// with that expectedVersion, so a turn that lands in between makes it a conflict: stale); undo
// appends compaction.undone. The trail, the digest and the token counts are always re-derived
// from the events at commit: only the summary text comes from the preview.

export class CompactionStaleError extends Error {
  override readonly name = 'CompactionStaleError';

  constructor(
    readonly sessionId: string,
    readonly sawVersion: number,
    readonly currentVersion: number,
  ) {
    super(`session ${sessionId} changed since the preview (it saw version ${sawVersion}, the session is at ${currentVersion}): a turn or another event arrived in between. Preview the compaction again.`);
  }
}

export class CompactionInputError extends Error {
  override readonly name = 'CompactionInputError';
}

/** How the summary is written: offline (extractive) or by the model through the chat's port. */
export type Summarizer =
  | { readonly kind: 'offline' }
  | { readonly kind: 'model'; readonly port: ModelPort; readonly model: string; readonly signal: AbortSignal; readonly timeoutMs: number };

export interface CompactionContext {
  readonly ledger: Ledger;
  readonly counter: TokenCounter;
  /** A chat turn of this session is running (the chat service knows). */
  readonly inFlight: (sessionId: string) => boolean;
  /** The tier when neither the request nor the session names one (contextLedger.compaction.tier). */
  readonly defaultTier: CompactionTier;
}

export interface PreviewParams {
  readonly sessionId: string;
  readonly tier?: CompactionTier;
  readonly range?: TurnRange;
  readonly keepTurns?: number;
  readonly promptVersion?: string | null;
}

export interface CompactionPreview {
  readonly sessionId: string;
  /** Pass back to commit: a commit after newer events is refused as stale. */
  readonly sessionVersion: number;
  readonly tier: SummaryTier;
  readonly body: CompactionCommittedBody;
  /** The trail as it goes into the request. */
  readonly trailText: string;
  /** Exactly what replaces the range in a request. */
  readonly messageText: string;
  readonly sourceEventCount: number;
}

export interface CommitParams {
  readonly sessionId: string;
  /** The preview's body (summary, range, tier, model, promptVersion, sessionVersion); the rest is re-derived. */
  readonly body: Pick<CompactionCommittedBody, 'summary' | 'range' | 'tier' | 'model' | 'promptVersion' | 'sessionVersion'>;
  /** The engine compacts on its own (automatic compaction); the event says so. */
  readonly automatic?: boolean;
}

export interface CommitResult {
  readonly compactionId: string;
  readonly seq: number;
  readonly body: CompactionCommittedBody;
  /** The same commit had been stored already (a retry). */
  readonly duplicate: boolean;
}

export interface CompactionListing {
  readonly id: string;
  readonly seq: number;
  readonly undoneSeq: number | null;
  readonly body: CompactionCommittedBody;
}

function sessionOf(context: CompactionContext, sessionId: string): { version: number; events: StoredEvent[] } {
  const session = context.ledger.getSession(sessionId);
  if (!session) {
    throw new CompactionInputError(`there is no session ${sessionId}`);
  }
  if (session.closed) {
    throw new CompactionInputError(`session ${sessionId} is closed`);
  }
  return { version: session.version, events: context.ledger.readSession(sessionId) };
}

/** The session's own tier (its newest session.tierSet), else the default. */
export function sessionTier(events: readonly StoredEvent[], fallback: CompactionTier): CompactionTier {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.kind === 'session.tierSet') {
      return event.body.tier;
    }
  }
  return fallback;
}

function summaryTier(tier: CompactionTier): SummaryTier {
  if (tier === 'full') {
    throw new CompactionInputError('the fidelity tier is "full": this session is never compacted. Pick balanced or aggressive to compact it.');
  }
  return tier;
}

/** A compaction in force that overlaps `range` without lying wholly inside it. */
function partialOverlap(context: CompactionContext, sessionId: string, range: CompactionRange): string | undefined {
  for (const row of context.ledger.listCompactions(sessionId)) {
    const overlaps = row.firstSeq <= range.lastSeq && row.lastSeq >= range.firstSeq;
    const inside = row.firstSeq >= range.firstSeq && row.lastSeq <= range.lastSeq;
    if (overlaps && !inside) {
      return `it overlaps compaction ${row.id} of turns ${row.firstTurn}–${row.lastTurn}; undo that one first, or compact a range that holds it whole`;
    }
  }
  return undefined;
}

function buildBody(
  context: CompactionContext,
  resolved: ReturnType<typeof resolveRange>,
  fields: { summary: string; tier: SummaryTier; model: string; promptVersion: string | null; sessionVersion: number },
  trail: ArtifactTrail = deriveTrail(resolved.events),
): CompactionCommittedBody {
  const draft: CompactionCommittedBody = {
    summary: fields.summary,
    range: resolved.range,
    tier: fields.tier,
    model: fields.model,
    promptVersion: fields.promptVersion,
    sourceDigest: sourceDigestOf(resolved.events),
    trail,
    sessionVersion: fields.sessionVersion,
    sourceTokens: resolved.sourceTokens,
    summaryTokens: 0,
  };
  const summaryTokens = context.counter.count([{ type: 'text', text: compactionMessageText(draft) }]).tokens + messageOverheadTokens;
  return { ...draft, summaryTokens };
}

export async function previewCompaction(context: CompactionContext, params: PreviewParams, summarizer: Summarizer = { kind: 'offline' }): Promise<CompactionPreview> {
  const { version, events } = sessionOf(context, params.sessionId);
  checkBarrier(params.sessionId, events, context.inFlight(params.sessionId));
  const tier = summaryTier(params.tier ?? sessionTier(events, context.defaultTier));
  const resolved = resolveRange(events, params.range, context.counter, params.keepTurns);
  const overlap = partialOverlap(context, params.sessionId, resolved.range);
  if (overlap) {
    throw new CompactionRangeError(`turns ${resolved.range.firstTurn}–${resolved.range.lastTurn} cannot be compacted: ${overlap}`);
  }
  const trail = deriveTrail(resolved.events);
  let summary: string;
  let model: string;
  if (summarizer.kind === 'model') {
    const request = modelCompactionRequest(tier, resolved.events, resolved.range.firstTurn, renderTrail(trail));
    summary = await summarizeWithModel(summarizer.port, request, summarizer);
    model = summarizer.model;
  } else {
    summary = summarizeOffline({ tier, events: resolved.events, firstTurn: resolved.range.firstTurn }) || '(nothing in these turns beyond the artifact trail)';
    model = 'offline';
  }
  const body = buildBody(context, resolved, { summary, tier, model, promptVersion: params.promptVersion ?? null, sessionVersion: version }, trail);
  return { sessionId: params.sessionId, sessionVersion: version, tier, body, trailText: renderTrail(body.trail), messageText: compactionMessageText(body), sourceEventCount: resolved.events.length };
}

/** The id of a commit: the same preview committed twice is stored once. */
function compactionIdOf(body: Pick<CompactionCommittedBody, 'sourceDigest' | 'sessionVersion' | 'tier'>): string {
  return `compaction-${body.sourceDigest.slice(0, 24)}-${body.sessionVersion}-${body.tier}`;
}

export async function commitCompaction(context: CompactionContext, params: CommitParams): Promise<CommitResult> {
  const { version, events } = sessionOf(context, params.sessionId);
  const seen = params.body;
  if (!Number.isSafeInteger(seen.sessionVersion)) {
    throw new CompactionInputError('a commit needs the sessionVersion its preview saw');
  }
  if (typeof seen.summary !== 'string' || seen.summary.trim() === '') {
    throw new CompactionInputError('a commit needs the summary its preview showed');
  }
  const tier = summaryTier(seen.tier);
  if (seen.sessionVersion !== version) {
    throw new CompactionStaleError(params.sessionId, seen.sessionVersion, version);
  }
  checkBarrier(params.sessionId, events, context.inFlight(params.sessionId));
  const resolved = resolveRange(events, { firstTurn: seen.range.firstTurn, lastTurn: seen.range.lastTurn }, context.counter);
  if (resolved.range.firstSeq !== seen.range.firstSeq || resolved.range.lastSeq !== seen.range.lastSeq) {
    throw new CompactionStaleError(params.sessionId, seen.sessionVersion, version);
  }
  const overlap = partialOverlap(context, params.sessionId, resolved.range);
  if (overlap) {
    throw new CompactionRangeError(`turns ${resolved.range.firstTurn}–${resolved.range.lastTurn} cannot be compacted: ${overlap}`);
  }
  const built = buildBody(context, resolved, { summary: seen.summary, tier, model: seen.model, promptVersion: seen.promptVersion ?? null, sessionVersion: version });
  const body: CompactionCommittedBody = params.automatic === true ? { ...built, automatic: true } : built;
  const id = compactionIdOf(body);
  // expectedVersion makes the check and the append one step: a turn landing now is a conflict.
  const [verdict] = await context.ledger.append([{ kind: 'compaction.committed', id, sessionId: params.sessionId, body, expectedVersion: version }]);
  if (!verdict || verdict.status === 'conflict') {
    throw new CompactionStaleError(params.sessionId, version, context.ledger.getSession(params.sessionId)?.version ?? version);
  }
  if (verdict.status === 'duplicate') {
    return { compactionId: id, seq: verdict.seq, body, duplicate: true };
  }
  return { compactionId: id, seq: verdict.seq, body, duplicate: false };
}

/** Undoes a compaction in force (the newest when none is named). */
export async function undoCompaction(context: CompactionContext, params: { readonly sessionId: string; readonly compactionId?: string }): Promise<{ compactionId: string; range: CompactionRange }> {
  sessionOf(context, params.sessionId);
  const active = context.ledger.listCompactions(params.sessionId);
  const target = params.compactionId === undefined ? active.at(-1) : active.find((row) => row.id === params.compactionId);
  if (!target) {
    throw new CompactionInputError(params.compactionId === undefined ? `session ${params.sessionId} has no compaction in force` : `compaction ${params.compactionId} is not in force in session ${params.sessionId} (undone already, or of another session)`);
  }
  const [verdict] = await context.ledger.append([{ kind: 'compaction.undone', id: `undo-${target.id}`.slice(0, 200), sessionId: params.sessionId, body: { compactionId: target.id } }]);
  if (verdict?.status === 'conflict') {
    throw new CompactionInputError(`the undo was refused: ${verdict.reason}`);
  }
  return { compactionId: target.id, range: { firstSeq: target.firstSeq, lastSeq: target.lastSeq, firstEventId: '', lastEventId: '', firstTurn: target.firstTurn, lastTurn: target.lastTurn } };
}

/** A session's compactions with their summaries and trails (read from the journal). */
export function listSessionCompactions(ledger: Ledger, sessionId: string, includeUndone = true): CompactionListing[] {
  return ledger.listCompactions(sessionId, includeUndone).flatMap((row) => {
    const event = ledger.readSession(sessionId, { fromSeq: row.seq, toSeq: row.seq }).find((candidate) => candidate.id === row.id);
    return event?.kind === 'compaction.committed' ? [{ id: row.id, seq: row.seq, undoneSeq: row.undoneSeq, body: event.body }] : [];
  });
}
