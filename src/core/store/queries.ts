import type { Database, SqlValue } from 'sql.js';
import { journalFormatVersion, type StoredEvent } from '../log/events';

export interface SessionSummary {
  readonly id: string;
  readonly name: string;
  /** Number of accepted events in the session: what `expectedVersion` is compared with. */
  readonly version: number;
  readonly eventCount: number;
  readonly turnCount: number;
  readonly startedMs: number;
  readonly lastActivityMs: number;
  readonly lastSeq: number;
  readonly closed: boolean;
  /** Deleted from the Sessions view (a `session.hidden` event); its events are kept. */
  readonly hidden: boolean;
}

export interface SessionRange {
  /** Only the last N events of the session. */
  readonly last?: number;
  /** Events with seq >= fromSeq. */
  readonly fromSeq?: number;
  /** Events with seq <= toSeq. */
  readonly toSeq?: number;
}

export function listSessions(db: Database): SessionSummary[] {
  const result = db.exec(
    'SELECT id, name, version, event_count, turn_count, started_ms, last_ms, last_seq, closed, hidden FROM sessions ORDER BY last_seq DESC',
  );
  return (result[0]?.values ?? []).map(toSessionSummary);
}

export function getSession(db: Database, id: string): SessionSummary | undefined {
  const result = db.exec(
    'SELECT id, name, version, event_count, turn_count, started_ms, last_ms, last_seq, closed, hidden FROM sessions WHERE id = ?',
    [id],
  );
  const row = result[0]?.values[0];
  return row ? toSessionSummary(row) : undefined;
}

function toSessionSummary(row: SqlValue[]): SessionSummary {
  const [id, name, version, eventCount, turnCount, startedMs, lastMs, lastSeq, closed, hidden] = row;
  return {
    id: String(id),
    name: String(name),
    version: Number(version),
    eventCount: Number(eventCount),
    turnCount: Number(turnCount),
    startedMs: Number(startedMs),
    lastActivityMs: Number(lastMs),
    lastSeq: Number(lastSeq),
    closed: Number(closed) === 1,
    hidden: Number(hidden) === 1,
  };
}

const eventColumns = 'seq, id, session_id, kind, parent_id, writer_id, hlc, wall_ms, body';

/** Events of a session in log order; uses the (session_id, seq) index for every shape. */
export function readSessionEvents(db: Database, sessionId: string, range: SessionRange = {}): StoredEvent[] {
  const from = range.fromSeq ?? 0;
  const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  const sql =
    range.last !== undefined
      ? `SELECT * FROM (SELECT ${eventColumns} FROM events WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`
      : `SELECT ${eventColumns} FROM events WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`;
  const params: SqlValue[] = range.last !== undefined ? [sessionId, from, to, range.last] : [sessionId, from, to];
  return (db.exec(sql, params)[0]?.values ?? []).map(toStoredEvent);
}

/** All events in seq order, in pages, for export and verification. */
export function* iterateEvents(db: Database, pageSize = 5000): Generator<StoredEvent> {
  let after = 0;
  for (;;) {
    const rows = db.exec(`SELECT ${eventColumns} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, [after, pageSize])[0]?.values ?? [];
    for (const row of rows) {
      const event = toStoredEvent(row);
      after = event.seq;
      yield event;
    }
    if (rows.length < pageSize) {
      return;
    }
  }
}

function toStoredEvent(row: SqlValue[]): StoredEvent {
  const [seq, id, sessionId, kind, parentId, writerId, hlc, wallMs, body] = row;
  return {
    formatVersion: journalFormatVersion,
    seq: Number(seq),
    id: String(id),
    sessionId: String(sessionId),
    kind: String(kind),
    parentId: parentId === null ? null : String(parentId),
    writerId: String(writerId),
    hlc: String(hlc),
    wallMs: Number(wallMs),
    body: JSON.parse(String(body)) as unknown,
  } as StoredEvent;
}

export function countRows(db: Database, table: 'events' | 'sessions' | 'rejected_appends'): number {
  return Number(db.exec(`SELECT COUNT(*) FROM ${table}`)[0]?.values[0]?.[0] ?? 0);
}

export function readMeta(db: Database, key: string): string | undefined {
  const value = db.exec('SELECT value FROM meta WHERE key = ?', [key])[0]?.values[0]?.[0];
  return value === undefined || value === null ? undefined : String(value);
}

export function databaseBytes(db: Database): number {
  const pageCount = Number(db.exec('PRAGMA page_count')[0]?.values[0]?.[0] ?? 0);
  const pageSize = Number(db.exec('PRAGMA page_size')[0]?.values[0]?.[0] ?? 0);
  return pageCount * pageSize;
}
