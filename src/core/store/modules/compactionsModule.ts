import type { Database, Statement } from 'sql.js';
import type { StoredEvent } from '../../log/events';
import type { AcceptedEvent } from '../sequencer';
import type { ProjectionModule } from './projectionModule';

/** One compaction as the read model keeps it; its summary and trail stay in the journal (read by seq). */
export interface CompactionRow {
  readonly id: string;
  readonly sessionId: string;
  readonly seq: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstTurn: number;
  readonly lastTurn: number;
  readonly tier: string;
  readonly model: string;
  readonly summaryTokens: number;
  readonly sourceTokens: number;
  /** The seq of the compaction.undone that took it back, null while it is in force. */
  readonly undoneSeq: number | null;
}

/**
 * The Compactions read model: every committed compaction per session and whether it was undone.
 * An undo names a compaction of its own session; one that names anything else changes nothing.
 */
export class CompactionsModule implements ProjectionModule {
  readonly name = 'compactions';
  readonly migrations = [
    {
      version: 1,
      description: 'compactions',
      sql: `
        CREATE TABLE compactions (
          id TEXT PRIMARY KEY,
          session_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          first_seq INTEGER NOT NULL,
          last_seq INTEGER NOT NULL,
          first_turn INTEGER NOT NULL,
          last_turn INTEGER NOT NULL,
          tier TEXT NOT NULL,
          model TEXT NOT NULL,
          summary_tokens INTEGER NOT NULL,
          source_tokens INTEGER NOT NULL,
          undone_seq INTEGER
        );
        CREATE INDEX compactions_by_session ON compactions (session_id, seq);
      `,
    },
  ];
  private statements: { insert: Statement; undo: Statement } | undefined;

  open(db: Database): void {
    this.statements = {
      insert: db.prepare(
        'INSERT OR IGNORE INTO compactions (id, session_id, seq, first_seq, last_seq, first_turn, last_turn, tier, model, summary_tokens, source_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      undo: db.prepare('UPDATE compactions SET undone_seq = ? WHERE id = ? AND session_id = ? AND undone_seq IS NULL'),
    };
  }

  apply(event: StoredEvent, _accepted: AcceptedEvent): void {
    const statements = this.statements!;
    if (event.kind === 'compaction.committed') {
      const { range } = event.body;
      statements.insert.run([event.id, event.sessionId, event.seq, range.firstSeq, range.lastSeq, range.firstTurn, range.lastTurn, event.body.tier, event.body.model, event.body.summaryTokens, event.body.sourceTokens]);
    } else if (event.kind === 'compaction.undone') {
      statements.undo.run([event.seq, event.body.compactionId, event.sessionId]);
    }
  }

  rolledBack(): void {
    // No cached state.
  }

  digest(db: Database): string {
    return String(
      db.exec(
        "SELECT COALESCE(group_concat(id || ':' || session_id || ':' || seq || ':' || first_seq || '-' || last_seq || ':' || tier || ':' || model || ':' || summary_tokens || ':' || COALESCE(undone_seq, '-'), ','), '') FROM (SELECT * FROM compactions ORDER BY seq)",
      )[0]?.values[0]?.[0] ?? '',
    );
  }

  close(): void {
    for (const statement of Object.values(this.statements ?? {})) {
      statement.free();
    }
    this.statements = undefined;
  }
}

/** A session's compactions, oldest first: those in force, or every one with `includeUndone`. */
export function listCompactions(db: Database, sessionId: string, includeUndone = false): CompactionRow[] {
  const statement = db.prepare(
    `SELECT id, session_id, seq, first_seq, last_seq, first_turn, last_turn, tier, model, summary_tokens, source_tokens, undone_seq FROM compactions WHERE session_id = ?${includeUndone ? '' : ' AND undone_seq IS NULL'} ORDER BY seq`,
  );
  try {
    statement.bind([sessionId]);
    const rows: CompactionRow[] = [];
    while (statement.step()) {
      const [id, session, seq, firstSeq, lastSeq, firstTurn, lastTurn, tier, model, summaryTokens, sourceTokens, undoneSeq] = statement.get();
      rows.push({
        id: String(id),
        sessionId: String(session),
        seq: Number(seq),
        firstSeq: Number(firstSeq),
        lastSeq: Number(lastSeq),
        firstTurn: Number(firstTurn),
        lastTurn: Number(lastTurn),
        tier: String(tier),
        model: String(model),
        summaryTokens: Number(summaryTokens),
        sourceTokens: Number(sourceTokens),
        undoneSeq: undoneSeq === null ? null : Number(undoneSeq),
      });
    }
    return rows;
  } finally {
    statement.free();
  }
}
