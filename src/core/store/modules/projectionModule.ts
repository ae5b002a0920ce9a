import type { Database } from 'sql.js';
import type { StoredEvent } from '../../log/events';
import type { AcceptedEvent } from '../sequencer';
import type { Migration } from '../schema';

/**
 * A read model of the log: it owns its tables and their migrations, and is applied event by
 * event in the same transaction as the sequence numbers it covers. Its rules must use only the
 * events (never the clock or the writer), so every engine builds the same tables. Compactions,
 * facts and prompt versions each become one of these.
 */
export interface ProjectionModule {
  /** Unique and stable: its version and coverage live in `meta` under `module.<name>`. */
  readonly name: string;
  readonly migrations: readonly Migration[];
  /** Prepares statements; called after its migrations ran. */
  open(db: Database): void;
  /**
   * Applies one accepted event. Events of kinds this version cannot read arrive as `foreign`;
   * a module ignores what it does not know.
   */
  apply(event: StoredEvent, accepted: AcceptedEvent): void;
  /** Forgets cached state after a rolled-back transaction. */
  rolledBack(): void;
  /** A digest of its tables: the same journal gives the same digest (compared by `verify`). */
  digest(db: Database): string;
  /** Problems its tables show on their own (verify), e.g. sessions recovered without a start. */
  describeDamage?(db: Database): string[];
  close(): void;
}

export function moduleVersionKey(module: ProjectionModule): string {
  return `module.${module.name}`;
}

export function moduleCoverageKey(module: ProjectionModule): string {
  return `module.${module.name}.seq`;
}
