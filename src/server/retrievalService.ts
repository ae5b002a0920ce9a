import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver/node';
import { ReindexQueue } from '../core/retrieval/reindexQueue';
import { RetrievalIndex } from '../core/retrieval/retrievalIndex';
import type { RetrievalSearchResult } from '../core/retrieval/retrievalTypes';
import { loadSqlJs } from '../core/store/sqlJsLoader';
import { WorkspaceFiles } from '../core/tools/workspaceFiles';
import { EngineErrorCode, type EngineInitializationOptions } from '../shared/engineProtocol';
import {
  RetrievalNotifications,
  RetrievalRequests,
  type FileChange,
  type RetrievalConfiguration,
  type RetrievalIndexParams,
  type RetrievalIndexResult,
  type RetrievalInvalidateParams,
  type RetrievalSearchParams,
  type RetrievalStatsResult,
} from '../shared/retrievalProtocol';

// The engine's retrieval cache of the workspace folder: opened on first use (the saved index
// beside the store, re-checked by a scan), kept coherent by the extension's file events and the
// read-time check, saved a moment after it changes. It is a cache: a crash loses at most the
// last unsaved changes, which the next scan finds again.

export interface RetrievalServiceOptions {
  /** The engine's initialization options (store, wasm, workspace folder), once known. */
  readonly engine: () => EngineInitializationOptions | undefined;
  readonly onProgress: (progress: RetrievalIndexResult['progress']) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly saveDelayMs?: number;
  readonly debounceMs?: number;
}

export class RetrievalRequestError extends Error {
  override readonly name = 'RetrievalRequestError';
}

const defaultConfiguration: RetrievalConfiguration = { excludeGlobs: [], maxFileBytes: 512 * 1024 };
const maxQueryLength = 2000;

