import type { Connection } from 'vscode-languageserver/node';
import { Importer } from '../core/import/importer';
import { ImportWatcher } from '../core/import/importWatcher';
import { scanTranscripts } from '../core/import/scanTranscripts';
import type { Ledger } from '../core/ledger';
import { ImportNotifications, ImportRequests, type ImportFollowParams, type ImportRunParams, type ImportScanParams } from '../shared/importProtocol';

// The engine's import requests: scan, run (with progress, cancellable), follow. One import runs
// at a time per store (two at once would race on the same cursors and append twice what both read).

/** Thrown for a malformed import request; the server's `handle` turns it into an error reply. */
export class ImportRequestError extends Error {
  override readonly name = 'ImportRequestError';
}

type Handle = <P, R>(run: (store: Ledger, params: P) => R | Promise<R>) => (params: P) => Promise<R>;

function checkPaths(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 10_000 || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 4096)) {
    throw new ImportRequestError('"paths" must be a list of file or folder paths');
  }
  return value as string[];
}

export class ImportService {
  private importer: { ledger: Ledger; importer: Importer } | undefined;
  private readonly running = new Map<string, AbortController>();
  private watcher: ImportWatcher | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly connection: Connection) {}

  private importerFor(ledger: Ledger): Importer {
    if (this.importer?.ledger !== ledger) {
      this.importer = { ledger, importer: new Importer(ledger) };
    }
    return this.importer.importer;
  }

  /** Runs imports one after another (follow passes included, through the same importer). */
  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  scan(ledger: Ledger, params: ImportScanParams) {
    return { transcripts: scanTranscripts(checkPaths(params?.paths), this.importerFor(ledger)) };
  }

  run(ledger: Ledger, params: ImportRunParams) {
    const requestId = typeof params?.requestId === 'string' && params.requestId.length <= 200 ? params.requestId : undefined;
    if (!requestId) {
      throw new ImportRequestError('"requestId" must be a string');
    }
    const paths = checkPaths(params.paths);
    if (this.running.has(requestId)) {
      throw new ImportRequestError(`import ${requestId} is already running`);
    }
    const controller = new AbortController();
    this.running.set(requestId, controller);
    return this.serial(() =>
      this.importerFor(ledger).importPaths(paths, {
        signal: controller.signal,
        onProgress: (progress) => void this.connection.sendNotification(ImportNotifications.progress, { requestId, progress }),
      }),
    ).finally(() => this.running.delete(requestId));
  }

  cancel(params: unknown): boolean {
    const requestId = (params as { requestId?: unknown } | null)?.requestId;
    const controller = typeof requestId === 'string' ? this.running.get(requestId) : undefined;
    controller?.abort();
    return controller !== undefined;
  }

  follow(ledger: Ledger, params: ImportFollowParams) {
    const paths = checkPaths(params?.paths);
    this.watcher?.dispose();
    this.watcher = undefined;
    if (paths.length > 0) {
      const importer = this.importerFor(ledger);
      this.watcher = new ImportWatcher({ importPaths: (...args) => this.serial(() => importer.importPaths(...args)) }, paths, {
        onImported: (summary) => void this.connection.sendNotification(ImportNotifications.followed, summary),
        onError: (error) => this.connection.console.warn(`following ${paths.join(', ')}: ${error instanceof Error ? error.message : String(error)}`),
      });
    }
    return { following: paths };
  }

  dispose(): void {
    this.watcher?.dispose();
    for (const controller of this.running.values()) {
      controller.abort();
    }
  }
}

/** Registers the import requests on the engine's connection (one call from src/server/main.ts). */
export function registerImportService(connection: Connection, handle: Handle): ImportService {
  const service = new ImportService(connection);
  connection.onRequest(ImportRequests.scan, handle((store, params: ImportScanParams) => service.scan(store, params)));
  connection.onRequest(ImportRequests.run, handle((store, params: ImportRunParams) => service.run(store, params)));
  connection.onRequest(ImportRequests.cancel, (params) => service.cancel(params));
  connection.onRequest(ImportRequests.follow, handle((store, params: ImportFollowParams) => service.follow(store, params)));
  return service;
}
