import type { Database, SqlValue, Statement } from 'sql.js';
import { factsStreamId, type ConflictPolicy, type FactCitation, type FactProvenance, type FactScope, type FactTrust, type VersionVector } from '../../facts/factEvents';
import { FactQueries } from '../../facts/factQueries';
import type { StoredEvent } from '../../log/events';
import type { AcceptedEvent } from '../sequencer';
import type { ProjectionModule } from './projectionModule';

/** What a write puts in a head besides its value. */
interface WriteDetail {
  readonly kind: string;
  readonly trust: FactTrust;
  readonly scope: FactScope;
  readonly provenance: FactProvenance;
  readonly citations: readonly FactCitation[];
  readonly promptVersion: string | null;
  /** The prompt version of the user's last Mark Verified, if any. */
  readonly verifiedPromptVersion?: string;
}

interface HeadRow {
  readonly eventId: string;
  readonly writerId: string;
  readonly dot: number;
  readonly seq: number;
  readonly wallMs: number;
  readonly value: string | null;
  readonly trust: string;
  readonly detail: string;
}

/**
 * The Facts read model. Each write is a dotted version: the writer's next counter for that key
 * (its dot) and the version vector it saw (its context). A write saw a current value (head)
 * when its context covers that head's dot; the heads it saw become history (with when they
 * stopped being current), the ones it did not see stay beside it as a conflict until a write
 * that saw them all (the user's merge) replaces them. Under last-writer-wins (chosen by the
 * writer, recorded in the event) unseen heads are replaced too, and history says they were
 * overwritten. Dots, not plain per-writer counts, so two sessions of one engine writing the
 * same key at once are still seen as concurrent. The rules use only the events.
 */
export class FactsModule implements ProjectionModule {
  readonly name = 'facts';
  readonly migrations = [
    {
      version: 1,
      description: 'facts, their current values, history and proposals',
      sql: `
        CREATE TABLE facts (
          key TEXT PRIMARY KEY,
          scope TEXT NOT NULL,
          state TEXT NOT NULL,
          -- The highest dot each writer issued for this key (new dots come from it).
          counters TEXT NOT NULL,
          pinned INTEGER NOT NULL DEFAULT 0,
          used_ms INTEGER,
          created_seq INTEGER NOT NULL,
          created_ms INTEGER NOT NULL,
          updated_seq INTEGER NOT NULL,
          updated_ms INTEGER NOT NULL
        );
        CREATE TABLE fact_heads (
          event_id TEXT PRIMARY KEY,
          key TEXT NOT NULL,
          value TEXT,
          trust TEXT NOT NULL,
          writer_id TEXT NOT NULL,
          dot INTEGER NOT NULL,
          context TEXT NOT NULL,
          detail TEXT NOT NULL,
          seq INTEGER NOT NULL,
          wall_ms INTEGER NOT NULL,
          verify_status TEXT NOT NULL DEFAULT 'unchecked',
          verify_detail TEXT,
          verified_ms INTEGER
        );
        CREATE INDEX fact_heads_by_key ON fact_heads (key, seq);
        CREATE TABLE fact_history (
          event_id TEXT PRIMARY KEY,
          key TEXT NOT NULL,
          value TEXT,
          trust TEXT NOT NULL,
          writer_id TEXT NOT NULL,
          detail TEXT NOT NULL,
          from_seq INTEGER NOT NULL,
          from_ms INTEGER NOT NULL,
          to_seq INTEGER NOT NULL,
          to_ms INTEGER NOT NULL,
          ended TEXT NOT NULL,
          ended_by TEXT NOT NULL
        );
        CREATE INDEX fact_history_by_key ON fact_history (key, from_seq);
        CREATE INDEX fact_history_by_time ON fact_history (from_ms, to_ms);
        CREATE TABLE fact_proposals (
          proposal_id TEXT PRIMARY KEY,
          event_id TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          trust TEXT NOT NULL,
          detail TEXT NOT NULL,
          reason TEXT,
          status TEXT NOT NULL,
          seq INTEGER NOT NULL,
          wall_ms INTEGER NOT NULL,
          resolved_seq INTEGER
        );
      `,
    },
  ];
  private db: Database | undefined;
  private readonly statements = new Map<string, Statement>();
  private queryView: FactQueries | undefined;

  open(db: Database): void {
    this.db = db;
    this.queryView = new FactQueries(db);
  }

  /** Reads of the facts tables (the Ledger brings them up to date first). */
  get queries(): FactQueries {
    if (!this.queryView) {
      throw new Error('the facts read model is not open');
    }
    return this.queryView;
  }

