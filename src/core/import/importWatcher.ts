import * as fs from 'node:fs';
import type { Importer } from './importer';
import type { ImportSummary } from './importTypes';

// Follows folders (or files) of transcripts: imports what they gained, on a poll and early when
// fs.watch reports a change, one pass at a time. Each pass reads only past every file's cursor,
// so an idle folder costs a stat and a cursor look-up per file. An unfinished last line (Claude
// Code writing it) is left for the next pass, not reported.

export interface ImportWatcherOptions {
  readonly pollMs?: number;
  readonly onImported?: (summary: ImportSummary) => void;
  readonly onError?: (error: unknown) => void;
}

export class ImportWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly watchers: fs.FSWatcher[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private readonly controller = new AbortController();
  private disposed = false;

  constructor(
    private readonly importer: Pick<Importer, 'importPaths'>,
    readonly paths: readonly string[],
    private readonly options: ImportWatcherOptions = {},
  ) {
    for (const target of paths) {
      try {
        // Recursive watching is not on every platform and file system: the poll covers the rest.
        const watcher = fs.watch(target, { recursive: true }, () => this.soon());
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // Polling only.
      }
    }
    this.schedule(0);
  }

  /** Resolves when the pass under way (if any) is over. */
  async idle(): Promise<void> {
    while (this.running !== undefined) {
      await this.running;
    }
  }

  /** Runs one pass now (after the one under way) and resolves with it. */
  async passNow(): Promise<void> {
    await this.idle();
    await this.pass();
  }

  private soon(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.schedule(50);
  }

  private schedule(ms: number): void {
    if (this.disposed) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
  }

  private pass(): Promise<void> {
    if (this.running !== undefined) {
      return this.running;
    }
    if (this.disposed) {
      return Promise.resolve();
    }
    clearTimeout(this.timer);
    this.running = (async () => {
      try {
        const summary = await this.importer.importPaths(this.paths.filter((target) => fs.existsSync(target)), { following: true, signal: this.controller.signal });
        if (summary.eventsAdded > 0 || summary.problems.length > 0) {
          this.options.onImported?.(summary);
        }
      } catch (error) {
        this.options.onError?.(error);
      } finally {
        this.running = undefined;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 50 : (this.options.pollMs ?? 1000));
      }
    })();
    return this.running;
  }

  /** Stops following; a pass under way stops after the batch it is writing. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.controller.abort();
    for (const watcher of this.watchers) {
      watcher.close();
    }
    this.watchers.length = 0;
  }
}
