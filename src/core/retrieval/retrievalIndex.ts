import type { SqlJsStatic, Database } from 'sql.js';
import { nodeFileSystem, type FileSystem } from '../fs/fileSystem';
import type { WorkspaceFiles } from '../tools/workspaceFiles';
import { defaultChunkOptions, type ChunkOptions } from './chunker';
import { defaultMaxIndexedFileBytes, RetrievalScope } from './fileSource';
import { indexFilePath, openIndexDatabase, saveIndexDatabase, type Statements } from './indexDatabase';
import { scanWorkspace, type ScanOptions } from './indexScan';
import { IndexTables, type RefreshOutcome } from './indexTables';
import { rankChunks } from './ranking';
import { checkAtRead, type CheckedFile, type ReadCheckContext } from './readCheck';
import type { IndexProgress, LastReindex, RedactedString, RetrievalHit, RetrievalSearchResult, RetrievalStats, SkippedFile } from './retrievalTypes';

// The retrieval cache of one workspace folder: its own sql.js database (indexDatabase.ts), the
// tables and term indexes written together (indexTables.ts), the scan (indexScan.ts), the
// ranking (ranking.ts) and the read-time check every hit passes (readCheck.ts). Chunks no file
// uses any more are dropped with the file version that used them.

export type { RefreshOutcome } from './indexTables';

export interface RetrievalIndexOptions {
  readonly sql: SqlJsStatic;
  readonly workspace: WorkspaceFiles;
  /** The store folder; the index lives in `<store>/retrieval/index.sqlite`. Without it, memory only. */
  readonly storeDir?: string;
  readonly fs?: FileSystem;
  readonly excludeGlobs?: readonly string[];
  readonly maxFileBytes?: number;
  readonly chunkOptions?: ChunkOptions;
  readonly now?: () => number;
  /** Read and prepare the scan's files on a second thread (default true; indexScan.ts). */
  readonly scanWorker?: boolean;
}

export interface SearchOptions {
  readonly limit?: number;
  /** At most this many chunks of one file (default 3). */
  readonly maxPerFile?: number;
}

export class RetrievalIndex {
  private readonly tables: IndexTables;
  private readonly scope: RetrievalScope;
  private readonly unsaved = new Map<string, string>();
  private readonly now: () => number;
  private readonly indexFile: string | undefined;
  private readonly checkContext: ReadCheckContext;
  private scanning: Promise<IndexProgress> | undefined;
  private progress: IndexProgress | undefined;
  private counters = { searches: 0, readChecks: 0, readCheckHits: 0, staleReadsPrevented: 0, reindexes: 0 };
  private lastReindex: LastReindex | undefined;
  private savedBytes: number | undefined;
  private closed = false;
  private readonly scanWorker: boolean;

  private constructor(
    private readonly db: Database,
    private readonly fs: FileSystem,
    private readonly rebuiltBecause: string | undefined,
    options: RetrievalIndexOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.scanWorker = options.scanWorker ?? true;
    this.tables = new IndexTables(db, options.chunkOptions ?? defaultChunkOptions, this.now);
    this.scope = new RetrievalScope(options.workspace, { excludeGlobs: options.excludeGlobs ?? [], maxFileBytes: options.maxFileBytes ?? defaultMaxIndexedFileBytes });
    this.indexFile = options.storeDir ? indexFilePath(options.storeDir) : undefined;
    this.checkContext = {
      tables: this.tables,
      scope: this.scope,
      unsaved: this.unsaved,
      now: this.now,
      refresh: (relative) => this.refreshFile(relative),
      noteReindex: (relative) => {
        this.counters.reindexes++;
        this.lastReindex = { path: relative, ms: 0, atMs: this.now() };
      },
    };
  }

