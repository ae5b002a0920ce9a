import type { Database } from 'sql.js';
import { encodeStoredId } from './storedIds';

// Forward-only migrations. The log's own tables (what the acceptance rules need) have one
// list here; every projection module carries its own list (see modules/). Each step runs once,
// in order, inside a transaction; versions live in `meta`. A database from a newer version is
// never "migrated down".
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** SQL, or a step that needs more than SQL (it runs inside the same transaction). */
  readonly sql: string | ((db: Database) => void);
}

/** The meta key of the log tables' version (kept from layout 1 for the too-new check). */
export const logSchemaKey = 'schemaVersion';

const logMigrations: readonly Migration[] = [
  // Version 1 numbered only accepted events; version 2 gives every journal slot a number, so
  // snapshots of version 1 are not migrated: the journal is replayed instead.
  {
    version: 2,
    description: 'the log: events by slot, streams, rejected appends, damaged slots',
    sql: `
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      -- What queries need of an accepted event; its body stays in the journal, at its position.
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        segment INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL
      );
      CREATE INDEX events_by_session ON events (session_id, seq);
      CREATE TABLE streams (
        session_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0,
        recovered INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE TABLE rejected_appends (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        writer_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        segment INTEGER NOT NULL,
        offset INTEGER NOT NULL
      );
      CREATE TABLE damaged_slots (
        seq INTEGER PRIMARY KEY,
        segment INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        damage TEXT NOT NULL,
        reason TEXT NOT NULL,
        torn INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX damaged_by_position ON damaged_slots (segment, offset);
    `,
  },
  // Version 3 keeps the same rows in a third less space (more where session ids are long):
  // ULID ids as their 16 bytes (storedIds.ts), kinds and session ids as numbers into two small
  // tables, numbered in order of first appearance as a replay numbers them (OR IGNORE keeps the
  // first). Migrating takes about a second per 100,000 events, once.
  {
    version: 3,
    description: 'the log: compact event rows (ids as bytes, kinds and sessions numbered)',
    sql: (db) => {
      db.create_function('stored_id', (id: string) => encodeStoredId(id));
      db.exec(`
        ALTER TABLE events RENAME TO events_v2;
        DROP INDEX events_by_session;
        CREATE TABLE kinds (no INTEGER PRIMARY KEY, kind TEXT NOT NULL UNIQUE);
        INSERT OR IGNORE INTO kinds (kind) SELECT kind FROM events_v2 ORDER BY seq;
        CREATE TABLE stream_names (no INTEGER PRIMARY KEY, session_id TEXT NOT NULL UNIQUE);
        INSERT OR IGNORE INTO stream_names (session_id) SELECT session_id FROM events_v2 ORDER BY seq;
        -- What queries need of an accepted event; its body stays in the journal, at its position.
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY,
          id BLOB NOT NULL UNIQUE,
          stream INTEGER NOT NULL,
          kind INTEGER NOT NULL,
          segment INTEGER NOT NULL,
          offset INTEGER NOT NULL,
          length INTEGER NOT NULL
        );
        INSERT INTO events (seq, id, stream, kind, segment, offset, length)
          SELECT e.seq, stored_id(e.id), (SELECT no FROM stream_names WHERE session_id = e.session_id), (SELECT no FROM kinds WHERE kind = e.kind), e.segment, e.offset, e.length
          FROM events_v2 e ORDER BY e.seq;
        DROP TABLE events_v2;
        CREATE INDEX events_by_stream ON events (stream, seq);
      `);
    },
  },
];

export const latestSchemaVersion = logMigrations.at(-1)!.version;
const oldestMigratableVersion = logMigrations[0]!.version;

export class StoreTooNewError extends Error {
  override readonly name = 'StoreTooNewError';
}

/** The database was written by an earlier layout that cannot be migrated; rebuild it. */
export class OutdatedDatabaseError extends Error {
  override readonly name = 'OutdatedDatabaseError';
}

export function readVersion(db: Database, key: string): number {
  const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (hasMeta.length === 0) {
    return 0;
  }
  const rows = db.exec('SELECT value FROM meta WHERE key = ?', [key]);
  return Number(rows[0]?.values[0]?.[0] ?? 0);
}

export function schemaVersion(db: Database): number {
  return readVersion(db, logSchemaKey);
}

/** Brings the log tables of `db` to the latest version; returns the versions applied. */
export function migrate(db: Database): number[] {
  const current = schemaVersion(db);
  if (current > latestSchemaVersion) {
    throw new StoreTooNewError(
      `this store's database has schema version ${current}, but this Context Ledger understands up to ${latestSchemaVersion}. Update the extension; the store was left untouched.`,
    );
  }
  if (current !== 0 && current < oldestMigratableVersion) {
    throw new OutdatedDatabaseError(`it has schema version ${current}, from before every journal record got a sequence number`);
  }
  const applied = runMigrations(db, logSchemaKey, logMigrations);
  if (current !== 0 && applied.length > 0) {
    // A migrated table leaves its old pages free; without this every snapshot would carry them.
    db.exec('VACUUM');
  }
  return applied;
}

/** Runs the steps of `migrations` newer than the version stored under `key`. */
export function runMigrations(db: Database, key: string, migrations: readonly Migration[]): number[] {
  const current = readVersion(db, key);
  if (migrations.every((migration) => migration.version <= current)) {
    // Nothing to do, and nothing written: the first write to a loaded database copies it whole.
    return [];
  }
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) {
      continue;
    }
    db.exec('BEGIN');
    try {
      if (typeof migration.sql === 'string') {
        db.exec(migration.sql);
      } else {
        migration.sql(db);
      }
      db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, String(migration.version)]);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${key} ${migration.version} (${migration.description}) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    applied.push(migration.version);
  }
  return applied;
}
