import type { Database, Statement } from 'sql.js';
import { toStoredEvent, type JournalEvent } from '../log/events';
import type { JournalPosition, PositionedRecord } from '../log/journal';
import type { EventReader } from './eventReader';
import { moduleCoverageKey, moduleVersionKey, type ProjectionModule } from './modules/projectionModule';
import { iterateEvents } from './queries';
import { readVersion, runMigrations } from './schema';
import { Sequencer, type AppendVerdict } from './sequencer';

export type { AppendVerdict } from './sequencer';

/** What applying one journal slot did. */
export type SlotOutcome =
  | { readonly type: 'event'; readonly seq: number; readonly event: JournalEvent; readonly verdict: AppendVerdict }
  | { readonly type: 'control'; readonly seq: number }
  | { readonly type: 'damaged'; readonly seq: number };

/** A module's catch-up at open: it was new, or behind the log (filled from its coverage). */
export interface ModuleBackfill {
  readonly module: string;
  readonly fromSeq: number;
  readonly events: number;
}

/**
 * The store's projections: the sequencer (numbering and acceptance) and every read module,
 * applied slot by slot inside one transaction per batch, so a snapshot always holds a state
 * that some prefix of the journal produced.
 */
export class StoreProjections {
  readonly sequencer: Sequencer;
  private readonly begin: Statement;
  private readonly commitStatement: Statement;
  private readonly setMetaStatement: Statement;
  readonly backfills: ModuleBackfill[] = [];

  constructor(
    private readonly db: Database,
    readonly modules: readonly ProjectionModule[],
    private readonly reader: EventReader,
  ) {
    this.sequencer = new Sequencer(db);
    // Prepared once: BEGIN and COMMIT run on every append, and parsing them costs more than running them.
    this.begin = db.prepare('BEGIN');
    this.commitStatement = db.prepare('COMMIT');
    this.setMetaStatement = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    for (const module of modules) {
      const isNew = readVersion(this.db, moduleVersionKey(module)) === 0;
      runMigrations(db, moduleVersionKey(module), module.migrations);
      module.open(db);
      const coverage = isNew ? 0 : Number(this.readMeta(moduleCoverageKey(module)) ?? 0);
      if (coverage < this.sequencer.lastSeq) {
        this.backfills.push({ module: module.name, fromSeq: coverage, events: this.backfill(module, coverage) });
      }
    }
  }

  get lastSeq(): number {
    return this.sequencer.lastSeq;
  }

  /** Fills a module that is new to this store, or behind it, from the events it has not seen. */
  private backfill(module: ProjectionModule, afterSeq: number): number {
    const firstOfSession = this.db.prepare('SELECT MIN(seq) FROM events WHERE stream = (SELECT no FROM stream_names WHERE session_id = ?)');
    let applied = 0;
    this.begin.run();
    try {
      for (const event of iterateEvents(this.db, this.reader, afterSeq)) {
        firstOfSession.bind([event.sessionId]);
        firstOfSession.step();
        const first = Number(firstOfSession.get()[0]);
        firstOfSession.reset();
        // The first event of a session that is not its start: the start was lost to damage.
        const isStart = event.kind === 'session.started' || (event.kind === 'foreign' && event.body.kind === 'session.started');
        module.apply(event, { seq: event.seq, recoveredStart: first === event.seq && !isStart });
        applied++;
      }
      this.commitStatement.run();
    } catch (error) {
      this.db.exec('ROLLBACK');
      module.rolledBack();
      throw error;
    } finally {
      firstOfSession.free();
    }
    return applied;
  }

  beginBatch(): void {
    this.begin.run();
  }

  commit(): void {
    this.sequencer.saveCounter();
    this.commitStatement.run();
  }

  rollback(): void {
    this.db.exec('ROLLBACK');
    this.sequencer.rolledBack();
    for (const module of this.modules) {
      module.rolledBack();
    }
  }

  /** Applies one journal slot: every slot takes a sequence number, events get a verdict. */
  apply(record: PositionedRecord): SlotOutcome {
    const seq = this.sequencer.nextSlot();
    const place = { seq, segment: record.segment, offset: record.offset, length: record.length };
    if (record.type === 'damaged') {
      this.sequencer.damaged(place, record.damage, record.reason);
      return { type: 'damaged', seq };
    }
    const payload = record.payload;
    if ('control' in payload) {
      if (payload.control === 'void') {
        this.sequencer.markTorn(payload.segment, payload.offset, record.offset);
      }
      return { type: 'control', seq };
    }
    const { verdict, accepted } = this.sequencer.judge(payload, place);
    if (accepted) {
      this.reader.remember(seq, payload, record.length);
      const event = toStoredEvent(payload, seq);
      for (const module of this.modules) {
        module.apply(event, accepted);
      }
    }
    return { type: 'event', seq, event: payload, verdict };
  }

  /** Records what the database covers; written just before a snapshot is exported. */
  recordCoverage(position: JournalPosition, hlc: string): void {
    this.setMeta('journalSegment', String(position.segment));
    this.setMeta('journalOffset', String(position.offset));
    this.setMeta('hlc', hlc);
    for (const module of this.modules) {
      this.setMeta(moduleCoverageKey(module), String(this.lastSeq));
    }
    this.sequencer.saveCounter();
  }

  setMeta(key: string, value: string): void {
    this.setMetaStatement.run([key, value]);
  }

  private readMeta(key: string): string | undefined {
    const value = this.db.exec('SELECT value FROM meta WHERE key = ?', [key])[0]?.values[0]?.[0];
    return value === undefined || value === null ? undefined : String(value);
  }

  dispose(): void {
    this.sequencer.dispose();
    for (const module of this.modules) {
      module.close();
    }
    this.begin.free();
    this.commitStatement.free();
    this.setMetaStatement.free();
  }
}

/** Digests of what a journal produced: the log tables and each module's tables. */
export function digestProjections(db: Database, modules: readonly ProjectionModule[]): Map<string, string> {
  const digests = new Map<string, string>();
  const scalar = (sql: string): string => String(db.exec(sql)[0]?.values[0]?.[0] ?? '');
  // Names, not their numbers: a migrated database and a replay agree on names whatever numbers they gave.
  digests.set('events', scalar("SELECT COUNT(*) || '|' || COALESCE(group_concat(seq || ':' || hex(id) || ':' || session_id || ':' || kind || ':' || length, ','), '') FROM (SELECT e.seq, e.id, n.session_id, k.kind, e.length FROM events e JOIN stream_names n ON n.no = e.stream JOIN kinds k ON k.no = e.kind ORDER BY e.seq)"));
  digests.set('rejected appends', scalar("SELECT COUNT(*) || '|' || COALESCE(group_concat(seq || ':' || id, ','), '') FROM (SELECT seq, id FROM rejected_appends ORDER BY seq)"));
  digests.set('damaged slots', scalar("SELECT COUNT(*) || '|' || COALESCE(group_concat(seq || ':' || torn, ','), '') FROM (SELECT seq, torn FROM damaged_slots ORDER BY seq)"));
  digests.set('streams', scalar("SELECT COALESCE(group_concat(session_id || ':' || version || ':' || last_seq || ':' || closed, ','), '') FROM (SELECT * FROM streams ORDER BY session_id)"));
  for (const module of modules) {
    digests.set(`module ${module.name}`, module.digest(db));
  }
  return digests;
}
