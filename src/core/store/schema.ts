import type { Database } from 'sql.js';

// Forward-only migrations. The log's own tables (what the acceptance rules need) have one
// list here; every projection module carries its own list (see modules/). Each step runs once,
// in order, inside a transaction; versions live in `meta`. A database from a newer version is
// never "migrated down".
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
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
  return runMigrations(db, logSchemaKey, logMigrations);
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
      db.exec(migration.sql);
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
