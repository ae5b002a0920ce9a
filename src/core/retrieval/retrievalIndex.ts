import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database, SqlJsStatic } from 'sql.js';
import { nodeFileSystem, type FileSystem } from '../fs/fileSystem';
import type { WorkspaceFiles } from '../tools/workspaceFiles';
import { registerBm25 } from './bm25';
import { chunkLines, defaultChunkOptions, type ChunkOptions } from './chunker';
import { defaultMaxIndexedFileBytes, hashBytes, RetrievalScope, type FileReading, type FileVersion } from './fileSource';
import { indexFilePath, openIndexDatabase, saveIndexDatabase, Statements } from './indexDatabase';
import { rankChunks, type RankedPlace } from './ranking';
import { redactSecrets } from './redaction';
import type { IndexProgress, LastReindex, RedactedString, RetrievalHit, RetrievalSearchResult, RetrievalStats, SkippedFile } from './retrievalTypes';
import { indexTerms } from './terms';

// The retrieval cache of one workspace folder. Coherence is checked where it matters, at read
// time: every hit's file is compared with its current state (size and mtime; the content hash
// when they differ, or when the mtime is too close to the last check to be trusted), and a
// changed file is re-chunked before the answer, a deleted one dropped. So a missed watcher event
// (a branch switch, another tool's edit) can cost a miss but never a stale chunk. Chunks no file
// uses any more are dropped with the file version that used them.

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
}

export interface SearchOptions {
  readonly limit?: number;
  /** At most this many chunks of one file (default 3). */
  readonly maxPerFile?: number;
}

export type RefreshOutcome = 'indexed' | 'unchanged' | 'removed' | 'skipped' | 'folder';

interface FileRow {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly hash: string;
  readonly checkedMs: number;
  readonly source: 'disk' | 'unsaved';
}

type Verdict = 'fresh' | 'changed' | 'gone';

/** An mtime this close to the moment the content was confirmed may hide a later same-tick write (git's "racy" rule). */
const racyWindowMs = 2000;
/** Files written to the index per transaction during a scan (the scan yields between batches). */
const scanBatchFiles = 64;
const maxSkippedRows = 20_000;

export class RetrievalIndex {
  private readonly statements: Statements;
  private readonly scope: RetrievalScope;
  private readonly unsaved = new Map<string, string>();
  private readonly chunkOptions: ChunkOptions;
  private readonly now: () => number;
  private readonly indexFile: string | undefined;
  private transactionDepth = 0;
  private scanning: Promise<IndexProgress> | undefined;
  private progress: IndexProgress | undefined;
  private dirty = false;
  /** Chunks deleted since the last save (their full-text entries wait for a merge). */
  private deletedChunks = 0;
  private counters = { searches: 0, readChecks: 0, readCheckHits: 0, staleReadsPrevented: 0, reindexes: 0 };
  private lastReindex: LastReindex | undefined;
  private savedBytes: number | undefined;
  private closed = false;

  private constructor(
    private readonly db: Database,
    private readonly fs: FileSystem,
    private readonly rebuiltBecause: string | undefined,
    options: RetrievalIndexOptions,
  ) {
    this.statements = new Statements(db);
    this.scope = new RetrievalScope(options.workspace, { excludeGlobs: options.excludeGlobs ?? [], maxFileBytes: options.maxFileBytes ?? defaultMaxIndexedFileBytes });
    this.chunkOptions = options.chunkOptions ?? defaultChunkOptions;
    this.now = options.now ?? Date.now;
    this.indexFile = options.storeDir ? indexFilePath(options.storeDir) : undefined;
    registerBm25(db, () => this.phraseWeights);
  }

