import type { Database, Statement } from 'sql.js';
import type { JournalEvent } from '../log/events';
import type { DamageKind } from '../log/journalRecord';
import { NameNumbers } from './nameNumbers';
import { encodeStoredId } from './storedIds';

/** What the log made of one appended record. Every engine reaches the same verdict. */
export type AppendVerdict =
  | { readonly status: 'appended'; readonly id: string; readonly seq: number; readonly sessionVersion: number }
  | { readonly status: 'duplicate'; readonly id: string; readonly seq: number }
  | { readonly status: 'conflict'; readonly id: string; readonly reason: string; readonly expectedVersion?: number; readonly actualVersion: number };

/** Where a slot sits in the journal. */
export interface SlotPlace {
  readonly seq: number;
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export interface AcceptedEvent {
  readonly seq: number;
  /** The session had no start record: it was damaged, and the session is recovered without it. */
  readonly recoveredStart: boolean;
}

interface StreamRow {
  version: number;
  lastSeq: number;
  closed: boolean;
}

/**
 * The acceptance rules of the log, apart from every read model. Every journal slot (readable or
 * not, accepted or not) takes the next sequence number, so numbering never depends on what a
 * reader could decode or which snapshot it started from. The rules use only what earlier slots
 * produced (never the clock or the writer's view), so replaying a journal always gives the
 * same verdicts:
 * - an id already stored is a duplicate and changes nothing;
 * - a record whose `expectedVersion` differs from the session's version is a conflict, except
 *   where damaged slots since the session's last event can explain the difference;
 * - a session must be started before other events, and started only once; after damage, an
 *   event of a session without a start recovers the session instead of being refused.
 */
export class Sequencer {
  private readonly statements: {
    findEvent: Statement;
    findStream: Statement;
    insertEvent: Statement;
    upsertStream: Statement;
    insertRejected: Statement;
    insertDamaged: Statement;
    markTorn: Statement;
    damagedAfter: Statement;
    saveCounter: Statement;
  };
  private lastSeqValue: number;
  private damagedCount: number;
  // Session versions are read on every append; the cache is dropped whenever a transaction
  // rolls back.
  private readonly streamCache = new Map<string, StreamRow>();
  private readonly kindNumbers: NameNumbers;
  private readonly streamNumbers: NameNumbers;

