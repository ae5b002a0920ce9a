import type { Database } from 'sql.js';
import { chunkLines, isBlank, type ChunkOptions } from './chunker';
import { hashBytes, type FileReading, type FileVersion } from './fileSource';
import { Statements, type BindValue } from './indexDatabase';
import type { PreparedBatch, PreparedReading } from './preparedFile';
import { redactSecrets, type Redaction } from './redaction';
import { TermIndex, type TermNumbers } from './termIndex';
import { decodeTermIndex, encodeTermIndex } from './termIndexFile';
import { termList } from './terms';

// The index's tables and its two term indexes (chunk text, file paths), and every write to
// them: what a reading of a file found goes in here, in one place, so the database and the
// term indexes never disagree. The term indexes are derived from the stored text when the
// database is opened.

export type RefreshOutcome = 'indexed' | 'unchanged' | 'removed' | 'skipped' | 'folder';

export interface FileRow {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly hash: string;
  readonly checkedMs: number;
  readonly source: 'disk' | 'unsaved';
}

const maxSkippedRows = 20_000;

/** A chunk of a file as written: its text's bytes and terms are asked for only if it is new. */
interface ChunkToWrite {
  readonly startLine: number;
  readonly endLine: number;
  readonly hash: string;
  bytes(): Uint8Array;
  addTerms(index: TermIndex, id: number): void;
}

export class IndexTables {
  readonly statements: Statements;
  /** BM25 over each chunk's terms; document id = chunks.id. */
  chunkTerms = new TermIndex();
  /** BM25 over each file's path terms; document id = files.id (a query naming a file finds it). */
  pathTerms = new TermIndex();
  /** Chunk content hash -> chunks.id: a chunk is stored once however many places hold it. */
  private chunkIds = new Map<string, number>();
  /** The next ids to give (ids only grow: the term indexes' postings are sorted by them). */
  private nextChunkId = 1;
  private nextFileId = 1;
  private transactionDepth = 0;
  private readonly insertTexts = new Map<string, string>();
  /** Rows in `skipped` (at most: replaced rows count again), while a transaction runs. */
  private skippedRows: number | undefined;
  /** Changed since the last save. */
  dirty = false;
  /** The term indexes changed since their copy was last written. */
  private termsChanged = false;

  constructor(
    private readonly db: Database,
    readonly chunkOptions: ChunkOptions,
    private readonly now: () => number,
  ) {
    this.statements = new Statements(db);
    this.load();
  }

  /** The term indexes: the saved copy if it matches the tables, else derived from the stored text (at open, and after a rollback). */
  private load(): void {
    const chunkIds = new Map<string, number>();
    let derived = false;
    let chunkTerms = this.savedTerms('chunks', 'chunks');
    if (chunkTerms) {
      for (const row of this.statements.all('SELECT id, hash FROM chunks', [])) {
        chunkIds.set(row.hash as string, row.id as number);
      }
    } else {
      derived = true;
      chunkTerms = new TermIndex();
      for (const row of this.statements.all('SELECT id, hash, text FROM chunks ORDER BY id', [])) {
        chunkTerms.addText(row.id as number, row.text as string);
        chunkIds.set(row.hash as string, row.id as number);
      }
    }
    let pathTerms = this.savedTerms('paths', 'files');
    if (!pathTerms) {
      derived = true;
      pathTerms = new TermIndex();
      for (const row of this.statements.all('SELECT id, path FROM files ORDER BY id', [])) {
        pathTerms.addText(row.id as number, row.path as string);
      }
    }
    // A derived index is saved at the next save even if nothing else changes.
    this.termsChanged = this.termsChanged || derived;
    this.chunkTerms = chunkTerms;
    this.pathTerms = pathTerms;
    this.chunkIds = chunkIds;
    const used = (table: string): number => Math.max(this.maxId(table), Number(this.statements.one('SELECT seq FROM sqlite_sequence WHERE name = ?', [table])?.seq ?? 0));
    this.nextChunkId = used('chunks') + 1;
    this.nextFileId = used('files') + 1;
  }