  apply(event: StoredEvent, _accepted: AcceptedEvent): void {
    if (event.kind === 'context.receipt') {
      this.noteUse(event);
      return;
    }
    if (event.sessionId !== factsStreamId) {
      return;
    }
    switch (event.kind) {
      case 'fact.asserted':
      case 'fact.updated': {
        const body = event.body;
        this.write(event, body.key, body.value, body.seen, body.policy, { kind: event.kind, trust: body.trust, scope: body.scope, provenance: body.provenance, citations: body.citations, promptVersion: body.promptVersion }, 'superseded');
        return;
      }
      case 'fact.retired': {
        const heads = this.heads(event.body.key);
        if (heads.length === 0) {
          return;
        }
        const detail = JSON.parse(heads[0]!.detail) as WriteDetail;
        this.write(event, event.body.key, null, event.body.seen, event.body.policy, { ...detail, kind: event.kind, citations: [] }, 'superseded');
        return;
      }
      case 'fact.merged': {
        const heads = this.heads(event.body.key);
        if (heads.length === 0) {
          return;
        }
        // The merged value keeps the provenance of the head it came from, if the user picked one.
        const from = heads.find((head) => head.value === event.body.value) ?? heads[0]!;
        const detail = JSON.parse(from.detail) as WriteDetail;
        this.write(event, event.body.key, event.body.value, event.body.seen, 'surface', { ...detail, kind: event.kind, trust: from.value === event.body.value ? detail.trust : 'user' }, 'merged');
        return;
      }
      case 'fact.proposed': {
        const body = event.body;
        const detail: WriteDetail = { kind: event.kind, trust: body.trust, scope: body.scope, provenance: body.provenance, citations: body.citations, promptVersion: body.promptVersion };
        this.run('INSERT OR IGNORE INTO fact_proposals (proposal_id, event_id, key, value, trust, detail, reason, status, seq, wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
          body.proposalId,
          event.id,
          body.key,
          body.value,
          body.trust,
          JSON.stringify(detail),
          body.reason ?? null,
          'pending',
          event.seq,
          event.wallMs,
        ]);
        return;
      }
      case 'fact.confirmed': {
        const proposal = this.rows('SELECT key, detail FROM fact_proposals WHERE proposal_id = ? AND status = ?', [event.body.proposalId, 'pending'])[0];
        if (!proposal) {
          return;
        }
        this.run('UPDATE fact_proposals SET status = ?, resolved_seq = ? WHERE proposal_id = ?', ['confirmed', event.seq, event.body.proposalId]);
        const detail = JSON.parse(String(proposal[1])) as WriteDetail;
        this.write(event, String(proposal[0]), event.body.value, event.body.seen, event.body.policy, { ...detail, kind: event.kind }, 'superseded');
        return;
      }
      case 'fact.rejected':
        this.run('UPDATE fact_proposals SET status = ?, resolved_seq = ? WHERE proposal_id = ? AND status = ?', ['rejected', event.seq, event.body.proposalId, 'pending']);
        return;
      case 'fact.verified': {
        const body = event.body;
        const head = this.rows('SELECT detail FROM fact_heads WHERE event_id = ? AND key = ?', [body.headEventId, body.key])[0];
        if (!head) {
          return; // A check of a value that is no longer current.
        }
        // The user's Mark Verified also says under which prompt version the value still holds.
        const detail = { ...(JSON.parse(String(head[0])) as WriteDetail), citations: body.citations, ...(body.status === 'verified' && body.promptVersion !== undefined ? { verifiedPromptVersion: body.promptVersion } : {}) };
        this.run('UPDATE fact_heads SET verify_status = ?, verify_detail = ?, verified_ms = ?, detail = ? WHERE event_id = ?', [body.status, body.detail ?? null, event.wallMs, JSON.stringify(detail), body.headEventId]);
        return;
      }
      case 'fact.pinned':
        this.run('UPDATE facts SET pinned = ? WHERE key = ?', [event.body.pinned ? 1 : 0, event.body.key]);
        return;
      default:
        return;
    }
  }

  /** One write of `key` (null: retire) by the event's writer, which saw `seen`. */
  private write(event: StoredEvent, key: string, value: string | null, seen: VersionVector, policy: ConflictPolicy, detail: WriteDetail, endedAs: 'superseded' | 'merged'): void {
    const fact = this.rows('SELECT counters FROM facts WHERE key = ?', [key])[0];
    const counters = fact ? (JSON.parse(String(fact[0])) as Record<string, number>) : {};
    const dot = (counters[event.writerId] ?? 0) + 1;
    counters[event.writerId] = dot;
    let kept = 0;
    for (const head of this.heads(key)) {
      const saw = (seen[head.writerId] ?? 0) >= head.dot;
      if (!saw && policy === 'surface') {
        kept++;
        continue;
      }
      const ended = saw ? endedAs : 'overwritten';
      this.run('INSERT OR IGNORE INTO fact_history (event_id, key, value, trust, writer_id, detail, from_seq, from_ms, to_seq, to_ms, ended, ended_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        head.eventId,
        key,
        head.value,
        head.trust,
        head.writerId,
        head.detail,
        head.seq,
        head.wallMs,
        event.seq,
        event.wallMs,
        ended,
        event.id,
      ]);
      this.run('DELETE FROM fact_heads WHERE event_id = ?', [head.eventId]);
    }
    this.run('INSERT INTO fact_heads (event_id, key, value, trust, writer_id, dot, context, detail, seq, wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      event.id,
      key,
      value,
      detail.trust,
      event.writerId,
      dot,
      JSON.stringify(seen),
      JSON.stringify(detail),
      event.seq,
      event.wallMs,
    ]);
    const state = kept > 0 ? 'conflicted' : value === null ? 'retired' : 'active';
    if (fact) {
      this.run('UPDATE facts SET state = ?, counters = ?, updated_seq = ?, updated_ms = ? WHERE key = ?', [state, JSON.stringify(counters), event.seq, event.wallMs, key]);
    } else {
      this.run('INSERT INTO facts (key, scope, state, counters, created_seq, created_ms, updated_seq, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [key, detail.scope, state, JSON.stringify(counters), event.seq, event.wallMs, event.seq, event.wallMs]);
    }
  }

  /** Facts that went into a request (a receipt's `facts` part names their heads). */
  private noteUse(event: StoredEvent & { kind: 'context.receipt' }): void {
    for (const part of event.body.receipt.parts) {
      if (part.kind !== 'facts') {
        continue;
      }
      for (const eventId of part.factEventIds ?? []) {
        this.run('UPDATE facts SET used_ms = MAX(COALESCE(used_ms, 0), ?) WHERE key = (SELECT key FROM fact_heads WHERE event_id = ?)', [event.wallMs, eventId]);
      }
    }
  }

  private heads(key: string): HeadRow[] {
    return this.rows('SELECT event_id, writer_id, dot, seq, wall_ms, value, trust, detail FROM fact_heads WHERE key = ? ORDER BY seq', [key]).map(([eventId, writerId, dot, seq, wallMs, value, trust, detail]) => ({
      eventId: String(eventId),
      writerId: String(writerId),
      dot: Number(dot),
      seq: Number(seq),
      wallMs: Number(wallMs),
      value: value === null ? null : String(value),
      trust: String(trust),
      detail: String(detail),
    }));
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db!.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private run(sql: string, params: SqlValue[]): void {
    this.statement(sql).run(params);
  }

  private rows(sql: string, params: SqlValue[]): SqlValue[][] {
    const statement = this.statement(sql);
    try {
      statement.bind(params);
      const rows: SqlValue[][] = [];
      while (statement.step()) {
        rows.push(statement.get());
      }
      return rows;
    } finally {
      statement.reset();
    }
  }

  rolledBack(): void {
    // No cached state: everything is read from the tables.
  }

  digest(db: Database): string {
    const scalar = (sql: string): string => String(db.exec(sql)[0]?.values[0]?.[0] ?? '');
    return [
      scalar("SELECT COALESCE(group_concat(key || ':' || scope || ':' || state || ':' || counters || ':' || pinned || ':' || COALESCE(used_ms, '') || ':' || updated_seq, ','), '') FROM (SELECT * FROM facts ORDER BY key)"),
      scalar("SELECT COALESCE(group_concat(event_id || ':' || key || ':' || quote(value) || ':' || dot || ':' || context || ':' || detail || ':' || verify_status, ','), '') FROM (SELECT * FROM fact_heads ORDER BY event_id)"),
      scalar("SELECT COALESCE(group_concat(event_id || ':' || key || ':' || quote(value) || ':' || from_seq || ':' || to_seq || ':' || ended || ':' || ended_by, ','), '') FROM (SELECT * FROM fact_history ORDER BY event_id)"),
      scalar("SELECT COALESCE(group_concat(proposal_id || ':' || key || ':' || value || ':' || status || ':' || COALESCE(resolved_seq, ''), ','), '') FROM (SELECT * FROM fact_proposals ORDER BY proposal_id)"),
    ].join('|');
  }

  close(): void {
    for (const statement of this.statements.values()) {
      statement.free();
    }
    this.statements.clear();
    this.db = undefined;
    this.queryView = undefined;
  }
}
