import type { Database, Statement } from 'sql.js';
import { turnKinds, type LoggedEvent } from '../log/events';
import type { JournalPosition } from '../log/journal';

/** What the log made of one appended record. Every engine reaches the same verdict. */
export type AppendVerdict =
  | { readonly status: 'appended'; readonly id: string; readonly seq: number; readonly sessionVersion: number }
  | { readonly status: 'duplicate'; readonly id: string; readonly seq: number }
  | { readonly status: 'conflict'; readonly id: string; readonly reason: string; readonly expectedVersion?: number; readonly actualVersion: number };

interface SessionRow {
  version: number;
  closed: boolean;
}

/**
 * Applies journal records to the sql.js projections. The rules use only what earlier records
 * produced (never the clock or the writer's view), so replaying the same journal always gives
 * the same sequence numbers and verdicts:
 * - an id already stored is a duplicate and changes nothing;
 * - a record whose `expectedVersion` differs from the session's version is a conflict;
 * - a session must be started before other events, and started only once.
 */
export class Projection {
  private statements!: {
    findEvent: Statement;
    findSession: Statement;
    insertEvent: Statement;
    insertSession: Statement;
    bumpSession: Statement;
    renameSession: Statement;
    closeSession: Statement;
    hideSession: Statement;
    insertRejected: Statement;
    setMeta: Statement;
    begin: Statement;
    commit: Statement;
  };
  private lastSeq: number;
  // Session versions are read on every append; the few sessions of a store are cached here and
  // the cache is dropped whenever a transaction rolls back.
  private readonly sessionCache = new Map<string, SessionRow>();

  constructor(private readonly db: Database) {
    this.prepare();
    this.lastSeq = Number(db.exec('SELECT COALESCE(MAX(seq), 0) FROM events')[0]?.values[0]?.[0] ?? 0);
  }

  get latestSeq(): number {
    return this.lastSeq;
  }

  private prepare(): void {
    const db = this.db;
    this.statements = {
      findEvent: db.prepare('SELECT seq FROM events WHERE id = ?'),
      findSession: db.prepare('SELECT version, closed FROM sessions WHERE id = ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (seq, id, session_id, kind, parent_id, writer_id, hlc, wall_ms, body, segment, offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertSession: db.prepare(
        'INSERT INTO sessions (id, name, version, event_count, turn_count, started_seq, last_seq, started_ms, last_ms) VALUES (?, ?, 1, 1, 0, ?, ?, ?, ?)',
      ),
      bumpSession: db.prepare(
        'UPDATE sessions SET version = version + 1, event_count = event_count + 1, turn_count = turn_count + ?, last_seq = ?, last_ms = MAX(last_ms, ?) WHERE id = ?',
      ),
      renameSession: db.prepare('UPDATE sessions SET name = ? WHERE id = ?'),
      closeSession: db.prepare('UPDATE sessions SET closed = 1 WHERE id = ?'),
      hideSession: db.prepare('UPDATE sessions SET hidden = 1 WHERE id = ?'),
      insertRejected: db.prepare('INSERT INTO rejected_appends (id, session_id, writer_id, reason, segment, offset) VALUES (?, ?, ?, ?, ?, ?)'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      // Prepared once: BEGIN and COMMIT run on every append, and parsing them costs more than running them.
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
    };
  }

  /** Frees prepared statements; call before closing the database. */
  dispose(): void {
    for (const statement of Object.values(this.statements)) {
      statement.free();
    }
  }

  begin(): void {
    this.statements.begin.run();
  }

  commit(): void {
    this.statements.commit.run();
  }

  /** Records what the database covers; written just before a snapshot is exported. */
  recordCoverage(position: JournalPosition, hlc: string): void {
    this.setMeta('journalSegment', String(position.segment));
    this.setMeta('journalOffset', String(position.offset));
    this.setMeta('lastSeq', String(this.lastSeq));
    this.setMeta('hlc', hlc);
  }

  rollback(): void {
    this.db.exec('ROLLBACK');
    this.sessionCache.clear();
    this.lastSeq = Number(this.db.exec('SELECT COALESCE(MAX(seq), 0) FROM events')[0]?.values[0]?.[0] ?? 0);
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run([key, value]);
  }

  apply(event: LoggedEvent, segment: number, offset: number): AppendVerdict {
    const existing = this.lookupSeq(event.id);
    if (existing !== undefined) {
      return { status: 'duplicate', id: event.id, seq: existing };
    }
    const session = this.lookupSession(event.sessionId);
    const actualVersion = session?.version ?? 0;
    const reject = (reason: string): AppendVerdict => {
      this.statements.insertRejected.run([event.id, event.sessionId, event.writerId, reason, segment, offset]);
      return {
        status: 'conflict',
        id: event.id,
        reason,
        actualVersion,
        ...(event.expectedVersion !== undefined ? { expectedVersion: event.expectedVersion } : {}),
      };
    };
    if (event.expectedVersion !== undefined && event.expectedVersion !== actualVersion) {
      return reject(`session ${event.sessionId} is at version ${actualVersion}, the append expected ${event.expectedVersion}: another writer got there first`);
    }
    if (event.kind === 'session.started') {
      if (session) {
        return reject(`session ${event.sessionId} already exists`);
      }
    } else if (!session) {
      return reject(`session ${event.sessionId} does not exist (start it first)`);
    } else if (session.closed) {
      return reject(`session ${event.sessionId} is closed`);
    }

    const seq = this.lastSeq + 1;
    this.statements.insertEvent.run([
      seq,
      event.id,
      event.sessionId,
      event.kind,
      event.parentId,
      event.writerId,
      event.hlc,
      event.wallMs,
      JSON.stringify(event.body),
      segment,
      offset,
    ]);
    this.lastSeq = seq;
    if (event.kind === 'session.started') {
      this.statements.insertSession.run([event.sessionId, event.body.name, seq, seq, event.wallMs, event.wallMs]);
      this.sessionCache.set(event.sessionId, { version: 1, closed: false });
      return { status: 'appended', id: event.id, seq, sessionVersion: 1 };
    }
    this.statements.bumpSession.run([turnKinds.has(event.kind) ? 1 : 0, seq, event.wallMs, event.sessionId]);
    if (event.kind === 'session.renamed') {
      this.statements.renameSession.run([event.body.name, event.sessionId]);
    } else if (event.kind === 'session.closed') {
      this.statements.closeSession.run([event.sessionId]);
    } else if (event.kind === 'session.hidden') {
      this.statements.hideSession.run([event.sessionId]);
    }
    this.sessionCache.set(event.sessionId, { version: actualVersion + 1, closed: event.kind === 'session.closed' });
    return { status: 'appended', id: event.id, seq, sessionVersion: actualVersion + 1 };
  }

  private lookupSeq(id: string): number | undefined {
    const statement = this.statements.findEvent;
    try {
      statement.bind([id]);
      return statement.step() ? Number(statement.get()[0]) : undefined;
    } finally {
      statement.reset();
    }
  }

  private lookupSession(id: string): SessionRow | undefined {
    const cached = this.sessionCache.get(id);
    if (cached) {
      return cached;
    }
    const statement = this.statements.findSession;
    try {
      statement.bind([id]);
      if (!statement.step()) {
        return undefined;
      }
      const [version, closed] = statement.get();
      const row = { version: Number(version), closed: Number(closed) === 1 };
      this.sessionCache.set(id, row);
      return row;
    } finally {
      statement.reset();
    }
  }
}
