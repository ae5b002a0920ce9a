import type { Database } from 'sql.js';

// Forward-only migrations of the projection database. Each step runs once, in order, inside a
// transaction; the version lives in `meta`. A database from a newer version is refused, never
// "migrated down". Later issues append steps (facts, chunks, prompt versions).
interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'sessions and events',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        event_count INTEGER NOT NULL,
        turn_count INTEGER NOT NULL,
        started_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        started_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX sessions_by_last_seq ON sessions (last_seq);
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        parent_id TEXT,
        writer_id TEXT NOT NULL,
        hlc TEXT NOT NULL,
        wall_ms INTEGER NOT NULL,
        body TEXT NOT NULL,
        segment INTEGER NOT NULL,
        offset INTEGER NOT NULL
      );
      CREATE INDEX events_by_session ON events (session_id, seq);
      CREATE TABLE rejected_appends (
        id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        writer_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        segment INTEGER NOT NULL,
        offset INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'hidden sessions; turns count user questions',
    sql: `
      ALTER TABLE sessions ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
      UPDATE sessions SET hidden = 1 WHERE id IN (SELECT session_id FROM events WHERE kind = 'session.hidden');
      UPDATE sessions SET turn_count = (SELECT COUNT(*) FROM events WHERE events.session_id = sessions.id AND events.kind = 'message.user');
    `,
  },
];

export const latestSchemaVersion = migrations.at(-1)!.version;

export class StoreTooNewError extends Error {
  override readonly name = 'StoreTooNewError';
}

export function schemaVersion(db: Database): number {
  const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (hasMeta.length === 0) {
    return 0;
  }
  const rows = db.exec("SELECT value FROM meta WHERE key = 'schemaVersion'");
  return Number(rows[0]?.values[0]?.[0] ?? 0);
}

/** Brings `db` to the latest schema; returns the versions applied. */
export function migrate(db: Database): number[] {
  const current = schemaVersion(db);
  if (current > latestSchemaVersion) {
    throw new StoreTooNewError(
      `this store's database has schema version ${current}, but this Context Ledger understands up to ${latestSchemaVersion}. Update the extension; the store was left untouched.`,
    );
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) {
      continue;
    }
    db.exec('BEGIN');
    try {
      db.exec(migration.sql);
      db.run("INSERT INTO meta (key, value) VALUES ('schemaVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(migration.version)]);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw new Error(`schema migration ${migration.version} (${migration.description}) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    applied.push(migration.version);
  }
  return applied;
}