  private maxId(table: string): number {
    return Number(this.statements.one(`SELECT MAX(id) AS n FROM ${table}`, [])?.n ?? 0);
  }

  /** The saved copy of a term index, if it decodes and indexes exactly the rows `table` holds. */
  private savedTerms(name: 'chunks' | 'paths', table: 'chunks' | 'files'): TermIndex | undefined {
    const row = this.statements.one('SELECT vocabulary, documents, postings, rows, max_id FROM term_index WHERE name = ?', [name]);
    const rows = this.count(table);
    if (!row || row.rows !== rows || row.max_id !== this.maxId(table) || !(row.documents instanceof Uint8Array) || !(row.postings instanceof Uint8Array)) {
      return undefined;
    }
    try {
      const index = decodeTermIndex({ vocabulary: row.vocabulary as string, documents: row.documents, postings: row.postings });
      return index.size === rows ? index : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes the term indexes' copy (before a save), if they changed since the last one. */
  saveTermIndexes(): void {
    if (!this.termsChanged) {
      return;
    }
    this.transaction(() => {
      for (const [name, index, table] of [['chunks', this.chunkTerms, 'chunks'] as const, ['paths', this.pathTerms, 'files'] as const]) {
        const saved = encodeTermIndex(index);
        this.statements.run('INSERT OR REPLACE INTO term_index (name, vocabulary, documents, postings, rows, max_id) VALUES (?, CAST(? AS TEXT), ?, ?, ?, ?)', [
          name,
          Buffer.from(saved.vocabulary, 'utf8'),
          saved.documents,
          saved.postings,
          this.count(table),
          this.maxId(table),
        ]);
      }
    });
    this.termsChanged = false;
  }

  get inTransaction(): boolean {
    return this.transactionDepth > 0;
  }

  transaction<T>(run: () => T): T {
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
      // The term indexes may hold part of what was rolled back: load them again.
      this.load();
      this.termsChanged = true;
      throw error;
    } finally {
      this.transactionDepth--;
      this.skippedRows = undefined;
    }
  }

  fileRow(relative: string): FileRow | undefined {
    const row = this.statements.one('SELECT id, path, size, mtime_ms, hash, checked_ms, source FROM files WHERE path = ?', [relative]);
    return row
      ? { id: row.id as number, path: row.path as string, size: row.size as number, mtimeMs: row.mtime_ms as number, hash: row.hash as string, checkedMs: row.checked_ms as number, source: row.source === 'unsaved' ? 'unsaved' : 'disk' }
      : undefined;
  }

  /** Records that a file's content was confirmed at this size and mtime. */
  confirm(fileId: number, version: FileVersion, checkedMs = this.now()): void {
    this.statements.run('UPDATE files SET size = ?, mtime_ms = ?, checked_ms = ? WHERE id = ?', [version.size, version.mtimeMs, checkedMs, fileId]);
    this.dirty = true;
  }

  /** Writes what a reading found into the index. */
  apply(relative: string, reading: FileReading, existing: FileRow | undefined): RefreshOutcome {
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
          this.confirm(existing.id, reading.version);
          return 'unchanged';
        }
        this.writeFile(relative, reading.text, reading.version, source, existing);
        return 'indexed';
      }
    }
  }

  private writeFile(relative: string, text: string, version: FileVersion, source: 'disk' | 'unsaved', existing: FileRow | undefined): void {
    const redacted = redactSecrets(text);
    const chunks = chunkLines(redacted.text, this.chunkOptions)
      .filter((chunk) => !isBlank(chunk.text))
      .map((chunk): ChunkToWrite => ({
        startLine: chunk.startLine,
        endLine: chunk.endLine,
        hash: hashBytes(chunk.text),
        // Bound as UTF-8 bytes (a native copy; sql.js encodes a string in JS) and cast back to TEXT.
        bytes: () => Buffer.from(chunk.text, 'utf8'),
        addTerms: (index, id) => index.addText(id, chunk.text),
      }));
    this.writeChunks(relative, chunks, redacted.redactions, version, source, existing);
  }

  /**
   * Writes what the scan's worker prepared of one file (preparedFile.ts); `existing` is read
   * now, not when the file was sent, so a file re-indexed meanwhile is compared with that.
   * `readFromMs` is a time before the worker read the file: the content is confirmed as of
   * then (the racy-mtime rule, readCheck.ts), not as of this write.
   */
  applyPrepared(relative: string, reading: PreparedReading, batch: PreparedBatch, numbers: TermNumbers, existing: FileRow | undefined, readFromMs: number): RefreshOutcome {
    if (reading.kind !== 'text') {
      return this.apply(relative, reading, existing);
    }
    if (existing && existing.hash === reading.version.hash && existing.source === 'disk') {
      this.confirm(existing.id, reading.version, readFromMs);
      return 'unchanged';
    }
    const chunks = reading.chunks.map(
      (chunk): ChunkToWrite => ({
        startLine: chunk.startLine,
        endLine: chunk.endLine,
        hash: chunk.hash,
        bytes: () => batch.bytes.subarray(chunk.byteStart, chunk.byteEnd),
        addTerms: (index, id) => index.addCounted(id, numbers, batch.terms, chunk.termStart, chunk.termPairs, chunk.length),
      }),
    );
    this.writeChunks(relative, chunks, reading.redactions, reading.version, 'disk', existing, readFromMs);
    return 'indexed';
  }

  private writeChunks(
    relative: string,
    chunks: readonly ChunkToWrite[],
    redactions: readonly Redaction[],
    version: FileVersion,
    source: 'disk' | 'unsaved',
    existing: FileRow | undefined,
    checkedMs = this.now(),
  ): void {
    let fileId: number;
    let oldChunkIds: number[] = [];
    if (existing) {
      fileId = existing.id;
      oldChunkIds = this.statements.all('SELECT chunk_id FROM file_chunks WHERE file_id = ?', [fileId]).map((row) => row.chunk_id as number);
      this.statements.run('DELETE FROM file_chunks WHERE file_id = ?', [fileId]);
      this.statements.run('UPDATE files SET size = ?, mtime_ms = ?, hash = ?, checked_ms = ?, source = ?, chunk_count = ? WHERE id = ?', [version.size, version.mtimeMs, version.hash, checkedMs, source, chunks.length, fileId]);
    } else {
      fileId = this.nextFileId++;
      this.statements.run('INSERT INTO files (id, path, size, mtime_ms, hash, checked_ms, source, chunk_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [fileId, relative, version.size, version.mtimeMs, version.hash, checkedMs, source, chunks.length]);
      this.pathTerms.addText(fileId, relative);
    }
    // New chunks and the places are written a group of rows per statement (fewer calls into sql.js).
    const newChunks: BindValue[] = [];
    const places: number[] = [];
    const kept = new Set<number>();
    chunks.forEach((chunk, ordinal) => {
      const chunkId = this.chunkIdFor(chunk, newChunks);
      kept.add(chunkId);
      places.push(fileId, ordinal, chunkId, chunk.startLine, chunk.endLine);
    });
    this.insertRows('chunks (id, hash, text)', '(?, ?, CAST(? AS TEXT))', newChunks);
    this.insertRows('file_chunks (file_id, ordinal, chunk_id, start_line, end_line)', '(?, ?, ?, ?, ?)', places);
    // The new version's own chunks are in use; only the others may be orphans (an edit changes a
    // few chunks of a file: the rest are not looked up one by one).
    this.dropOrphans(oldChunkIds.filter((chunkId) => !kept.has(chunkId)));
    if (existing || redactions.length > 0) {
      this.statements.run('DELETE FROM redactions WHERE path = ?', [relative]);
    }
    for (const redaction of redactions) {
      this.statements.run('INSERT INTO redactions (path, line, kind) VALUES (?, ?, ?)', [relative, redaction.line, redaction.kind]);
    }
    // (A first index has no skipped row to drop: the table is counted once a transaction.)
    this.skippedRows ??= this.count('skipped');
    if (this.skippedRows > 0) {
      this.statements.run('DELETE FROM skipped WHERE path = ?', [relative]);
    }
    this.dirty = true;
    this.termsChanged = true;
  }

  /** `INSERT INTO target VALUES row, row…` for `values`, up to `rowsPerStatement` rows a statement. */
  private insertRows(target: string, row: string, values: BindValue[]): void {
    const rowsPerStatement = 16;
    const width = row.split('?').length - 1;
    for (let start = 0; start < values.length; start += width * rowsPerStatement) {
      const group = start === 0 && values.length <= width * rowsPerStatement ? values : values.slice(start, start + width * rowsPerStatement);
      this.statements.run(this.insertText(target, row, group.length / width), group);
    }
  }

  /** The text of an insert of `rows` rows (made once: a statement is found by its text). */
  private insertText(target: string, row: string, rows: number): string {
    const key = `${target}\0${row}\0${rows}`;
    let text = this.insertTexts.get(key);
    if (text === undefined) {
      text = `INSERT INTO ${target} VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
      this.insertTexts.set(key, text);
    }
    return text;
  }

  /** The id of the chunk stored under this chunk's hash; a new one is queued on `newChunks` (id, hash, text). */
  private chunkIdFor(chunk: ChunkToWrite, newChunks: BindValue[]): number {
    const found = this.chunkIds.get(chunk.hash);
    if (found !== undefined) {
      return found;
    }
    const id = this.nextChunkId++;
    newChunks.push(id, chunk.hash, chunk.bytes());
    this.chunkIds.set(chunk.hash, id);
    chunk.addTerms(this.chunkTerms, id);
    return id;
  }

  private dropOrphans(chunkIds: readonly number[]): void {
    for (const chunkId of new Set(chunkIds)) {
      if (!this.statements.one('SELECT 1 AS used FROM file_chunks WHERE chunk_id = ? LIMIT 1', [chunkId])) {
        const chunk = this.statements.one('SELECT hash, text FROM chunks WHERE id = ?', [chunkId]);
        this.statements.run('DELETE FROM chunks WHERE id = ?', [chunkId]);
        if (chunk) {
          this.chunkTerms.remove(chunkId, termList(chunk.text as string));
          this.chunkIds.delete(chunk.hash as string);
        }
      }
    }
  }

  private removeFile(file: FileRow): void {
    const chunkIds = this.statements.all('SELECT chunk_id FROM file_chunks WHERE file_id = ?', [file.id]).map((row) => row.chunk_id as number);
    this.statements.run('DELETE FROM file_chunks WHERE file_id = ?', [file.id]);
    this.dropOrphans(chunkIds);
    this.pathTerms.remove(file.id, termList(file.path));
    this.statements.run('DELETE FROM files WHERE id = ?', [file.id]);
    this.statements.run('DELETE FROM redactions WHERE path = ?', [file.path]);
    this.dirty = true;
    this.termsChanged = true;
  }

  recordSkipped(relative: string, reason: string): void {
    // The row count is read once a transaction (a COUNT per file made scans quadratic).
    this.skippedRows ??= this.count('skipped');
    if (this.skippedRows < maxSkippedRows || this.statements.one('SELECT 1 AS found FROM skipped WHERE path = ?', [relative])) {
      this.statements.run('INSERT OR REPLACE INTO skipped (path, reason) VALUES (?, ?)', [relative, reason]);
      this.skippedRows++;
      this.dirty = true;
    }
  }

  meta(key: string): string | undefined {
    return this.statements.one('SELECT value FROM meta WHERE key = ?', [key])?.value as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.statements.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', [key, value]);
    this.dirty = true;
  }

  count(table: 'files' | 'chunks' | 'file_chunks' | 'skipped' | 'redactions'): number {
    return this.statements.one(`SELECT COUNT(*) AS n FROM ${table}`, [])!.n as number;
  }

  free(): void {
    this.statements.free();
  }
}
