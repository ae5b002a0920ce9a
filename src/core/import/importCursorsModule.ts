import type { Database, Statement } from 'sql.js';
import type { StoredEvent } from '../log/events';
import type { ProjectionModule } from '../store/modules/projectionModule';

/** How far one source file was imported: the newest `import.cursor` event for its path. */
export interface ImportCursor {
  readonly path: string;
  readonly format: string;
  readonly sessionId: string;
  readonly bytes: number;
  readonly lines: number;
  readonly headDigest: string;
  readonly seq: number;
}

/**
 * The import cursors read model: one row per imported source file, so a re-import reads only
 * what the file gained since (and a rewritten file, whose head changed, starts over). It is
 * derived from `import.cursor` events alone, like every read model.
 */
export class ImportCursorsModule implements ProjectionModule {
  static readonly moduleName = 'importCursors';
  readonly name = ImportCursorsModule.moduleName;
  readonly migrations = [
    {
      version: 1,
      description: 'import cursors',
      sql: `
        CREATE TABLE import_cursors (
          path TEXT PRIMARY KEY,
          format TEXT NOT NULL,
          session_id TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          lines INTEGER NOT NULL,
          head_digest TEXT NOT NULL,
          seq INTEGER NOT NULL
        );
      `,
    },
  ];
  private db: Database | undefined;
  private upsert: Statement | undefined;

  open(db: Database): void {
    this.db = db;
    this.upsert = db.prepare(
      `INSERT INTO import_cursors (path, format, session_id, bytes, lines, head_digest, seq) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET format = excluded.format, session_id = excluded.session_id, bytes = excluded.bytes, lines = excluded.lines, head_digest = excluded.head_digest, seq = excluded.seq`,
    );
  }

  apply(event: StoredEvent): void {
    if (event.kind !== 'import.cursor') {
      return;
    }
    const body = event.body;
    this.upsert!.run([body.path, body.format, event.sessionId, body.bytes, body.lines, body.headDigest, event.seq]);
  }

  /** The cursor of `path`, or undefined when it was never imported. */
  cursor(path: string): ImportCursor | undefined {
    const row = this.db!.exec('SELECT path, format, session_id, bytes, lines, head_digest, seq FROM import_cursors WHERE path = ?', [path])[0]?.values[0];
    if (!row) {
      return undefined;
    }
    return { path: String(row[0]), format: String(row[1]), sessionId: String(row[2]), bytes: Number(row[3]), lines: Number(row[4]), headDigest: String(row[5]), seq: Number(row[6]) };
  }

  rolledBack(): void {
    // No cached state: the table is the state.
  }

  digest(db: Database): string {
    return String(
      db.exec("SELECT COALESCE(group_concat(path || ':' || format || ':' || session_id || ':' || bytes || ':' || lines || ':' || head_digest || ':' || seq, ','), '') FROM (SELECT * FROM import_cursors ORDER BY path)")[0]?.values[0]?.[0] ?? '',
    );
  }

  close(): void {
    this.upsert?.free();
    this.upsert = undefined;
    this.db = undefined;
  }
}