export class RetrievalService {
  private opened: { index: RetrievalIndex; queue: ReindexQueue; configuration: RetrievalConfiguration } | undefined;
  private opening: Promise<NonNullable<RetrievalService['opened']>> | undefined;
  private configuration: RetrievalConfiguration = defaultConfiguration;
  private saveTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly options: RetrievalServiceOptions) {}

  /** The index if it is open (the chat uses it then; it never waits for one to open). */
  current(): RetrievalIndex | undefined {
    return this.opened?.index;
  }

  /** The index to answer from, or undefined when there is no workspace folder (untrusted, none open). */
  async index(): Promise<RetrievalIndex | undefined> {
    const engine = this.options.engine();
    if (!engine?.workspaceFolder) {
      return undefined;
    }
    return (await this.open(engine)).index;
  }

  private async open(engine: EngineInitializationOptions): Promise<NonNullable<RetrievalService['opened']>> {
    if (this.opened && sameConfiguration(this.opened.configuration, this.configuration)) {
      return this.opened;
    }
    this.opening ??= (async () => {
      if (this.opened) {
        // New exclusions: the saved index is reused and the next scan drops what they exclude.
        this.close();
      }
      const sql = await loadSqlJs(engine.wasmPath);
      const configuration = this.configuration;
      const index = RetrievalIndex.open({
        sql,
        workspace: new WorkspaceFiles(engine.workspaceFolder!),
        storeDir: engine.storeDir,
        excludeGlobs: configuration.excludeGlobs,
        maxFileBytes: configuration.maxFileBytes,
      });
      const rebuilt = index.stats().rebuiltBecause;
      this.options.log('info', `retrieval index of ${index.workspaceFolder} opened${rebuilt ? ` (new: ${rebuilt})` : ''}`);
      const queue = new ReindexQueue(index, {
        ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
        onReindexed: (_relative, outcome) => {
          if (outcome === 'folder') {
            // A folder appeared (a paste, a checkout): a scan finds its files; unchanged ones cost a stat.
            void index.indexWorkspace().then(() => this.scheduleSave(), (error: unknown) => this.options.log('warn', `retrieval scan failed: ${String(error)}`));
          }
          this.scheduleSave();
        },
        onError: (relative, error) => this.options.log('warn', `retrieval could not re-index ${relative}: ${error instanceof Error ? error.message : String(error)}`),
      });
      this.opened = { index, queue, configuration };
      return this.opened;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Scans the folder (first index, or a re-check after reopen); cancelled by `signal`. */
  async runIndex(params: RetrievalIndexParams, signal?: AbortSignal): Promise<RetrievalIndexResult> {
    this.configuration = checkConfiguration(params?.configuration);
    const engine = this.requireWorkspace();
    if (params.rebuild) {
      this.close();
      fs.rmSync(path.join(engine.storeDir, 'retrieval', 'index.sqlite'), { force: true });
    }
    const { index } = await this.open(engine);
    let cancelled = false;
    let progress;
    try {
      progress = await index.indexWorkspace({ ...(signal ? { signal } : {}), onProgress: (update) => this.options.onProgress(update) });
    } catch (error) {
      if (!signal?.aborted) {
        throw error;
      }
      cancelled = true;
      progress = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, done: false };
    }
    this.saveNow();
    return { progress, cancelled, stats: index.stats() };
  }

  async search(params: RetrievalSearchParams): Promise<RetrievalSearchResult> {
    if (typeof params?.query !== 'string' || params.query.trim() === '' || params.query.length > maxQueryLength) {
      throw new RetrievalRequestError(`the query must be a non-empty string of at most ${maxQueryLength} characters`);
    }
    const limit = params.limit === undefined ? 10 : params.limit;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
      throw new RetrievalRequestError('"limit" must be a whole number from 1 to 100');
    }
    const index = await this.index();
    if (!index) {
      throw new RetrievalRequestError('no workspace folder is open (or it is not trusted), so there is nothing to search');
    }
    const result = index.search(params.query, { limit });
    if (index.isDirty) {
      this.scheduleSave();
    }
    return result;
  }

  async stats(): Promise<RetrievalStatsResult> {
    this.requireWorkspace();
    const index = await this.index();
    const queue = this.opened!.queue.stats();
    return { stats: index!.stats(), ...queue, skipped: index!.skippedFiles(50), redactions: index!.redactedStrings(50) };
  }

  /** File events and unsaved edits from the extension; each marks a file for the debounced re-index. */
  invalidate(params: RetrievalInvalidateParams): void {
    const engine = this.options.engine();
    const changes: unknown = (params as Partial<RetrievalInvalidateParams> | null)?.changes;
    if (!engine?.workspaceFolder || !Array.isArray(changes) || !this.opened) {
      return;
    }
    const { index, queue } = this.opened;
    for (const candidate of changes as unknown[]) {
      const checked = checkChange(candidate, engine.workspaceFolder, index.workspaceFolder);
      if (checked === undefined) {
        continue;
      }
      if (checked.change.kind === 'unsaved') {
        queue.noteUnsavedEdit(checked.relative, checked.change.text ?? '');
      } else {
        queue.invalidate(checked.relative);
      }
    }
  }

  private requireWorkspace(): EngineInitializationOptions {
    const engine = this.options.engine();
    if (!engine?.workspaceFolder) {
      throw new RetrievalRequestError('no workspace folder is open (or it is not trusted), so there is nothing to index');
    }
    return engine;
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.disposed) {
      return;
    }
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, this.options.saveDelayMs ?? 3000);
  }

  private saveNow(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const index = this.opened?.index;
    if (!index?.isDirty) {
      return;
    }
    try {
      index.save();
    } catch (error) {
      // The index is a cache: a failed save costs a re-check at the next open, nothing else.
      this.options.log('warn', `the retrieval index could not be saved: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private close(): void {
    if (!this.opened) {
      return;
    }
    this.saveNow();
    this.opened.queue.dispose();
    this.opened.index.close();
    this.opened = undefined;
  }

  /** Saves what changed and closes the index (engine shutdown). */
  dispose(): void {
    this.close();
    this.disposed = true;
  }
}

function sameConfiguration(a: RetrievalConfiguration, b: RetrievalConfiguration): boolean {
  return a.maxFileBytes === b.maxFileBytes && a.excludeGlobs.length === b.excludeGlobs.length && a.excludeGlobs.every((glob, index) => glob === b.excludeGlobs[index]);
}

function checkConfiguration(value: unknown): RetrievalConfiguration {
  if (typeof value !== 'object' || value === null) {
    throw new RetrievalRequestError('"configuration" must be an object');
  }
  const candidate = value as Partial<RetrievalConfiguration>;
  const globs: unknown = candidate.excludeGlobs;
  const list: unknown[] = Array.isArray(globs) ? (globs as unknown[]) : [];
  if (!Array.isArray(globs) || list.length > 1000 || !list.every((glob) => typeof glob === 'string' && glob.length <= 1000)) {
    throw new RetrievalRequestError('"excludeGlobs" must be a list of at most 1,000 glob strings');
  }
  if (!Number.isSafeInteger(candidate.maxFileBytes) || (candidate.maxFileBytes as number) < 1024 || (candidate.maxFileBytes as number) > 16 * 1024 * 1024) {
    throw new RetrievalRequestError('"maxFileBytes" must be a whole number from 1,024 to 16,777,216');
  }
  return { excludeGlobs: list as string[], maxFileBytes: candidate.maxFileBytes as number };
}

/** The workspace-relative path of a change, or undefined if it is malformed or outside the folder. */
function checkChange(value: unknown, folderAsOpened: string, realFolder: string): { relative: string; change: FileChange } | undefined {
  const change = value as FileChange;
  if (typeof value !== 'object' || value === null || typeof change.path !== 'string' || change.path.includes('\0')) {
    return undefined;
  }
  if (!['created', 'changed', 'deleted', 'unsaved', 'closed'].includes(change.kind) || (change.kind === 'unsaved' && typeof change.text !== 'string')) {
    return undefined;
  }
  for (const folder of [folderAsOpened, realFolder]) {
    const relative = path.relative(folder, change.path);
    if (relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)) {
      return { relative: relative.split(path.sep).join('/'), change };
    }
  }
  return undefined;
}

function toResponseError(error: unknown): ResponseError<void> {
  const message = error instanceof Error ? error.message : String(error);
  return new ResponseError(error instanceof RetrievalRequestError ? EngineErrorCode.invalidEvent : EngineErrorCode.internal, message);
}

/** Wires the service's requests on the engine's connection. */
export function registerRetrievalService(connection: Connection, engine: () => EngineInitializationOptions | undefined): RetrievalService {
  const service = new RetrievalService({
    engine,
    onProgress: (progress) => void connection.sendNotification(RetrievalNotifications.progress, progress),
    log: (level, message) => connection.console[level](message),
  });
  const guard =
    <P, R>(run: (params: P, token: CancellationToken) => Promise<R>) =>
    async (params: P, token: CancellationToken): Promise<R> => {
      try {
        return await run(params, token);
      } catch (error) {
        throw toResponseError(error);
      }
    };
  connection.onRequest(
    RetrievalRequests.index,
    guard((params, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return service.runIndex(params, controller.signal);
    }),
  );
  connection.onRequest(RetrievalRequests.search, guard((params) => service.search(params)));
  connection.onRequest(RetrievalRequests.stats, async () => {
    try {
      return await service.stats();
    } catch (error) {
      throw toResponseError(error);
    }
  });
  connection.onNotification(RetrievalNotifications.invalidate, (params) => service.invalidate(params));
  connection.onExit(() => service.dispose());
  return service;
}
