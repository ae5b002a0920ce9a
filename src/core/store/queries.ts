import type { Database, SqlValue } from 'sql.js';
import type { StoredEvent } from '../log/events';
import { notSystemStreamSql } from '../log/systemStreams';
import { eventLocationColumns, eventLocationsFrom, toEventLocation, type EventReader } from './eventReader';

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
  /** Its start record was damaged; the later events are kept. */
  readonly recovered: boolean;
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

// The version comes from the log's acceptance state, the rest from the Sessions read model.
const sessionColumns =
  'SELECT s.id, s.name, COALESCE(t.version, s.event_count), s.event_count, s.turn_count, s.started_ms, s.last_ms, s.last_seq, s.closed, s.recovered, s.hidden FROM sessions s LEFT JOIN streams t ON t.session_id = s.id';

export function listSessions(db: Database): SessionSummary[] {
  // System streams (prompt versions, facts, MCP calls) are not sessions a person opens.
  const result = db.exec(`${sessionColumns} WHERE ${notSystemStreamSql('s.id')} ORDER BY s.last_seq DESC`);
  return (result[0]?.values ?? []).map(toSessionSummary);
}

export function getSession(db: Database, id: string): SessionSummary | undefined {
  const result = db.exec(
    `${sessionColumns} WHERE s.id = ?`,
    [id],
  );
  const row = result[0]?.values[0];
  return row ? toSessionSummary(row) : undefined;
}

function toSessionSummary(row: SqlValue[]): SessionSummary {
  const [id, name, version, eventCount, turnCount, startedMs, lastMs, lastSeq, closed, recovered, hidden] = row;
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
    recovered: Number(recovered) === 1,
    hidden: Number(hidden) === 1,
  };
}

/** The events table's number for a session id, as SQL on one parameter (NULL when it has none). */
const streamOf = '(SELECT no FROM stream_names WHERE session_id = ?)';

/** Events of a session in log order; uses the (stream, seq) index for every shape. */
export function readSessionEvents(db: Database, reader: EventReader, sessionId: string, range: SessionRange = {}): StoredEvent[] {
  const from = range.fromSeq ?? 0;
  const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  const sql =
    range.last !== undefined
      ? `SELECT * FROM (SELECT ${eventLocationColumns} FROM ${eventLocationsFrom} WHERE e.stream = ${streamOf} AND e.seq BETWEEN ? AND ? ORDER BY e.seq DESC LIMIT ?) ORDER BY seq`
      : `SELECT ${eventLocationColumns} FROM ${eventLocationsFrom} WHERE e.stream = ${streamOf} AND e.seq BETWEEN ? AND ? ORDER BY e.seq`;
  const params: SqlValue[] = range.last !== undefined ? [sessionId, from, to, range.last] : [sessionId, from, to];
  return reader.read((db.exec(sql, params)[0]?.values ?? []).map(toEventLocation));
}

/** The seqs of a session's events in log order and which are questions, from the index alone (no bodies). */
export function sessionEventKeys(db: Database, sessionId: string): { seqs: number[]; questions: boolean[] } {
  const statement = db.prepare(`SELECT seq, kind IS (SELECT no FROM kinds WHERE kind = 'message.user') FROM events WHERE stream = ${streamOf} ORDER BY seq`);
  const seqs: number[] = [];
  const questions: boolean[] = [];
  try {
    statement.bind([sessionId]);
    while (statement.step()) {
      const [seq, question] = statement.get();
      seqs.push(Number(seq));
      questions.push(question === 1);
    }
  } finally {
    statement.free();
  }
  return { seqs, questions };
}

/** All events after `afterSeq` in seq order, in pages, for export, verification and backfill. */
export function* iterateEvents(db: Database, reader: EventReader, afterSeq = 0, pageSize = 5000): Generator<StoredEvent> {
  let after = afterSeq;
  for (;;) {
    const rows = db.exec(`SELECT ${eventLocationColumns} FROM ${eventLocationsFrom} WHERE e.seq > ? ORDER BY e.seq LIMIT ?`, [after, pageSize])[0]?.values ?? [];
    for (const event of reader.read(rows.map(toEventLocation))) {
      after = event.seq;
      yield event;
    }
    if (rows.length < pageSize) {
      return;
    }
  }
}

export function countRows(db: Database, table: 'events' | 'sessions' | 'rejected_appends' | 'damaged_slots'): number {
  return Number(db.exec(`SELECT COUNT(*) FROM ${table}`)[0]?.values[0]?.[0] ?? 0);
}

/** Sessions and the events in them, the system streams (prompt versions, facts, MCP) not counted. */
export function countSessions(db: Database): { readonly sessions: number; readonly events: number } {
  const row = db.exec(`SELECT COUNT(*), COALESCE(SUM(event_count), 0) FROM sessions WHERE ${notSystemStreamSql('id')}`)[0]?.values[0];
  return { sessions: Number(row?.[0] ?? 0), events: Number(row?.[1] ?? 0) };
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

export interface DamagedSlot {
  readonly seq: number;
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
  readonly damage: string;
  readonly reason: string;
  /** Its writer declared it torn: never acknowledged, so nothing was lost. */
  readonly torn: boolean;
}

export function listDamagedSlots(db: Database): DamagedSlot[] {
  const rows = db.exec('SELECT seq, segment, offset, length, damage, reason, torn FROM damaged_slots ORDER BY seq')[0]?.values ?? [];
  return rows.map(([seq, segment, offset, length, damage, reason, torn]) => ({
    seq: Number(seq),
    segment: Number(segment),
    offset: Number(offset),
    length: Number(length),
    damage: String(damage),
    reason: String(reason),
    torn: Number(torn) === 1,
  }));
}
