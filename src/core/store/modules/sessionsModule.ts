import type { Database, Statement } from 'sql.js';
import { turnKinds, type StoredEvent } from '../../log/events';
import type { AcceptedEvent } from '../sequencer';
import type { ProjectionModule } from './projectionModule';

/** Name shown for a session whose start record was damaged. */
export function recoveredSessionName(sessionId: string): string {
  return `${sessionId} (recovered: its start record was damaged)`;
}

/** The Sessions read model: one row per session with its name, counts (turns: user questions) and activity. */
export class SessionsModule implements ProjectionModule {
  readonly name = 'sessions';
  readonly migrations = [
    {
      version: 1,
      description: 'sessions',
      sql: `
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          event_count INTEGER NOT NULL,
          turn_count INTEGER NOT NULL,
          started_seq INTEGER NOT NULL,
          last_seq INTEGER NOT NULL,
          started_ms INTEGER NOT NULL,
          last_ms INTEGER NOT NULL,
          closed INTEGER NOT NULL DEFAULT 0,
          recovered INTEGER NOT NULL DEFAULT 0,
          -- Deleted from the Sessions view (session.hidden): kept in the log, left out of lists.
          hidden INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX sessions_by_last_seq ON sessions (last_seq);
      `,
    },
  ];
  private statements: { insert: Statement; bump: Statement; rename: Statement; close: Statement; hide: Statement } | undefined;

  open(db: Database): void {
    this.statements = {
      insert: db.prepare(
        'INSERT INTO sessions (id, name, event_count, turn_count, started_seq, last_seq, started_ms, last_ms, recovered) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)',
      ),
      bump: db.prepare('UPDATE sessions SET event_count = event_count + 1, turn_count = turn_count + ?, last_seq = ?, last_ms = MAX(last_ms, ?) WHERE id = ?'),
      rename: db.prepare('UPDATE sessions SET name = ? WHERE id = ?'),
      close: db.prepare('UPDATE sessions SET closed = 1 WHERE id = ?'),
      hide: db.prepare('UPDATE sessions SET hidden = 1 WHERE id = ?'),
    };
  }

  apply(event: StoredEvent, accepted: AcceptedEvent): void {
    const statements = this.statements!;
    const turns = turnKinds.has(event.kind) ? 1 : 0;
    if (event.kind === 'session.started' || (event.kind === 'foreign' && event.body.kind === 'session.started')) {
      // A start whose body this version cannot read still starts the session (under its id).
      const name = event.kind === 'session.started' ? event.body.name : event.sessionId;
      statements.insert.run([event.sessionId, name, 0, event.seq, event.seq, event.wallMs, event.wallMs, 0]);
      return;
    }
    if (accepted.recoveredStart) {
      statements.insert.run([event.sessionId, recoveredSessionName(event.sessionId), turns, event.seq, event.seq, event.wallMs, event.wallMs, 1]);
    } else {
      statements.bump.run([turns, event.seq, event.wallMs, event.sessionId]);
    }
    if (event.kind === 'session.renamed') {
      statements.rename.run([event.body.name, event.sessionId]);
    } else if (event.kind === 'session.closed') {
      statements.close.run([event.sessionId]);
    } else if (event.kind === 'session.hidden') {
      statements.hide.run([event.sessionId]);
    }
  }

  rolledBack(): void {
    // No cached state.
  }

  digest(db: Database): string {
    return String(
      db.exec(
        "SELECT COALESCE(group_concat(id || ':' || name || ':' || event_count || ':' || turn_count || ':' || last_seq || ':' || closed || ':' || recovered || ':' || hidden, ','), '') FROM (SELECT * FROM sessions ORDER BY id)",
      )[0]?.values[0]?.[0] ?? '',
    );
  }

  describeDamage(db: Database): string[] {
    const rows = db.exec('SELECT id, event_count FROM sessions WHERE recovered = 1 ORDER BY id')[0]?.values ?? [];
    return rows.map(([id, count]) => `session ${String(id)} lost its start record (its name and start time); its ${Number(count)} later events were kept and the session is shown as recovered`);
  }

  close(): void {
    for (const statement of Object.values(this.statements ?? {})) {
      statement.free();
    }
    this.statements = undefined;
  }
}
