import type { Database, Statement } from 'sql.js';
import type { StoredEvent } from '../../log/events';
import { promptStreamId } from '../../log/systemStreams';
import type { AcceptedEvent } from '../sequencer';
import type { ProjectionModule } from './projectionModule';

export interface PromptVersion {
  /** 1, 2, 3, ...: the order versions were recorded in the log. */
  readonly version: number;
  readonly digest: string;
  readonly previousDigest: string | null;
  readonly eventId: string;
  readonly seq: number;
  readonly wallMs: number;
  /** Each source's path and digest (the texts stay in the journal, in the event). */
  readonly sources: ReadonlyArray<{ readonly path: string; readonly digest: string }>;
}

/**
 * The Prompt Versions read model: every version of the effective system prompt, numbered in
 * log order, and the current one (the highest). A `prompt.version` whose digest is the current
 * one's changes nothing, so a repeated observation (two windows, a retry) never makes a version.
 */
export class PromptVersionsModule implements ProjectionModule {
  readonly name = 'promptVersions';
  readonly migrations = [
    {
      version: 1,
      description: 'prompt versions',
      sql: `
        CREATE TABLE prompt_versions (
          version INTEGER PRIMARY KEY,
          digest TEXT NOT NULL,
          previous_digest TEXT,
          event_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          wall_ms INTEGER NOT NULL,
          sources TEXT NOT NULL
        );
      `,
    },
  ];
  private db: Database | undefined;
  private insert: Statement | undefined;
  // The current version, cached: read on every prompt.version and every chat request.
  private currentCache: PromptVersion | null | undefined;

  open(db: Database): void {
    this.db = db;
    this.insert = db.prepare('INSERT INTO prompt_versions (version, digest, previous_digest, event_id, seq, wall_ms, sources) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.currentCache = undefined;
  }

  apply(event: StoredEvent, _accepted: AcceptedEvent): void {
    if (event.kind !== 'prompt.version' || event.sessionId !== promptStreamId) {
      return;
    }
    const current = this.current();
    if (current?.digest === event.body.digest) {
      return;
    }
    const row: PromptVersion = {
      version: (current?.version ?? 0) + 1,
      digest: event.body.digest,
      previousDigest: event.body.previousDigest,
      eventId: event.id,
      seq: event.seq,
      wallMs: event.wallMs,
      sources: event.body.sources.map((source) => ({ path: source.path, digest: source.digest })),
    };
    this.insert!.run([row.version, row.digest, row.previousDigest, row.eventId, row.seq, row.wallMs, JSON.stringify(row.sources)]);
    this.currentCache = row;
  }

  rolledBack(): void {
    this.currentCache = undefined;
  }

  /** The newest version, or null before the first. */
  current(): PromptVersion | null {
    if (this.currentCache === undefined) {
      this.currentCache = this.query('ORDER BY version DESC LIMIT 1')[0] ?? null;
    }
    return this.currentCache;
  }

  list(): PromptVersion[] {
    return this.query('ORDER BY version');
  }

  get(version: number): PromptVersion | undefined {
    return this.query('WHERE version = ?', [version])[0];
  }

  private query(clause: string, params: number[] = []): PromptVersion[] {
    const rows = this.db!.exec(`SELECT version, digest, previous_digest, event_id, seq, wall_ms, sources FROM prompt_versions ${clause}`, params)[0]?.values ?? [];
    return rows.map(([version, digest, previous, eventId, seq, wallMs, sources]) => ({
      version: Number(version),
      digest: String(digest),
      previousDigest: previous === null ? null : String(previous),
      eventId: String(eventId),
      seq: Number(seq),
      wallMs: Number(wallMs),
      sources: JSON.parse(String(sources)) as PromptVersion['sources'],
    }));
  }

  digest(db: Database): string {
    return String(db.exec("SELECT COALESCE(group_concat(version || ':' || digest || ':' || event_id || ':' || seq || ':' || sources, ','), '') FROM (SELECT * FROM prompt_versions ORDER BY version)")[0]?.values[0]?.[0] ?? '');
  }

  close(): void {
    this.insert?.free();
    this.insert = undefined;
    this.db = undefined;
    this.currentCache = undefined;
  }
}
