import type { Ledger } from '../ledger';
import type { EventDraft, StoredEvent } from '../log/events';
import type { AppendVerdict } from '../store/projection';

// How a chat turn writes to the log. Every event of a turn has an id made from the chat
// request's id, its role and its model round, so a send that runs again (a resend after an
// engine restart, a reload) logs nothing twice: the log keeps the first copy of an id.
// The turn's first append carries the session version the turn started from; another engine
// that wrote first (a question of its own, a close) makes it a conflict, caught across engines.

export const turnIds = {
  session: (requestId: string) => `chat:${requestId}:session`,
  user: (requestId: string) => `chat:${requestId}:user`,
  receipt: (requestId: string, round: number) => `chat:${requestId}:receipt:${round}`,
  assistant: (requestId: string, round: number) => `chat:${requestId}:assistant:${round}`,
  toolUse: (requestId: string, round: number, index: number) => `chat:${requestId}:tool.use:${round}:${index}`,
  toolResult: (requestId: string, round: number, index: number) => `chat:${requestId}:tool.result:${round}:${index}`,
  superseded: (requestId: string, index: number) => `chat:${requestId}:superseded:${index}`,
  failed: (requestId: string) => `chat:${requestId}:failed`,
};

/** The prefix of every event id of one chat request. */
export function turnIdPrefix(requestId: string): string {
  return `chat:${requestId}:`;
}

/**
 * Another writer got to the session first (it closed it, or asked or answered in it), or this
 * request already ran (its first event is in the log: a resend).
 */
export class TurnConflictError extends Error {
  override readonly name = 'TurnConflictError';

  constructor(
    readonly reason: 'closed' | 'concurrent' | 'repeated',
    detail: string,
  ) {
    super(detail);
  }
}

const contentKinds = new Set(['message.user', 'message.assistant', 'tool.use', 'tool.result']);

/** The appends of one turn, with the version check on the first and a watch for other writers. */
export class TurnLog {
  private expectedVersion: number | null;
  private lastSeq: number;

  constructor(
    private readonly ledger: Ledger,
    readonly sessionId: string,
    readonly requestId: string,
    start: { readonly version: number; readonly lastSeq: number },
  ) {
    this.expectedVersion = start.version;
    this.lastSeq = start.lastSeq;
  }

  /** Appends one batch atomically; throws TurnConflictError when another writer came between. */
  async append(drafts: readonly EventDraft[]): Promise<AppendVerdict[]> {
    this.checkForeignContent();
    const gate = this.expectedVersion;
    // Only the first append of the turn is gated: after it, the turn is in the log for every
    // engine to see, and a pin or a rename meanwhile must not end the turn.
    const batch = gate === null ? drafts : drafts.map((draft, index) => (index === 0 ? { ...draft, expectedVersion: gate } : draft));
    const verdicts = await this.ledger.append(batch);
    this.expectedVersion = null;
    if (gate !== null && verdicts[0]?.status === 'duplicate') {
      throw new TurnConflictError('repeated', `Request ${this.requestId} already ran in this session; it is not run twice.`);
    }
    for (const verdict of verdicts) {
      if (verdict.status === 'conflict') {
        const session = this.ledger.getSession(this.sessionId);
        if (!session || session.closed) {
          throw new TurnConflictError('closed', 'This session was closed (in another window or by the CLI) before the turn could be logged.');
        }
        throw new TurnConflictError('concurrent', 'Another window wrote to this session at the same moment; this message was not sent so the two would not interleave.');
      }
      if (verdict.status === 'appended') {
        this.lastSeq = Math.max(this.lastSeq, verdict.seq);
      }
    }
    return verdicts;
  }

  /** Throws if someone else's question or answer reached the session since this turn's last append. */
  checkForeignContent(): void {
    const session = this.ledger.getSession(this.sessionId);
    if (!session || session.lastSeq <= this.lastSeq) {
      return;
    }
    const newer = this.ledger.readSession(this.sessionId, { fromSeq: this.lastSeq + 1 });
    this.lastSeq = session.lastSeq;
    const prefix = turnIdPrefix(this.requestId);
    const foreign = newer.find((event: StoredEvent) => contentKinds.has(event.kind) && !event.id.startsWith(prefix));
    if (foreign) {
      throw new TurnConflictError('concurrent', `Another window answered in this session while this turn ran (event ${foreign.id}); the turn was stopped so the two answers would not interleave.`);
    }
    if (session.closed) {
      throw new TurnConflictError('closed', 'This session was closed (in another window or by the CLI) while the answer streamed.');
    }
  }

  /** Appends without the conflict watch (the record of how the turn ended). */
  async record(drafts: readonly EventDraft[]): Promise<AppendVerdict[]> {
    return this.ledger.append(drafts);
  }
}

/** Another chat request's question still being answered at the end of a session's events. */
export interface OpenTurn {
  readonly requestId: string;
  readonly askedMs: number;
}

/**
 * The newest question of `events` (a session's tail, in seq order) when it belongs to another
 * chat request whose turn has not ended (no final answer, no cut answer, no `turn.failed`) and
 * was asked less than `openForMs` ago: a turn lasts at most that long, so an older one was
 * abandoned by an engine that died. A question asked meanwhile would interleave with its answer.
 * Questions of `ownWriterId` never count: this engine knows its own running turns, so one of its
 * questions with no running turn was left by an engine before it (a crash).
 */
export function openTurnOfOthers(events: readonly StoredEvent[], requestId: string, ownWriterId: string, nowMs: number, openForMs: number): OpenTurn | null {
  let questionIndex = -1;
  for (let index = events.length - 1; index >= 0; index--) {
    if (events[index]!.kind === 'message.user') {
      questionIndex = index;
      break;
    }
  }
  const question = events[questionIndex];
  const other = question ? /^chat:([^:]+):user$/.exec(question.id)?.[1] : undefined;
  if (!question || !other || other === requestId || question.writerId === ownWriterId || nowMs - question.wallMs >= openForMs) {
    return null;
  }
  const prefix = turnIdPrefix(other);
  const ended = events.slice(questionIndex + 1).some((event) => event.id.startsWith(prefix) && (event.kind === 'turn.failed' || (event.kind === 'message.assistant' && (event.body.incomplete === true || event.body.stopReason !== 'tool_use'))));
  return ended ? null : { requestId: other, askedMs: question.wallMs };
}

/** The verdict's id, or an error saying why the log refused the event. */
export function acceptedId(verdict: AppendVerdict | undefined, kind: string): string {
  if (!verdict || verdict.status === 'conflict') {
    throw new Error(`the log refused the ${kind} event: ${verdict?.status === 'conflict' ? verdict.reason : 'no verdict'}`);
  }
  return verdict.id;
}
