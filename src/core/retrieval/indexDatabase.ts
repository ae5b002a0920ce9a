import * as path from 'node:path';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import { writeFileAtomic, makeDirectoryDurable } from '../fs/durableFile';
import { errorCode, type FileSystem } from '../fs/fileSystem';

// The retrieval index is a cache: its own sql.js database beside the store, never in the event
// snapshots, rebuilt from the files whenever it is missing, damaged or of another layout. A
// chunk is stored once under the hash of its text, however many files (or places in one file)
// hold it; `file_chunks` says where. termIndex.ts holds the terms in memory; `term_index` keeps
// a copy of them as of the last save, and they are derived from the chunks' text when that copy
// is missing or does not match. Ids only grow (AUTOINCREMENT), which the sorted postings rely on.

/** Bumped when the tables change; an index of another layout is rebuilt, never migrated. */
export const indexLayoutVersion = 3;

const schema = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  -- The version of each indexed file: what the read-time check compares.
  CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    hash TEXT NOT NULL,
    -- When the content was last confirmed at this mtime (racy-mtime rule, see coherence).
    checked_ms REAL NOT NULL,
    source TEXT NOT NULL,
    chunk_count INTEGER NOT NULL
  );
  -- hash is unique: the engine keeps hash -> id in memory (indexTables.ts) instead of an index.
  CREATE TABLE chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL, text TEXT NOT NULL);
  CREATE TABLE file_chunks (
    file_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    chunk_id INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    PRIMARY KEY (file_id, ordinal)
  ) WITHOUT ROWID;
  CREATE INDEX file_chunks_by_chunk ON file_chunks (chunk_id);
  -- The term indexes (termIndexFile.ts) as of the last save, with the row count and largest id
  -- of the table they index, so a copy that does not match it is seen and ignored.
  CREATE TABLE term_index (name TEXT PRIMARY KEY, vocabulary TEXT NOT NULL, documents BLOB NOT NULL, postings BLOB NOT NULL, rows INTEGER NOT NULL, max_id INTEGER NOT NULL) WITHOUT ROWID;
  -- What the scan left out, and why (secret, ignored, too large, binary, credentials).
  CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
  -- Key-shaped strings replaced inside indexed files: where, and what they looked like.
  CREATE TABLE redactions (path TEXT NOT NULL, line INTEGER NOT NULL, kind TEXT NOT NULL);
  CREATE INDEX redactions_by_path ON redactions (path);
`;

export interface IndexDatabaseOpen {
  readonly db: Database;
  /** Why the saved index was not used (missing, damaged, another layout or folder), if it was not. */
  readonly rebuiltBecause: string | undefined;
}

export function indexFilePath(storeDir: string): string {
  return path.join(storeDir, 'retrieval', 'index.sqlite');
}

function readMeta(db: Database, key: string): string | undefined {
  const rows = db.exec('SELECT value FROM meta WHERE key = ?', [key]);
  const value = rows[0]?.values[0]?.[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The database lives in sql.js's in-memory file system and is saved whole (saveIndexDatabase):
 * a rollback journal there is only copying, and a larger page cache keeps a scan's batches off
 * that file system until they commit. No other connection ever opens it, so the lock is held
 * (exclusive locking mode): otherwise every statement outside a transaction would look for a
 * hot journal and re-validate the page cache first, which tripled the cost of a small query.
 */
function tune(db: Database): Database {
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768');
  return db;
}

/** Opens the saved index for `workspaceRoot`, or a fresh one (saying why). */
export function openIndexDatabase(sql: SqlJsStatic, fs: FileSystem, file: string | undefined, workspaceRoot: string): IndexDatabaseOpen {
  let rebuiltBecause: string | undefined = file ? undefined : 'the index is kept in memory only';
  if (file) {
    let bytes: Buffer | undefined;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      rebuiltBecause = errorCode(error) === 'ENOENT' ? 'no saved index yet' : `the saved index could not be read (${errorCode(error) ?? String(error)})`;
    }
    if (bytes) {
      let db: Database | undefined;
      try {
        db = new sql.Database(bytes);
        const layout = readMeta(db, 'layout');
        const root = readMeta(db, 'workspaceRoot');
        if (layout !== String(indexLayoutVersion)) {
          rebuiltBecause = `the saved index has layout ${layout ?? 'unknown'}, this version uses ${indexLayoutVersion}`;
        } else if (root !== workspaceRoot) {
          rebuiltBecause = 'the saved index is of another folder';
        } else {
          const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
          if (check === 'ok') {
            return { db: tune(db), rebuiltBecause: undefined };
          }
          rebuiltBecause = `the saved index is damaged (${String(check)})`;
        }
      } catch (error) {
        rebuiltBecause = `the saved index is damaged (${error instanceof Error ? error.message : String(error)})`;
      }
      db?.close();
    }
  }
  const db = tune(new sql.Database());
  db.exec(schema);
  db.run('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)', ['layout', String(indexLayoutVersion), 'workspaceRoot', workspaceRoot, 'complete', '0']);
  return { db, rebuiltBecause };
}

/**
 * Writes the index atomically (temporary file, fsync, rename, folder fsync): a crash leaves the
 * old index or the new one. Space freed by dropped chunks is given back first when it is a
 * good part of the file, so the file does not grow across branch switches.
 */
export function saveIndexDatabase(db: Database, fs: FileSystem, file: string): number {
  const pages = Number(db.exec('PRAGMA page_count')[0]?.values[0]?.[0] ?? 0);
  const free = Number(db.exec('PRAGMA freelist_count')[0]?.values[0]?.[0] ?? 0);
  if (pages > 0 && free / pages > 0.2) {
    db.exec('VACUUM');
  }
  const bytes = db.export();
  makeDirectoryDurable(fs, path.dirname(file));
  writeFileAtomic(fs, file, bytes);
  return bytes.length;
}

export type BindValue = string | number | null | Uint8Array;

/** Prepared statements of one database, made on first use and freed together. */
export class Statements {
  private readonly prepared = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  get(sqlText: string): Statement {
    let statement = this.prepared.get(sqlText);
    if (!statement) {
      statement = this.db.prepare(sqlText);
      this.prepared.set(sqlText, statement);
    }
    return statement;
  }

  /** Runs a statement that returns nothing. */
  run(sqlText: string, params: BindValue[]): void {
    const statement = this.get(sqlText);
    statement.run(params);
  }

  /** All rows of a query, as objects. */
  all(sqlText: string, params: BindValue[]): Record<string, unknown>[] {
    const statement = this.get(sqlText);
    statement.bind(params);
    const rows: Record<string, unknown>[] = [];
    try {
      while (statement.step()) {
        rows.push(statement.getAsObject());
      }
    } finally {
      statement.reset();
    }
    return rows;
  }

  one(sqlText: string, params: BindValue[]): Record<string, unknown> | undefined {
    return this.all(sqlText, params)[0];
  }

  free(): void {
    for (const statement of this.prepared.values()) {
      statement.free();
    }
    this.prepared.clear();
  }
}

/** The folder a saved index is of, or undefined if there is no readable saved index. */
export function readSavedWorkspaceFolder(sql: SqlJsStatic, fs: FileSystem, file: string): string | undefined {
  let db: Database | undefined;
  try {
    db = new sql.Database(fs.readFileSync(file));
    return readMeta(db, 'workspaceRoot');
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
