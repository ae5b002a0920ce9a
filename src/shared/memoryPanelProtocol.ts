import { RequestType } from 'vscode-jsonrpc';
import type { CompactionComparison, GrowthSeries, SearchResult, StoreHealth, TimelineOverview, TimelineRow } from '../core/memory/timelineTypes';

// The memory panel's requests to the engine (src/server/memoryPanelService.ts): a session's
// timeline paged by seq, its token growth, search within it, the side-by-side comparison of a
// compaction preview with its raw turns, and the store's health. Preview, commit and undo are
// the compaction requests (compactionProtocol.ts).

export type { DroppedDetail } from '../core/memory/droppedDetails';
export type { CompactionComparison, RawItem, GrowthPoint, GrowthSeries, SearchHit, SearchResult, StoreHealth, TimelineCategory, TimelineCompaction, TimelineOverview, TimelineRow } from '../core/memory/timelineTypes';

export interface MemorySessionParams {
  readonly sessionId: string;
}

export interface MemoryPageParams {
  readonly sessionId: string;
  /** The page starts at the first event at or after this seq (an overview's pageStarts). */
  readonly fromSeq: number;
  readonly limit?: number;
}

export interface MemoryPageResult {
  readonly version: number;
  readonly rows: readonly TimelineRow[];
}

export interface MemorySearchParams {
  readonly sessionId: string;
  readonly query: string;
}

export interface MemoryCompareParams {
  readonly sessionId: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly summary: string;
  readonly trailText: string;
}

export interface MemoryHealthParams {
  readonly sessionId: string | null;
}

export const memoryLimits = { queryLength: 500, summaryLength: 2_000_000 } as const;

export const MemoryRequests = {
  overview: new RequestType<MemorySessionParams, TimelineOverview, void>('contextLedger/memory/overview'),
  page: new RequestType<MemoryPageParams, MemoryPageResult, void>('contextLedger/memory/page'),
  growth: new RequestType<MemorySessionParams, GrowthSeries, void>('contextLedger/memory/growth'),
  search: new RequestType<MemorySearchParams, SearchResult, void>('contextLedger/memory/search'),
  compare: new RequestType<MemoryCompareParams, CompactionComparison, void>('contextLedger/memory/compare'),
  health: new RequestType<MemoryHealthParams, StoreHealth, void>('contextLedger/memory/health'),
} as const;
