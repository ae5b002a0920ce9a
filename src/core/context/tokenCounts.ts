import type { ContentBlock } from './contextTypes';
import { estimateBlocksTokens } from './tokenEstimator';

// Token counts for context assembly. Assembly is synchronous and must not wait on the network,
// so it asks a `TokenCounter` that answers at once: an exact count from the API's
// count_tokens if one is cached for the event, else the offline estimate. Exact counts are
// filled in the background, per event (events never change, so a count keyed by event id
// never goes stale), by whoever holds an API client: see `CachedTokenCounter.fillExact`.

export type TokenSource = 'api' | 'estimate';

export interface TokenCount {
  readonly tokens: number;
  readonly source: TokenSource;
}

export interface TokenCounter {
  /**
   * Tokens of `blocks` alone (no message framing). With a cache key (an event id), a count
   * cached for the key is returned without looking at the blocks, and a fresh estimate is cached.
   */
  count(blocks: readonly ContentBlock[], cacheKey?: string): TokenCount;
  /** The count cached for a key, exact or estimated, without computing anything. */
  cached(cacheKey: string): TokenCount | undefined;
  /** Changes whenever an exact count arrives, so callers can tell their sums are stale. */
  readonly exactVersion: number;
  /**
   * The keys whose exact counts arrived after `exactVersion` was `version`; undefined when the
   * counter no longer knows (too long ago, or cleared): then re-read everything.
   */
  changedSince?(version: number): readonly string[] | undefined;
}

/**
 * Exact counts from the Messages API (count_tokens), supplied by the LLM layer. It returns the
 * tokens of the blocks alone, as they would be inside a message of `role`: e.g. count_tokens
 * of a minimal request holding them minus count_tokens of the same request without them.
 */
export interface ExactTokenCounter {
  countBlocks(role: 'user' | 'assistant', blocks: readonly ContentBlock[], signal?: AbortSignal): Promise<number>;
}

/** One thing to count exactly: an event's content as it goes into a request. */
export interface CountRequest {
  readonly key: string;
  readonly role: 'user' | 'assistant';
  readonly blocks: readonly ContentBlock[];
}

export interface CachedTokenCounterOptions {
  /** The offline estimate; defaults to `estimateBlocksTokens`. */
  readonly estimate?: (blocks: readonly ContentBlock[]) => number;
  /** Entries kept per kind (estimates, exact counts); the oldest tenth goes when it is full. */
  readonly maxEntries?: number;
}

/** The in-memory counter: exact counts where the API gave them, estimates elsewhere. */
export class CachedTokenCounter implements TokenCounter {
  private readonly estimates = new Map<string, number>();
  private readonly exact = new Map<string, number>();
  private readonly estimate: (blocks: readonly ContentBlock[]) => number;
  private readonly maxEntries: number;
  private version = 0;
  /** Keys of recent exact counts: entry k arrived at version changesBase + k + 1. */
  private changes: string[] = [];
  private changesBase = 0;

  constructor(options: CachedTokenCounterOptions = {}) {
    this.estimate = options.estimate ?? estimateBlocksTokens;
    this.maxEntries = options.maxEntries ?? 500_000;
  }

  get exactVersion(): number {
    return this.version;
  }

  get size(): { estimates: number; exact: number } {
    return { estimates: this.estimates.size, exact: this.exact.size };
  }

  count(blocks: readonly ContentBlock[], cacheKey?: string): TokenCount {
    if (cacheKey === undefined) {
      return { tokens: this.estimate(blocks), source: 'estimate' };
    }
    const known = this.cached(cacheKey);
    if (known) {
      return known;
    }
    const tokens = this.estimate(blocks);
    remember(this.estimates, cacheKey, tokens, this.maxEntries);
    return { tokens, source: 'estimate' };
  }

  cached(cacheKey: string): TokenCount | undefined {
    const exact = this.exact.get(cacheKey);
    if (exact !== undefined) {
      return { tokens: exact, source: 'api' };
    }
    const estimate = this.estimates.get(cacheKey);
    return estimate === undefined ? undefined : { tokens: estimate, source: 'estimate' };
  }

  hasExact(cacheKey: string): boolean {
    return this.exact.has(cacheKey);
  }

  /** Records an exact count (from count_tokens) for a key. */
  setExact(cacheKey: string, tokens: number): void {
    if (!Number.isFinite(tokens) || tokens < 0) {
      throw new RangeError(`an exact token count must be a non-negative number, not ${tokens}`);
    }
    if (this.exact.get(cacheKey) === tokens) {
      return;
    }
    remember(this.exact, cacheKey, Math.round(tokens), this.maxEntries);
    this.estimates.delete(cacheKey);
    this.version++;
    this.changes.push(cacheKey);
    if (this.changes.length > changeHistory) {
      const dropped = this.changes.length - changeHistory / 2;
      this.changes = this.changes.slice(dropped);
      this.changesBase += dropped;
    }
  }

  changedSince(version: number): readonly string[] | undefined {
    return version < this.changesBase || version > this.version ? undefined : this.changes.slice(version - this.changesBase);
  }

  /**
   * Counts exactly what has no exact count yet, `concurrency` requests at a time, and caches
   * each answer as it arrives (so an assembly running meanwhile uses whatever is there).
   * A failed count leaves the estimate in place; the first error is rethrown at the end.
   * Returns how many keys got an exact count.
   */
  async fillExact(requests: Iterable<CountRequest>, counter: ExactTokenCounter, options: { concurrency?: number; signal?: AbortSignal } = {}): Promise<number> {
    const queue = [...requests].filter((request) => !this.exact.has(request.key));
    let filled = 0;
    let firstError: Error | undefined;
    const worker = async (): Promise<void> => {
      for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
        if (options.signal?.aborted) {
          return;
        }
        try {
          this.setExact(request.key, await counter.countBlocks(request.role, request.blocks, options.signal));
          filled++;
        } catch (error) {
          firstError ??= error instanceof Error ? error : new Error(`exact token count failed: ${JSON.stringify(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    if (firstError !== undefined) {
      throw firstError;
    }
    return filled;
  }

  clear(): void {
    this.estimates.clear();
    this.exact.clear();
    this.version++;
    this.changes = [];
    this.changesBase = this.version;
  }
}

const changeHistory = 20_000;

function remember(map: Map<string, number>, key: string, value: number, maxEntries: number): void {
  if (map.size >= maxEntries && !map.has(key)) {
    // Maps iterate in insertion order: drop the oldest tenth.
    let drop = Math.max(1, Math.floor(maxEntries / 10));
    for (const old of map.keys()) {
      map.delete(old);
      if (--drop === 0) {
        break;
      }
    }
  }
  map.set(key, value);
}

/** A short stable key for a text that has no event id (the system prompt): FNV-1a of it. */
export function textCacheKey(prefix: string, text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${prefix}:${text.length}:${(hash >>> 0).toString(16)}`;
}