  static open(options: RetrievalIndexOptions): RetrievalIndex {
    const fs = options.fs ?? nodeFileSystem;
    const file = options.storeDir ? indexFilePath(options.storeDir) : undefined;
    const { db, rebuiltBecause } = openIndexDatabase(options.sql, fs, file, options.workspace.folder);
    return new RetrievalIndex(db, fs, rebuiltBecause, options);
  }

  get workspaceFolder(): string {
    return this.scope.workspace.folder;
  }

  /** True once a scan of the whole folder has finished (this run or a saved one). */
  get complete(): boolean {
    return this.tables.meta('complete') === '1';
  }

  /** True when the index covers the whole folder and no scan is running. */
  get ready(): boolean {
    return this.complete && this.scanning === undefined;
  }

  get isDirty(): boolean {
    return this.tables.dirty;
  }

  /** Holds (or, with undefined, forgets) the unsaved text of an open document. */
  setUnsavedText(relative: string, text: string | undefined): void {
    if (text === undefined) {
      this.unsaved.delete(relative);
    } else {
      this.unsaved.set(relative, text);
    }
  }

  /** Brings one file up to date now: re-chunked if it changed, dropped if it is gone or excluded. */
  refreshFile(relative: string): RefreshOutcome {
    const started = performance.now();
    const { tables, scope } = this;
    const existing = tables.fileRow(relative);
    const unsavedText = this.unsaved.get(relative);
    const reading = scope.read(relative, unsavedText !== undefined ? { unsavedText } : {});
    const outcome = tables.transaction(() => {
      if (!existing && reading.kind === 'missing') {
        // A folder deleted or renamed away: the watcher names only the folder.
        for (const row of tables.statements.all('SELECT path FROM files WHERE substr(path, 1, ?) = ?', [relative.length + 1, `${relative}/`])) {
          tables.apply(row.path as string, scope.read(row.path as string), tables.fileRow(row.path as string));
        }
      }
      return tables.apply(relative, reading, existing);
    });
    if (outcome === 'indexed' || outcome === 'removed') {
      this.counters.reindexes++;
      this.lastReindex = { path: relative, ms: performance.now() - started, atMs: this.now() };
    }
    return outcome;
  }

  /**
   * Indexes the whole folder (indexScan.ts); queries meanwhile answer from what is indexed. One
   * scan at a time: a second call joins the first.
   */
  indexWorkspace(options: ScanOptions = {}): Promise<IndexProgress> {
    this.scanning ??= scanWorkspace(
      {
        tables: this.tables,
        scope: this.scope,
        unsaved: this.unsaved,
        assertOpen: () => this.assertOpen(),
        setProgress: (progress) => (this.progress = progress),
        useWorker: this.scanWorker,
        now: this.now,
      },
      options,
    ).finally(() => {
      this.scanning = undefined;
      this.progress = undefined;
    });
    return this.scanning;
  }

  /** The best chunks for `query`, each checked against its file's current state first. */
  search(query: string, options: SearchOptions = {}): RetrievalSearchResult {
    this.assertOpen();
    const started = performance.now();
    const limit = options.limit ?? 10;
    const maxPerFile = options.maxPerFile ?? 3;
    this.counters.searches++;
    let staleDropped = 0;
    let rechunked = 0;
    let hits: RetrievalHit[] = [];
    // A changed file is re-chunked during the first round; the second ranks its new chunks.
    for (let round = 0; round < 2; round++) {
      const verdicts = new Map<number, CheckedFile>();
      hits = [];
      const perFile = new Map<number, number>();
      for (const place of rankChunks(this.tables, query, limit * 4)) {
        if (hits.length >= limit) {
          break;
        }
        const count = perFile.get(place.fileId) ?? 0;
        if (count >= maxPerFile) {
          continue;
        }
        let checked = verdicts.get(place.fileId);
        if (!checked) {
          checked = this.check(place.fileId, place.path);
          verdicts.set(place.fileId, checked);
          if (checked.verdict === 'changed') {
            rechunked++;
          }
        }
        if (checked.verdict !== 'fresh') {
          staleDropped++;
          continue;
        }
        const chunk = this.tables.statements.one('SELECT hash, text FROM chunks WHERE id = ?', [place.chunkId]);
        if (!chunk) {
          continue;
        }
        perFile.set(place.fileId, count + 1);
        hits.push({ path: place.path, startLine: place.startLine, endLine: place.endLine, text: chunk.text as string, score: place.score, chunkHash: chunk.hash as string, fileHash: checked.hash });
      }
      if (![...verdicts.values()].some((checked) => checked.verdict === 'changed')) {
        break;
      }
    }
    this.counters.staleReadsPrevented += staleDropped;
    return { hits, partial: !this.complete || this.scanning !== undefined, staleDropped, rechunked, ms: performance.now() - started };
  }