  /** Set by the ranking for the query being run; read by the SQL bm25 function. */
  phraseWeights: readonly number[] = [];

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
    return this.meta('complete') === '1';
  }

  get isDirty(): boolean {
    return this.dirty;
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
    const existing = this.fileRow(relative);
    const unsavedText = this.unsaved.get(relative);
    const reading = this.scope.read(relative, unsavedText !== undefined ? { unsavedText } : {});
    const outcome = this.transaction(() => {
      if (!existing && reading.kind === 'missing') {
        // A folder deleted or renamed away: the watcher names only the folder.
        for (const row of this.statements.all("SELECT path FROM files WHERE substr(path, 1, ?) = ?", [relative.length + 1, `${relative}/`])) {
          this.apply(row.path as string, this.scope.read(row.path as string), this.fileRow(row.path as string));
        }
      }
      return this.apply(relative, reading, existing);
    });
    if (outcome === 'indexed' || outcome === 'removed') {
      this.counters.reindexes++;
      this.lastReindex = { path: relative, ms: performance.now() - started, atMs: this.now() };
    }
    return outcome;
  }

  /**
   * Indexes the whole folder: files the index already holds at the same size and mtime are
   * kept, others are read and chunked, files gone are dropped. Work is done in batches between
   * which the event loop runs, so other requests keep answering; queries meanwhile answer from
   * what is indexed. One scan at a time: a second call joins the first.
   */
  indexWorkspace(options: { signal?: AbortSignal; onProgress?: (progress: IndexProgress) => void } = {}): Promise<IndexProgress> {
    this.scanning ??= this.scan(options).finally(() => {
      this.scanning = undefined;
      this.progress = undefined;
    });
    return this.scanning;
  }

  private async scan(options: { signal?: AbortSignal; onProgress?: (progress: IndexProgress) => void }): Promise<IndexProgress> {
    const seen = new Set<string>();
    let progress: IndexProgress = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, done: false };
    this.progress = progress;
    const excluded: Array<[string, string]> = [];
    let batch: string[] = [];
    // A batch is written in transactions of at most a few milliseconds each, with a turn of the
    // event loop between them, however large its files are.
    const flush = async (): Promise<void> => {
      const paths = batch;
      batch = [];
      let indexed = 0;
      let unchanged = 0;
      let next = 0;
      while (next < paths.length || excluded.length > 0) {
        const sliceEnds = performance.now() + 8;
        this.transaction(() => {
          for (const [relative, reason] of excluded.splice(0)) {
            this.recordSkipped(relative, reason);
          }
          for (; next < paths.length && performance.now() < sliceEnds; next++) {
            const relative = paths[next]!;
            const existing = this.fileRow(relative);
            const stat = existing && !this.unsaved.has(relative) ? this.scope.statOf(relative) : undefined;
            if (existing && stat && existing.source === 'disk' && stat.size === existing.size && stat.mtimeMs === existing.mtimeMs) {
              unchanged++;
              continue;
            }
            const unsavedText = this.unsaved.get(relative);
            const outcome = this.apply(relative, this.scope.read(relative, { walked: true, ...(unsavedText !== undefined ? { unsavedText } : {}) }), existing);
            if (outcome === 'indexed') {
              indexed++;
            } else if (outcome === 'unchanged') {
              unchanged++;
            }
          }
        });
        if (next < paths.length) {
          await nextTurn();
          this.assertOpen();
        }
      }
      progress = { ...progress, filesIndexed: progress.filesIndexed + indexed, filesUnchanged: progress.filesUnchanged + unchanged };
      this.progress = progress;
      options.onProgress?.(progress);
    };
    let sliceStart = performance.now();
    for await (const relative of this.scope.workspace.walkFiles('.', options.signal, (path, reason) => excluded.push([path, reason]))) {
      this.assertOpen();
      if (this.scope.userExclusion(relative, false)) {
        excluded.push([relative, 'matched by files.exclude or contextLedger.retrieval.exclude']);
        continue;
      }
      seen.add(relative);
      progress = { ...progress, filesSeen: progress.filesSeen + 1 };
      batch.push(relative);
      if (batch.length >= scanBatchFiles) {
        await flush();
      }
      if (performance.now() - sliceStart >= 8) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    await flush();
    options.signal?.throwIfAborted();
    // Files the index holds that the walk did not give: gone, or excluded now. A file created
    // after the walk passed its folder is checked, not dropped.
    const indexed = this.statements.all('SELECT path FROM files', []).map((row) => row.path as string);
    this.transaction(() => {
      for (const relative of indexed) {
        if (!seen.has(relative) && !this.unsaved.has(relative)) {
          this.apply(relative, this.scope.read(relative), this.fileRow(relative));
        }
      }
      this.setMeta('complete', '1');
    });
    progress = { ...progress, done: true };
    options.onProgress?.(progress);
    return progress;
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
      const verdicts = new Map<number, { verdict: Verdict; hash: string }>();
      const places = rankChunks(this, query, limit * 4);
      hits = [];
      const perFile = new Map<number, number>();
      for (const place of places) {
        let checked = verdicts.get(place.fileId);
        if (!checked) {
          checked = this.checkAtRead(place);
          verdicts.set(place.fileId, checked);
          if (checked.verdict === 'changed') {
            rechunked++;
          }
        }
        if (checked.verdict !== 'fresh') {
          staleDropped++;
          continue;
        }
        const count = perFile.get(place.fileId) ?? 0;
        if (count >= maxPerFile || hits.length >= limit) {
          continue;
        }
        perFile.set(place.fileId, count + 1);
        hits.push({ path: place.path, startLine: place.startLine, endLine: place.endLine, text: place.text, score: place.score, chunkHash: place.chunkHash, fileHash: checked.hash });
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
    const fresh = this.checkAtRead({ fileId, path: relative }).verdict === 'fresh';
    if (!fresh) {
      this.counters.staleReadsPrevented++;
    }
    return fresh;
  }

  /** True when the index covers the whole folder and no scan is running. */
  get ready(): boolean {
    return this.complete && this.scanning === undefined;
  }

  /** The read-time check of one hit's file. */
  private checkAtRead(place: Pick<RankedPlace, 'fileId' | 'path'>): { verdict: Verdict; hash: string } {
    this.counters.readChecks++;
    const file = this.fileRow(place.path);
    if (!file || file.id !== place.fileId) {
      return { verdict: 'gone', hash: '' };
    }
    const unsavedText = this.unsaved.get(file.path);
    let fresh = false;
    if (unsavedText !== undefined) {
      fresh = file.source === 'unsaved' && file.hash === hashBytes(unsavedText);
    } else if (file.source === 'disk') {
      const stat = this.scope.statOf(file.path);
      if (stat && stat.size === file.size && stat.mtimeMs === file.mtimeMs && file.checkedMs - file.mtimeMs >= racyWindowMs) {
        fresh = true;
      } else if (stat) {
        const reading = this.scope.read(file.path);
        if (reading.kind === 'text' && reading.version.hash === file.hash) {
          this.statements.run('UPDATE files SET size = ?, mtime_ms = ?, checked_ms = ? WHERE id = ?', [reading.version.size, reading.version.mtimeMs, this.now(), file.id]);
          this.dirty = true;
          fresh = true;
        } else {
          this.transaction(() => this.apply(file.path, reading, file));
          this.noteReindex(file.path);
          return { verdict: reading.kind === 'text' ? 'changed' : 'gone', hash: '' };
        }
      }
    }
    if (fresh) {
      this.counters.readCheckHits++;
      return { verdict: 'fresh', hash: file.hash };
    }
    const outcome = this.refreshFile(file.path);
    return { verdict: outcome === 'indexed' || outcome === 'unchanged' ? 'changed' : 'gone', hash: '' };
  }

  private noteReindex(relative: string): void {
    this.counters.reindexes++;
    this.lastReindex = { path: relative, ms: 0, atMs: this.now() };
  }

  /** Writes what a reading found into the index. */
  private apply(relative: string, reading: FileReading, existing: FileRow | undefined): RefreshOutcome {
    switch (reading.kind) {
      case 'folder':
        return 'folder';
      case 'missing':
        if (existing) {
          this.removeFile(existing);
        }
        this.statements.run('DELETE FROM skipped WHERE path = ?', [relative]);
        return 'removed';
      case 'skipped':
        if (existing) {
          this.removeFile(existing);
        }
        this.recordSkipped(relative, reading.reason);
        return 'skipped';
      case 'text': {
        const source = reading.version.mtimeMs < 0 ? 'unsaved' : 'disk';
        if (existing && existing.hash === reading.version.hash && existing.source === source) {
          this.statements.run('UPDATE files SET size = ?, mtime_ms = ?, checked_ms = ? WHERE id = ?', [reading.version.size, reading.version.mtimeMs, this.now(), existing.id]);
          this.dirty = true;
          return 'unchanged';
        }
        this.writeFile(relative, reading.text, reading.version, source, existing);
        return 'indexed';
      }
    }
  }

  private writeFile(relative: string, text: string, version: FileVersion, source: 'disk' | 'unsaved', existing: FileRow | undefined): void {
    const redacted = redactSecrets(text);
    const chunks = chunkLines(redacted.text, this.chunkOptions).filter((chunk) => chunk.text.trim() !== '');
    let fileId: number;
    let oldChunkIds: number[] = [];
    if (existing) {
      fileId = existing.id;
      oldChunkIds = this.statements.all('SELECT chunk_id FROM file_chunks WHERE file_id = ?', [fileId]).map((row) => row.chunk_id as number);
      this.statements.run('DELETE FROM file_chunks WHERE file_id = ?', [fileId]);
      this.statements.run('UPDATE files SET size = ?, mtime_ms = ?, hash = ?, checked_ms = ?, source = ?, chunk_count = ? WHERE id = ?', [version.size, version.mtimeMs, version.hash, this.now(), source, chunks.length, fileId]);
    } else {
      this.statements.run('INSERT INTO files (path, size, mtime_ms, hash, checked_ms, source, chunk_count) VALUES (?, ?, ?, ?, ?, ?, ?)', [relative, version.size, version.mtimeMs, version.hash, this.now(), source, chunks.length]);
      fileId = this.statements.one('SELECT id FROM files WHERE path = ?', [relative])!.id as number;
      this.statements.run('INSERT INTO path_terms (docid, terms) VALUES (?, ?)', [fileId, indexTerms(relative)]);
    }
    chunks.forEach((chunk, ordinal) => {
      const chunkId = this.chunkIdFor(chunk.text);
      this.statements.run('INSERT INTO file_chunks (file_id, ordinal, chunk_id, start_line, end_line) VALUES (?, ?, ?, ?, ?)', [fileId, ordinal, chunkId, chunk.startLine, chunk.endLine]);
    });
    this.dropOrphans(oldChunkIds);
    this.statements.run('DELETE FROM redactions WHERE path = ?', [relative]);
    for (const redaction of redacted.redactions) {
      this.statements.run('INSERT INTO redactions (path, line, kind) VALUES (?, ?, ?)', [relative, redaction.line, redaction.kind]);
    }
    this.statements.run('DELETE FROM skipped WHERE path = ?', [relative]);
    this.dirty = true;
  }

  /** The id of the chunk stored under this text's hash, stored now if it is new. */
  private chunkIdFor(text: string): number {
    const hash = hashBytes(text);
    const found = this.statements.one('SELECT id FROM chunks WHERE hash = ?', [hash]);
    if (found) {
      return found.id as number;
    }
    this.statements.run('INSERT INTO chunks (hash, text) VALUES (?, ?)', [hash, text]);
    const id = this.statements.one('SELECT last_insert_rowid() AS id', [])!.id as number;
    this.statements.run('INSERT INTO chunk_terms (docid, terms) VALUES (?, ?)', [id, indexTerms(text)]);
    return id;
  }

  private dropOrphans(chunkIds: readonly number[]): void {
    for (const chunkId of new Set(chunkIds)) {
      if (!this.statements.one('SELECT 1 AS used FROM file_chunks WHERE chunk_id = ? LIMIT 1', [chunkId])) {
        this.statements.run('DELETE FROM chunks WHERE id = ?', [chunkId]);
        this.statements.run('DELETE FROM chunk_terms WHERE docid = ?', [chunkId]);
        this.deletedChunks++;
      }
    }
  }

  private removeFile(file: FileRow): void {
    const chunkIds = this.statements.all('SELECT chunk_id FROM file_chunks WHERE file_id = ?', [file.id]).map((row) => row.chunk_id as number);
    this.statements.run('DELETE FROM file_chunks WHERE file_id = ?', [file.id]);
    this.dropOrphans(chunkIds);
    this.statements.run('DELETE FROM path_terms WHERE docid = ?', [file.id]);
    this.deletedChunks++;
    this.statements.run('DELETE FROM files WHERE id = ?', [file.id]);
    this.statements.run('DELETE FROM redactions WHERE path = ?', [file.path]);
    this.dirty = true;
  }

  private recordSkipped(relative: string, reason: string): void {
    if (this.statements.one('SELECT 1 AS found FROM skipped WHERE path = ?', [relative]) || this.count('skipped') < maxSkippedRows) {
      this.statements.run('INSERT OR REPLACE INTO skipped (path, reason) VALUES (?, ?)', [relative, reason]);
      this.dirty = true;
    }
  }

  private fileRow(relative: string): FileRow | undefined {
    const row = this.statements.one('SELECT id, path, size, mtime_ms, hash, checked_ms, source FROM files WHERE path = ?', [relative]);
    return row
      ? { id: row.id as number, path: row.path as string, size: row.size as number, mtimeMs: row.mtime_ms as number, hash: row.hash as string, checkedMs: row.checked_ms as number, source: row.source === 'unsaved' ? 'unsaved' : 'disk' }
      : undefined;
  }

  /** For the ranking: the database's prepared statements. */
  get sql(): Statements {
    return this.statements;
  }

  private transaction<T>(run: () => T): T {
    if (this.transactionDepth > 0) {
      return run();
    }
    this.transactionDepth++;
    this.db.exec('BEGIN');
    try {
      const result = run();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.transactionDepth--;
    }
  }

  private meta(key: string): string | undefined {
    return this.statements.one('SELECT value FROM meta WHERE key = ?', [key])?.value as string | undefined;
  }

  private setMeta(key: string, value: string): void {
    this.statements.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', [key, value]);
    this.dirty = true;
  }

  private count(table: 'files' | 'chunks' | 'file_chunks' | 'skipped' | 'redactions'): number {
    return this.statements.one(`SELECT COUNT(*) AS n FROM ${table}`, [])!.n as number;
  }

  stats(): RetrievalStats {
    const { searches, readChecks, readCheckHits, staleReadsPrevented, reindexes } = this.counters;
    return {
      workspaceFolder: this.workspaceFolder,
      indexFile: this.indexFile ?? null,
      files: this.count('files'),
      chunks: this.count('chunks'),
      chunkPlaces: this.count('file_chunks'),
      skippedFiles: this.count('skipped'),
      redactions: this.count('redactions'),
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
    return this.statements.all('SELECT path, reason FROM skipped ORDER BY path LIMIT ?', [limit]).map((row) => ({ path: row.path as string, reason: row.reason as string }));
  }

  redactedStrings(limit = 200): RedactedString[] {
    return this.statements.all('SELECT path, line, kind FROM redactions ORDER BY path, line LIMIT ?', [limit]).map((row) => ({ path: row.path as string, line: row.line as number, kind: row.kind as string }));
  }

  /** The indexed paths (for tests and the stats view). */
  indexedPaths(): string[] {
    return this.statements.all('SELECT path FROM files ORDER BY path', []).map((row) => row.path as string);
  }

  /** Writes the index to its file (atomically); returns its size in bytes, or 0 when memory-only. */
  save(): number {
    this.assertOpen();
    if (!this.indexFile) {
      return 0;
    }
    if (this.transactionDepth > 0) {
      throw new Error('the retrieval index cannot be saved inside a transaction');
    }
    this.savedBytes = saveIndexDatabase(this.db, this.fs, this.indexFile, { optimize: this.deletedChunks > 0 });
    this.deletedChunks = 0;
    this.dirty = false;
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
    this.statements.free();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new Error('the retrieval index is closed');
    }
  }
}
