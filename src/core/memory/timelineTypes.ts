import type { DetailKind, DroppedDetail } from './droppedDetails';

// The memory panel's view of a session: rows of a timeline (one per event), the growth of the
// session's tokens, search hits and the store's health. Plain data: the engine computes it, the
// panel draws it.

export type TimelineCategory = 'turn' | 'answer' | 'toolCall' | 'toolResult' | 'receipt' | 'failure' | 'compaction' | 'undo' | 'imported' | 'other';

export interface TimelineCompaction {
  readonly id: string;
  readonly firstTurn: number;
  readonly lastTurn: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly tier: string;
  readonly model: string;
  readonly summaryTokens: number;
  readonly sourceTokens: number;
  /** Undone since (its turns go into requests as they were). */
  readonly undone: boolean;
}

export interface TimelineRow {
  /** Its place in the session (0-based): the row the panel draws it at. */
  readonly index: number;
  readonly seq: number;
  readonly eventId: string;
  readonly kind: string;
  readonly category: TimelineCategory;
  /** The turn it belongs to (turns as the chat numbers them); 0 before the first question. */
  readonly turn: number;
  /** One line, at most `timelineLabelChars`. */
  readonly label: string;
  /** Tokens it adds to a request (content events), or what it stands for (a receipt's request, a summary). */
  readonly tokens: number;
  readonly wallMs: number;
  /** When it happened: its source record's time if it was imported with one, else `wallMs`. */
  readonly timeMs: number;
  readonly timeFromSource: boolean;
  /** A failed tool result or a failed turn. */
  readonly failed: boolean;
  readonly compaction: TimelineCompaction | null;
}

export const timelineLabelChars = 240;
/** Rows per page of the timeline request, and the most a request may ask for. */
export const timelinePageSize = 200;
export const timelineMaxRows = 1000;

export interface TimelineOverview {
  readonly sessionId: string;
  readonly name: string;
  /** The session version: a commit must name the version its preview saw. */
  readonly version: number;
  readonly eventCount: number;
  readonly turnCount: number;
  readonly pageSize: number;
  /** The seq of the first event of each page: page p is rows p*pageSize… (fromSeq = pageStarts[p]). */
  readonly pageStarts: readonly number[];
}

export interface GrowthPoint {
  readonly index: number;
  readonly seq: number;
  readonly wallMs: number;
  /** When it happened (the source record's time of an imported event): the chart's x-axis. */
  readonly timeMs: number;
  /** Tokens of the session's content so far (what a request would carry without windows or compaction). */
  readonly tokens: number;
}

export interface GrowthSeries {
  readonly sessionId: string;
  readonly eventCount: number;
  readonly totalTokens: number;
  readonly points: readonly GrowthPoint[];
  /** Request sizes the receipts recorded. */
  readonly requests: readonly GrowthPoint[];
  /** Compactions in force, by where their range ends (positions and the events' own times). */
  readonly compactions: ReadonlyArray<{ readonly index: number; readonly firstIndex: number; readonly timeMs: number; readonly firstTimeMs: number; readonly savedTokens: number }>;
  /** The earliest and latest own time of the session's events (the time axis); null: no events. */
  readonly timeSpan: { readonly startMs: number; readonly endMs: number } | null;
}

export interface SearchHit {
  readonly index: number;
  readonly seq: number;
  readonly category: TimelineCategory;
  /** Text around the first match. */
  readonly snippet: string;
}

export interface SearchResult {
  readonly query: string;
  readonly hits: readonly SearchHit[];
  /** More matched than `hits` holds. */
  readonly truncated: boolean;
}

export interface StoreHealth {
  readonly storeDir: string;
  /** Journal, database and newest snapshot, in bytes. */
  readonly journalBytes: number;
  readonly databaseBytes: number;
  readonly snapshotBytes: number;
  readonly eventCount: number;
  readonly sessionCount: number;
  /** Journal bytes per day since the first event (null: less than a day of history). */
  readonly bytesPerDay: number | null;
  readonly firstEventMs: number | null;
  /** When the newest snapshot was written, and how many events came after it. */
  readonly snapshotMs: number | null;
  readonly eventsSinceSnapshot: number | null;
  readonly damagedRecords: number;
  /** Why the shown session cannot be compacted now, in words (empty: nothing holds it). */
  readonly barriers: readonly string[];
}

/** One raw event of a compaction's range, with the places of the details the summary dropped. */
export interface RawItem {
  readonly seq: number;
  readonly category: TimelineCategory;
  readonly text: string;
  /** The text was cut to `rawItemChars`. */
  readonly clipped: boolean;
  readonly highlights: ReadonlyArray<{ readonly start: number; readonly end: number; readonly kind: DetailKind }>;
}

export interface CompactionComparison {
  readonly raw: readonly RawItem[];
  readonly dropped: readonly DroppedDetail[];
  /** Details in the raw turns, and how many of them the summary and trail keep. */
  readonly detailCount: number;
  readonly keptCount: number;
}