  /**
   * The read-time check of one file, for callers outside the ranking (search_text): true if the
   * index holds its current version; a changed file is re-chunked (false), a gone one dropped.
   */
  verifyFile(fileId: number, relative: string): boolean {
    const fresh = this.check(fileId, relative).verdict === 'fresh';
    if (!fresh) {
      this.counters.staleReadsPrevented++;
    }
    return fresh;
  }

  private check(fileId: number, relative: string): CheckedFile {
    this.counters.readChecks++;
    const checked = checkAtRead(this.checkContext, fileId, relative);
    if (checked.verdict === 'fresh') {
      this.counters.readCheckHits++;
    }
    return checked;
  }

  /** For search_text (indexedSearch.ts): the database's prepared statements. */
  get sql(): Statements {
    return this.tables.statements;
  }

  stats(): RetrievalStats {
    const { searches, readChecks, readCheckHits, staleReadsPrevented, reindexes } = this.counters;
    const { tables } = this;
    return {
      workspaceFolder: this.workspaceFolder,
      indexFile: this.indexFile ?? null,
      files: tables.count('files'),
      chunks: tables.count('chunks'),
      chunkPlaces: tables.count('file_chunks'),
      skippedFiles: tables.count('skipped'),
      redactions: tables.count('redactions'),
      complete: this.complete,
      indexing: this.progress ?? null,
      searches,
      readChecks,
      readCheckHits,
      hitRate: readChecks > 0 ? readCheckHits / readChecks : null,
      staleReadsPrevented,
      reindexes,
      lastReindex: this.lastReindex ?? null,
      savedBytes: this.savedBytes ?? null,
      rebuiltBecause: this.rebuiltBecause ?? null,
    };
  }

  skippedFiles(limit = 200): SkippedFile[] {
    return this.tables.statements.all('SELECT path, reason FROM skipped ORDER BY path LIMIT ?', [limit]).map((row) => ({ path: row.path as string, reason: row.reason as string }));
  }

  redactedStrings(limit = 200): RedactedString[] {
    return this.tables.statements.all('SELECT path, line, kind FROM redactions ORDER BY path, line LIMIT ?', [limit]).map((row) => ({ path: row.path as string, line: row.line as number, kind: row.kind as string }));
  }

  /** The indexed paths (for tests and the stats view). */
  indexedPaths(): string[] {
    return this.tables.statements.all('SELECT path FROM files ORDER BY path', []).map((row) => row.path as string);
  }

  /** Writes the index to its file (atomically); returns its size in bytes, or 0 when memory-only. */
  save(): number {
    this.assertOpen();
    if (!this.indexFile) {
      return 0;
    }
    if (this.tables.inTransaction) {
      throw new Error('the retrieval index cannot be saved inside a transaction');
    }
    this.tables.saveTermIndexes();
    this.savedBytes = saveIndexDatabase(this.db, this.fs, this.indexFile);
    this.tables.dirty = false;
    return this.savedBytes;
  }

  /** The size of the database as it would be saved now. */
  databaseBytes(): number {
    return this.db.export().length;
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.tables.free();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new Error('the retrieval index is closed');
    }
  }
}
