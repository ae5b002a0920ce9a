import type { Database, SqlValue } from 'sql.js';
import type { FactCitation, FactProvenance, FactScope, FactTrust, VersionVector } from './factEvents';
import type { BeliefAt, FactHead, FactHistoryEntry, FactProposal, FactState, FactView, ProposalStatus, VerifyStatus } from './factTypes';

interface StoredDetail {
  readonly kind: string;
  readonly trust: FactTrust;
  readonly scope: FactScope;
  readonly provenance: FactProvenance;
  readonly citations: readonly FactCitation[];
  readonly promptVersion: string | null;
  readonly verifiedPromptVersion?: string;
}

/** Reads of the Facts read model's tables (factsModule.ts). */
export class FactQueries {
  constructor(private readonly db: Database) {}

  list(): FactView[] {
    const heads = this.headsByKey(this.rows(`${headColumns} ORDER BY key, seq`));
    return this.rows(`${factColumns} ORDER BY key`).map((row) => toFact(row, heads.get(String(row[0])) ?? []));
  }

  get(key: string): FactView | undefined {
    const row = this.rows(`${factColumns} WHERE key = ?`, [key])[0];
    return row ? toFact(row, this.rows(`${headColumns} WHERE key = ? ORDER BY seq`, [key]).map(toHead)) : undefined;
  }

  history(key: string): FactHistoryEntry[] {
    return this.rows('SELECT event_id, key, value, trust, writer_id, from_seq, from_ms, to_seq, to_ms, ended, ended_by FROM fact_history WHERE key = ? ORDER BY from_seq', [key]).map(toHistory);
  }

  /** What was believed at `ms` (event time): for each key, the values current then. */
  believedAt(ms: number): BeliefAt[] {
    const rows = this.rows(
      `SELECT key, value, from_seq FROM fact_history WHERE from_ms <= ? AND to_ms > ?
       UNION ALL SELECT key, value, seq FROM fact_heads WHERE wall_ms <= ?
       ORDER BY 1, 3`,
      [ms, ms, ms],
    );
    const beliefs = new Map<string, Array<string | null>>();
    for (const [key, value] of rows) {
      const values = beliefs.get(String(key)) ?? [];
      values.push(value === null ? null : String(value));
      beliefs.set(String(key), values);
    }
    return [...beliefs].map(([key, values]) => ({ key, values })).filter((belief) => belief.values.some((value) => value !== null));
  }

  proposals(status?: ProposalStatus): FactProposal[] {
    const where = status ? ' WHERE status = ?' : '';
    return this.rows(`SELECT proposal_id, event_id, key, value, trust, detail, reason, status, seq, wall_ms FROM fact_proposals${where} ORDER BY seq`, status ? [status] : []).map(toProposal);
  }

  proposal(proposalId: string): FactProposal | undefined {
    const row = this.rows('SELECT proposal_id, event_id, key, value, trust, detail, reason, status, seq, wall_ms FROM fact_proposals WHERE proposal_id = ?', [proposalId])[0];
    return row ? toProposal(row) : undefined;
  }

  private headsByKey(rows: SqlValue[][]): Map<string, HeadRow[]> {
    const byKey = new Map<string, HeadRow[]>();
    for (const row of rows) {
      const key = String(row[0]);
      const list = byKey.get(key) ?? [];
      list.push(toHead(row));
      byKey.set(key, list);
    }
    return byKey;
  }

  private rows(sql: string, params: SqlValue[] = []): SqlValue[][] {
    return this.db.exec(sql, params)[0]?.values ?? [];
  }
}

const factColumns = 'SELECT key, scope, state, pinned, used_ms, created_ms, updated_seq, updated_ms, (SELECT COUNT(*) FROM fact_history h WHERE h.key = facts.key) FROM facts';
const headColumns = 'SELECT key, event_id, value, trust, writer_id, dot, context, detail, seq, wall_ms, verify_status, verify_detail, verified_ms FROM fact_heads';

/** A head and the version vector its writer saw. */
interface HeadRow {
  readonly head: FactHead;
  readonly context: VersionVector;
}

function toHead(row: SqlValue[]): HeadRow {
  const [, eventId, value, trust, writerId, dot, context, detail, seq, wallMs, verifyStatus, verifyDetail, verifiedMs] = row;
  const parsed = JSON.parse(String(detail)) as StoredDetail;
  const head: FactHead = {
    eventId: String(eventId),
    value: value === null ? null : String(value),
    kind: parsed.kind,
    trust: String(trust) as FactTrust,
    scope: parsed.scope,
    provenance: parsed.provenance,
    citations: parsed.citations,
    promptVersion: parsed.promptVersion,
    verifiedPromptVersion: parsed.verifiedPromptVersion ?? null,
    writerId: String(writerId),
    dot: Number(dot),
    seq: Number(seq),
    wallMs: Number(wallMs),
    verifyStatus: String(verifyStatus) as VerifyStatus,
    verifyDetail: verifyDetail === null ? null : String(verifyDetail),
    verifiedMs: verifiedMs === null ? null : Number(verifiedMs),
  };
  return { head, context: JSON.parse(String(context)) as VersionVector };
}

function toFact(row: SqlValue[], rows: readonly HeadRow[]): FactView {
  const [key, scope, state, pinned, usedMs, createdMs, updatedSeq, updatedMs, historyCount] = row;
  // A writer that saw every head saw each one's context and its dot.
  const vector: Record<string, number> = {};
  for (const { head, context } of rows) {
    for (const [writer, count] of Object.entries(context)) {
      vector[writer] = Math.max(vector[writer] ?? 0, count);
    }
    vector[head.writerId] = Math.max(vector[head.writerId] ?? 0, head.dot);
  }
  return {
    key: String(key),
    scope: String(scope) as FactScope,
    state: String(state) as FactState,
    pinned: Number(pinned) === 1,
    vector,
    heads: rows.map((entry) => entry.head),
    createdMs: Number(createdMs),
    updatedSeq: Number(updatedSeq),
    updatedMs: Number(updatedMs),
    usedMs: usedMs === null ? null : Number(usedMs),
    stale: rows.some((entry) => entry.head.verifyStatus === 'stale'),
    historyCount: Number(historyCount),
  };
}

function toHistory(row: SqlValue[]): FactHistoryEntry {
  const [eventId, key, value, trust, writerId, fromSeq, fromMs, toSeq, toMs, ended, endedBy] = row;
  return {
    eventId: String(eventId),
    key: String(key),
    value: value === null ? null : String(value),
    trust: String(trust) as FactTrust,
    writerId: String(writerId),
    fromSeq: Number(fromSeq),
    fromMs: Number(fromMs),
    toSeq: Number(toSeq),
    toMs: Number(toMs),
    ended: String(ended) as FactHistoryEntry['ended'],
    endedBy: String(endedBy),
  };
}

function toProposal(row: SqlValue[]): FactProposal {
  const [proposalId, eventId, key, value, trust, detail, reason, status, seq, wallMs] = row;
  const parsed = JSON.parse(String(detail)) as StoredDetail;
  return {
    proposalId: String(proposalId),
    eventId: String(eventId),
    key: String(key),
    value: String(value),
    scope: parsed.scope,
    trust: String(trust) as FactTrust,
    provenance: parsed.provenance,
    citations: parsed.citations,
    promptVersion: parsed.promptVersion,
    reason: reason === null ? null : String(reason),
    status: String(status) as ProposalStatus,
    seq: Number(seq),
    wallMs: Number(wallMs),
  };
}
