import * as readline from 'node:readline';
import { parseApiKeyUpdate } from '../shared/apiKeyChannel';

/**
 * The engine's copy of the API key, in memory only, kept current from the updates the extension
 * writes to the engine's stdin (src/shared/apiKeyChannel.ts). Never logged, never stored.
 */
export class ApiKeyHolder {
  private key: string | null = null;
  private versionSeen = 0;
  private readonly waiters = new Set<{ version: number; resolve: () => void }>();

  /** Reads updates from `input` until it ends; the returned function stops reading. */
  listen(input: NodeJS.ReadableStream): () => void {
    const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 });
    lines.on('line', (line) => this.accept(line));
    return () => lines.close();
  }

  /** One line of the channel; a malformed or stale update is dropped. */
  accept(line: string): void {
    const update = parseApiKeyUpdate(line);
    if (!update || update.version <= this.versionSeen) {
      return;
    }
    this.key = update.apiKey;
    this.versionSeen = update.version;
    for (const waiter of this.waiters) {
      if (waiter.version <= this.versionSeen) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  get current(): string | null {
    return this.key;
  }

  get version(): number {
    return this.versionSeen;
  }

  /**
   * The key once update `version` (or a later one) has arrived; it was written before the request
   * that asks for it, so this waits only for the other pipe to be read. After `timeoutMs`, rejects.
   */
  async keyOf(version: number, timeoutMs = 5_000): Promise<string | null> {
    if (version > this.versionSeen) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          version,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`the API key update ${version} did not reach the engine within ${timeoutMs} ms (it has ${this.versionSeen}); restart the engine`));
        }, timeoutMs);
        this.waiters.add(waiter);
      });
    }
    return this.key;
  }
}
