import type { Connection } from 'vscode-languageserver/node';
import type { TokenCounter } from '../core/context/tokenCounts';
import { nodeFileSystem } from '../core/fs/fileSystem';
import type { Ledger } from '../core/ledger';
import { compareCompaction, type CompactionComparison } from '../core/memory/compactionCompare';
import { MemoryInputError, SessionTimeline } from '../core/memory/sessionTimeline';
import type { GrowthSeries, SearchResult, StoreHealth, TimelineOverview } from '../core/memory/timelineTypes';
import { memoryLimits, MemoryRequests, type MemoryPageResult } from '../shared/memoryPanelProtocol';
import { invalid, record, sessionIdOf } from './requestParams';

// The engine's memory panel service: checked params in, answers from SessionTimeline (paged by
// seq, bodies read only for the rows asked for), errors with the compaction service's "invalid"
// code so a client shows them in words.

export interface MemoryPanelDependencies {
  readonly counter: TokenCounter;
  /** A chat turn of the session is running (ChatService.isAnswering). */
  readonly inFlight: (sessionId: string) => boolean;
}




function seqOf(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalid(`"${name}" must be a whole number from 0`);
  }
  return value as number;
}

function text(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    throw invalid(`"${name}" must be a string of at most ${max} characters`);
  }
  return value;
}

export class MemoryPanelService {
  private timeline: { ledger: Ledger; timeline: SessionTimeline } | undefined;

  constructor(private readonly deps: MemoryPanelDependencies) {}

  private timelineOf(ledger: Ledger): SessionTimeline {
    if (this.timeline?.ledger !== ledger) {
      this.timeline = { ledger, timeline: new SessionTimeline(ledger, this.deps.counter) };
    }
    return this.timeline.timeline;
  }

  private run<R>(ledger: Ledger, work: (timeline: SessionTimeline) => R): R {
    try {
      return work(this.timelineOf(ledger));
    } catch (error) {
      throw error instanceof MemoryInputError ? invalid(error.message) : error;
    }
  }

  overview(ledger: Ledger, value: unknown): TimelineOverview {
    const sessionId = sessionIdOf(record(value, 'memory/overview'));
    return this.run(ledger, (timeline) => timeline.overview(sessionId));
  }

  page(ledger: Ledger, value: unknown): MemoryPageResult {
    const params = record(value, 'memory/page');
    const sessionId = sessionIdOf(params);
    const fromSeq = seqOf(params.fromSeq, 'fromSeq');
    const limit = params.limit === undefined ? undefined : seqOf(params.limit, 'limit');
    return this.run(ledger, (timeline) => timeline.page(sessionId, fromSeq, limit));
  }

  growth(ledger: Ledger, value: unknown): GrowthSeries {
    const sessionId = sessionIdOf(record(value, 'memory/growth'));
    return this.run(ledger, (timeline) => timeline.growth(sessionId));
  }

  search(ledger: Ledger, value: unknown): SearchResult {
    const params = record(value, 'memory/search');
    const sessionId = sessionIdOf(params);
    const query = text(params.query, 'query', memoryLimits.queryLength);
    return this.run(ledger, (timeline) => timeline.search(sessionId, query));
  }

  compare(ledger: Ledger, value: unknown): CompactionComparison {
    const params = record(value, 'memory/compare');
    const sessionId = sessionIdOf(params);
    const firstSeq = seqOf(params.firstSeq, 'firstSeq');
    const lastSeq = seqOf(params.lastSeq, 'lastSeq');
    if (lastSeq < firstSeq) {
      throw invalid('"lastSeq" must not be before "firstSeq"');
    }
    const summary = text(params.summary, 'summary', memoryLimits.summaryLength);
    const trailText = text(params.trailText, 'trailText', memoryLimits.summaryLength);
    if (!ledger.getSession(sessionId)) {
      throw invalid(`there is no session ${sessionId}`);
    }
    // The same events the compaction covers: content events and failed turns of the range.
    const events = ledger.readSession(sessionId, { fromSeq: firstSeq, toSeq: lastSeq }).filter((event) => ['message.user', 'message.assistant', 'tool.use', 'tool.result', 'turn.failed'].includes(event.kind));
    return compareCompaction(events, summary, trailText);
  }

  health(ledger: Ledger, value: unknown): StoreHealth {
    const params = record(value ?? {}, 'memory/health');
    const sessionId = params.sessionId === null || params.sessionId === undefined ? null : sessionIdOf(params);
    return this.run(ledger, (timeline) => timeline.health(nodeFileSystem, sessionId, sessionId !== null && this.deps.inFlight(sessionId)));
  }
}

type Handle = <P, R>(run: (store: Ledger, params: P) => R | Promise<R>) => (params: P) => Promise<R>;

/** Registers the memory panel's requests on the engine's connection (one call from src/server/main.ts). */
export function registerMemoryPanelService(connection: Connection, handle: Handle, deps: MemoryPanelDependencies): MemoryPanelService {
  const service = new MemoryPanelService(deps);
  connection.onRequest(MemoryRequests.overview, handle((store, params: unknown) => service.overview(store, params)));
  connection.onRequest(MemoryRequests.page, handle((store, params: unknown) => service.page(store, params)));
  connection.onRequest(MemoryRequests.growth, handle((store, params: unknown) => service.growth(store, params)));
  connection.onRequest(MemoryRequests.search, handle((store, params: unknown) => service.search(store, params)));
  connection.onRequest(MemoryRequests.compare, handle((store, params: unknown) => service.compare(store, params)));
  connection.onRequest(MemoryRequests.health, handle((store, params: unknown) => service.health(store, params)));
  return service;
}
