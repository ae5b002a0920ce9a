// The vocabulary of compaction: fidelity tiers, the artifact trail and the bodies of the
// compaction events. A compaction is a view over a range of a session: the raw events never
// change, so undo is one more event and the request goes back to what it was.

/** full: never compact (warn near the budget); balanced: keep the details verbatim; aggressive: shortest. */
export type CompactionTier = 'full' | 'balanced' | 'aggressive';
export const compactionTiers: readonly CompactionTier[] = ['full', 'balanced', 'aggressive'];
/** The tiers that produce a summary. */
export type SummaryTier = Exclude<CompactionTier, 'full'>;

export function isCompactionTier(value: unknown): value is CompactionTier {
  return typeof value === 'string' && (compactionTiers as readonly string[]).includes(value);
}

/** What a tool call did to a file. */
export type FileAction = 'read' | 'written' | 'created' | 'listed' | 'searched';

export interface TrailFile {
  readonly path: string;
  readonly action: FileAction;
  /** The tool calls that did it, oldest first. */
  readonly toolUseIds: readonly string[];
}

export interface TrailCommand {
  readonly command: string;
  readonly toolUseId: string;
  /** The exit status when the result names one; null when it does not (or no result came). */
  readonly exitStatus: number | null;
  readonly failed: boolean;
}

export interface TrailError {
  /** A tool call's result (toolUseId) or a failed turn (eventId). */
  readonly source: 'tool' | 'turn';
  readonly ref: string;
  readonly message: string;
}

export interface TrailNote {
  readonly text: string;
  readonly eventId: string;
}

/**
 * What happened in a range, derived from its events (tool.use, tool.result, turn.failed,
 * messages), never from a model: the summary beside it may shorten anything but this.
 */
export interface ArtifactTrail {
  readonly files: readonly TrailFile[];
  readonly commands: readonly TrailCommand[];
  readonly errors: readonly TrailError[];
  readonly decisions: readonly TrailNote[];
  readonly openQuestions: readonly TrailNote[];
}

/** A compacted range of a session, in seqs, event ids and the turn numbers the chat shows. */
export interface CompactionRange {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstEventId: string;
  readonly lastEventId: string;
  readonly firstTurn: number;
  readonly lastTurn: number;
}

export interface CompactionCommittedBody {
  readonly summary: string;
  readonly range: CompactionRange;
  readonly tier: SummaryTier;
  /** The model that wrote the summary, or "offline" for the extractive compactor. */
  readonly model: string;
  /** The caller's name for the instructions used (null: not versioned yet). */
  readonly promptVersion: string | null;
  /** SHA-256 of the source events (ids, kinds and bodies, in order). */
  readonly sourceDigest: string;
  readonly trail: ArtifactTrail;
  /** The session version the preview saw: a commit after newer events is stale. */
  readonly sessionVersion: number;
  /** Tokens of the range as raw events, and of what replaces it (estimates at commit time). */
  readonly sourceTokens: number;
  readonly summaryTokens: number;
  /** The engine compacted on its own, past the configured share of the budget (absent: a user's commit). */
  readonly automatic?: true;
}

export interface CompactionUndoneBody {
  /** The id of the compaction.committed event undone. */
  readonly compactionId: string;
}

/** The session's fidelity tier (overrides the contextLedger.compaction.tier default). */
export interface SessionTierSetBody {
  readonly tier: CompactionTier;
}
