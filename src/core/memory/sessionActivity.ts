import { eventTimeMs } from '../import/sourceTime';
import type { Ledger, SessionSummary } from '../ledger';
import type { StoredEvent } from '../log/events';

// When a session's conversation happened, for the lists that show and order sessions by it.
// The Sessions read model keeps the writer's clock (an imported session's rows say when it was
// imported); the events of an import carry their record's own time (`sourceTimeMs`). This reads
// the first and the newest events of each session (cached per session version) and takes their
// own times, so an imported session sits where its conversation happened.

export interface SessionWithActivity extends SessionSummary {
  /** The times come from the source transcript (an imported session), not this store's clock. */
  readonly activityFromSource: boolean;
}

/** Events that record the import itself, not the conversation: they do not count as activity. */
const bookkeepingKinds: ReadonlySet<string> = new Set(['import.cursor']);
/** Events looked at from each end of a session (an import batch ends with one cursor). */
const edgeEvents = 16;

interface Cached {
  readonly version: number;
  readonly startedMs: number;
  readonly lastActivityMs: number;
  readonly fromSource: boolean;
}

export class SessionActivity {
  private readonly cache = new Map<string, Cached>();
  private readonly started = new Map<string, { ms: number; fromSource: boolean }>();

  constructor(private readonly ledger: Ledger) {}

  /** The session with its start and last activity at its events' own times. */
  of(session: SessionSummary): SessionWithActivity {
    const cached = this.cache.get(session.id);
    if (cached && cached.version === session.version) {
      return { ...session, startedMs: cached.startedMs, lastActivityMs: cached.lastActivityMs, activityFromSource: cached.fromSource };
    }
    const start = this.startOf(session);
    const last = ownTime(this.ledger.readSession(session.id, { last: edgeEvents }), 'latest');
    const lastActivityMs = last?.ms ?? session.lastActivityMs;
    const fromSource = last?.fromSource ?? false;
    this.cache.set(session.id, { version: session.version, startedMs: start.ms, lastActivityMs, fromSource });
    return { ...session, startedMs: start.ms, lastActivityMs, activityFromSource: fromSource };
  }

  /** Sessions newest activity first (ties: the order given, which is newest in the log first). */
  list(sessions: readonly SessionSummary[]): SessionWithActivity[] {
    return sessions
      .map((session, order) => ({ session: this.of(session), order }))
      .sort((a, b) => b.session.lastActivityMs - a.session.lastActivityMs || a.order - b.order)
      .map(({ session }) => session);
  }

  private startOf(session: SessionSummary): { ms: number; fromSource: boolean } {
    const known = this.started.get(session.id);
    if (known) {
      return known;
    }
    // The first events never change: read them once (their seqs from the index, then the bodies).
    const seqs = this.ledger.sessionEventKeys(session.id).seqs;
    const head = seqs.length === 0 ? [] : this.ledger.readSession(session.id, { fromSeq: seqs[0]!, toSeq: seqs[Math.min(seqs.length, edgeEvents) - 1]! });
    const start = ownTime(head, 'earliest') ?? { ms: session.startedMs, fromSource: false };
    if (seqs.length >= edgeEvents) {
      this.started.set(session.id, start);
    }
    return start;
  }
}

/**
 * The earliest or latest own time of events that are part of the conversation. Where some carry
 * a source time only those count for the earliest: the others at an import's start (its session
 * start) were written at import time, not when the conversation happened. The latest follows the
 * newest such event: imported (the newest source time) or written here (its time), so a session
 * continued in the chat after its import is as new as its newest turn.
 */
export function ownTime(events: readonly StoredEvent[], which: 'earliest' | 'latest'): { ms: number; fromSource: boolean } | undefined {
  const times = events.filter((event) => !bookkeepingKinds.has(event.kind === 'foreign' ? event.body.kind : event.kind)).map(eventTimeMs);
  const newest = times.at(-1);
  if (!newest) {
    return undefined;
  }
  const sourced = times.filter((time) => time.fromSource);
  const counted = which === 'latest' ? times.filter((time) => time.fromSource === newest.fromSource) : sourced.length > 0 ? sourced : times;
  const pick = which === 'earliest' ? Math.min : Math.max;
  return { ms: pick(...counted.map((time) => time.ms)), fromSource: counted[0]!.fromSource };
}

const perLedger = new WeakMap<Ledger, SessionActivity>();

/** The ledger's SessionActivity (one per open store, so its cache follows that store). */
export function sessionActivityOf(ledger: Ledger): SessionActivity {
  let activity = perLedger.get(ledger);
  if (!activity) {
    activity = new SessionActivity(ledger);
    perLedger.set(ledger, activity);
  }
  return activity;
}
