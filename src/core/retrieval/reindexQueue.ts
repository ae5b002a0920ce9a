import type { RefreshOutcome, RetrievalIndex } from './retrievalIndex';

// Watcher events and editor changes arrive in bursts (a save fires change twice, a branch switch
// fires thousands, typing fires one per keystroke). Each only marks its file; after a quiet
// `debounceMs` the marked files are re-indexed one by one, each once however many events named
// it. An event for a file being re-indexed marks it again, so it runs once more afterwards:
// never twice at the same time, never lost.

export interface ReindexQueueOptions {
  readonly debounceMs?: number;
  /** Called after each re-index (the service saves the index later, and counts). */
  readonly onReindexed?: (relative: string, outcome: RefreshOutcome) => void;
  readonly onError?: (relative: string, error: unknown) => void;
}

export interface ReindexQueueStats {
  readonly eventsReceived: number;
  readonly reindexesRun: number;
  readonly pending: number;
}

export class ReindexQueue {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private eventsReceived = 0;
  private reindexesRun = 0;
  private disposed = false;
  private readonly debounceMs: number;

  constructor(
    private readonly index: RetrievalIndex,
    private readonly options: ReindexQueueOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 250;
  }

  /** A file was created, changed, deleted or renamed on disk (or its editor was closed or saved). */
  invalidate(relative: string): void {
    this.index.setUnsavedText(relative, undefined);
    this.mark(relative);
  }

  /** An open document's text changed without a save: the index follows the editor's text. */
  noteUnsavedEdit(relative: string, text: string): void {
    this.index.setUnsavedText(relative, text);
    this.mark(relative);
  }

  private mark(relative: string): void {
    if (this.disposed) {
      return;
    }
    this.eventsReceived++;
    this.pending.add(relative);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), this.debounceMs);
  }

  /** Re-indexes everything marked now (tests, and before the engine saves at shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.drain();
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        while (this.pending.size > 0 && !this.disposed) {
          const relative = this.pending.values().next().value as string;
          this.pending.delete(relative);
          try {
            const outcome = this.index.refreshFile(relative);
            this.reindexesRun++;
            this.options.onReindexed?.(relative, outcome);
          } catch (error) {
            this.options.onError?.(relative, error);
          }
          // Other requests (a search, a chat turn) run between files.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  stats(): ReindexQueueStats {
    return { eventsReceived: this.eventsReceived, reindexesRun: this.reindexesRun, pending: this.pending.size };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }
}