  constructor(private readonly db: Database) {
    this.statements = {
      findEvent: db.prepare('SELECT seq FROM events WHERE id = ?'),
      findStream: db.prepare('SELECT version, last_seq, closed FROM streams WHERE session_id = ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (seq, id, stream, kind, segment, offset, length) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertStream: db.prepare(
        'INSERT INTO streams (session_id, version, last_seq, closed, recovered) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET version = excluded.version, last_seq = excluded.last_seq, closed = excluded.closed',
      ),
      insertRejected: db.prepare('INSERT INTO rejected_appends (seq, id, session_id, writer_id, reason, segment, offset) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      insertDamaged: db.prepare('INSERT INTO damaged_slots (seq, segment, offset, length, damage, reason) VALUES (?, ?, ?, ?, ?, ?)'),
      markTorn: db.prepare("UPDATE damaged_slots SET torn = 1 WHERE segment = ? AND offset >= ? AND offset < ? AND damage = 'unterminated'"),
      damagedAfter: db.prepare('SELECT COUNT(*) FROM damaged_slots WHERE seq > ? AND torn = 0'),
      // Prepared once: it runs in every append's transaction.
      saveCounter: db.prepare("INSERT INTO meta (key, value) VALUES ('lastSeq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
    this.kindNumbers = new NameNumbers(db, 'kinds', 'kind');
    this.streamNumbers = new NameNumbers(db, 'stream_names', 'session_id');
    this.lastSeqValue = 0;
    this.damagedCount = 0;
    this.reload();
  }

  /** The sequence number of the last slot applied. */
  get lastSeq(): number {
    return this.lastSeqValue;
  }

  private reload(): void {
    this.lastSeqValue = Number(this.db.exec("SELECT value FROM meta WHERE key = 'lastSeq'")[0]?.values[0]?.[0] ?? 0);
    this.damagedCount = Number(this.db.exec('SELECT COUNT(*) FROM damaged_slots WHERE torn = 0')[0]?.values[0]?.[0] ?? 0);
  }

  /** Forgets cached state after a rolled-back transaction. */
  rolledBack(): void {
    this.streamCache.clear();
    this.kindNumbers.forget();
    this.streamNumbers.forget();
    this.reload();
  }

  /** Persists the slot counter (inside the transaction that applied the slots). */
  saveCounter(): void {
    this.statements.saveCounter.run([String(this.lastSeqValue)]);
  }

  nextSlot(): number {
    return ++this.lastSeqValue;
  }

  /** A slot whose bytes cannot be read. */
  damaged(place: SlotPlace, damage: DamageKind, reason: string): void {
    this.statements.insertDamaged.run([place.seq, place.segment, place.offset, place.length, damage, reason]);
    this.damagedCount++;
  }

  /** A writer declared the damaged bytes from `offset` up to its void record torn (never acknowledged). */
  markTorn(segment: number, offset: number, beforeOffset: number): void {
    this.statements.markTorn.run([segment, offset, beforeOffset]);
    this.damagedCount -= this.db.getRowsModified();
  }

  judge(event: JournalEvent, place: SlotPlace): { verdict: AppendVerdict; accepted?: AcceptedEvent } {
    const storedId = encodeStoredId(event.id);
    const existing = this.lookupSeq(storedId);
    if (existing !== undefined) {
      return { verdict: { status: 'duplicate', id: event.id, seq: existing } };
    }
    const stream = this.lookupStream(event.sessionId);
    const actualVersion = stream?.version ?? 0;
    const reject = (reason: string): { verdict: AppendVerdict } => {
      this.statements.insertRejected.run([place.seq, event.id, event.sessionId, event.writerId, reason, place.segment, place.offset]);
      const verdict: AppendVerdict = {
        status: 'conflict',
        id: event.id,
        reason,
        actualVersion,
        ...(event.expectedVersion !== undefined ? { expectedVersion: event.expectedVersion } : {}),
      };
      return { verdict };
    };
    let baseVersion = actualVersion;
    if (event.expectedVersion !== undefined && event.expectedVersion !== actualVersion) {
      const explained = event.expectedVersion > actualVersion && event.expectedVersion - actualVersion <= this.damagedSince(stream?.lastSeq ?? 0);
      if (!explained) {
        return reject(`session ${event.sessionId} is at version ${actualVersion}, the append expected ${event.expectedVersion}: another writer got there first`);
      }
      // The writer saw events this reader lost to damage: take its word for the version.
      baseVersion = event.expectedVersion;
    }
    let recoveredStart = false;
    if (event.kind === 'session.started') {
      if (stream) {
        return reject(`session ${event.sessionId} already exists`);
      }
    } else if (!stream) {
      if (this.damagedCount === 0) {
        return reject(`session ${event.sessionId} does not exist (start it first)`);
      }
      recoveredStart = true;
    } else if (stream.closed) {
      return reject(`session ${event.sessionId} is closed`);
    }
    this.statements.insertEvent.run([place.seq, storedId, this.streamNumbers.numberOf(event.sessionId), this.kindNumbers.numberOf(event.kind), place.segment, place.offset, place.length]);
    const row: StreamRow = { version: baseVersion + 1, lastSeq: place.seq, closed: stream?.closed === true || event.kind === 'session.closed' };
    this.statements.upsertStream.run([event.sessionId, row.version, row.lastSeq, row.closed ? 1 : 0, recoveredStart ? 1 : 0]);
    this.streamCache.set(event.sessionId, row);
    return { verdict: { status: 'appended', id: event.id, seq: place.seq, sessionVersion: row.version }, accepted: { seq: place.seq, recoveredStart } };
  }

  private damagedSince(seq: number): number {
    if (this.damagedCount === 0) {
      return 0;
    }
    const statement = this.statements.damagedAfter;
    try {
      statement.bind([seq]);
      return statement.step() ? Number(statement.get()[0]) : 0;
    } finally {
      statement.reset();
    }
  }

  private lookupSeq(id: Uint8Array | string): number | undefined {
    const statement = this.statements.findEvent;
    try {
      statement.bind([id]);
      return statement.step() ? Number(statement.get()[0]) : undefined;
    } finally {
      statement.reset();
    }
  }

  private lookupStream(id: string): StreamRow | undefined {
    const cached = this.streamCache.get(id);
    if (cached) {
      return cached;
    }
    const statement = this.statements.findStream;
    try {
      statement.bind([id]);
      if (!statement.step()) {
        return undefined;
      }
      const [version, lastSeq, closed] = statement.get();
      const row = { version: Number(version), lastSeq: Number(lastSeq), closed: Number(closed) === 1 };
      this.streamCache.set(id, row);
      return row;
    } finally {
      statement.reset();
    }
  }

  dispose(): void {
    for (const statement of Object.values(this.statements)) {
      statement.free();
    }
    this.kindNumbers.dispose();
    this.streamNumbers.dispose();
  }
}
