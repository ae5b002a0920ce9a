import type { ChatErrorInfo, ChatProgress, ChatSendResult } from '../../shared/chatProtocol';
import type { TranscriptEntry } from '../../shared/chatPanelMessages';
import type { EngineClient } from '../engineClient';
import type { StoreFollower } from './storeFollower';
import { toTranscript, withErrors, withoutStaleRetries, type ShownError } from './transcript';

// A chat panel's transcript plumbing: what it reads from the log for the session it shows, the
// errors it shows that the log does not hold, and the logged questions a Retry answers again. Apart from chatPanel.ts (the webview, the
// shown session and the streaming send), which asks this for the rows to post.

/** Events of a session the panel loads (its newest); older ones stay in the log. */
export const transcriptEventLimit = 2000;
/** Where errors shown in a new chat (no session yet) are kept. */
export const newSessionKey = '';

/** A send of this panel that has not finished. */
export interface RunningTurn {
  readonly requestId: string;
  readonly sessionId: string;
  readonly userText: string;
  /** The session's last seq before the send: the log after it is this turn, shown live (null: not read yet). */
  lastSeqBefore: number | null;
  readonly progress: ChatProgress[];
  /** Stop was pressed; the engine may not have the send yet. */
  stopRequested?: boolean;
}

export class PanelTranscript {
  private readonly shownErrors = new Map<string, ShownError[]>();
  /** Failed sends whose question is in the log, by request id: what Retry answers again. */
  private readonly loggedQuestions = new Map<string, string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly follower: StoreFollower,
  ) {}

  /** The transcript from the log, without a running turn's events, with the errors shown. */
  async load(sessionId: string | null, runningTurn: RunningTurn | null): Promise<TranscriptEntry[]> {
    const errors = this.shownErrors.get(sessionId ?? newSessionKey) ?? [];
    if (sessionId === null) {
      return errors.map((shown) => shown.entry);
    }
    const running = runningTurn?.sessionId === sessionId ? runningTurn : null;
    // A long session shows its recent part; the log keeps the rest (the CLI shows it all).
    const { session, events } = await this.engine.readSession({
      sessionId,
      range: { last: transcriptEventLimit, ...(running && running.lastSeqBefore !== null ? { toSeq: running.lastSeqBefore } : {}) },
    });
    this.follower.shownUpTo(events.at(-1)?.seq ?? 0);
    const transcript = withoutStaleRetries(withErrors(toTranscript(events), errors));
    const cut = events.length >= transcriptEventLimit && (session?.eventCount ?? 0) > events.length;
    if (!cut || !session) {
      return transcript;
    }
    // The session's count includes a running turn's question, which this read leaves out.
    const loadedTurns = events.filter((event) => event.kind === 'message.user').length + (running ? 1 : 0);
    return [{ kind: 'earlier', shownEvents: events.length, turnsBefore: Math.max(0, session.turnCount - loadedTurns) }, ...transcript];
  }

  /** Keeps a failed send's error in the conversation (the log has no `turn.failed` for it). */
  async keepError(sessionId: string | null, requestId: string, userEventId: string | null, error: ChatErrorInfo, retryText: string): Promise<void> {
    const key = sessionId ?? newSessionKey;
    const after = userEventId === null && sessionId !== null ? await this.lastEventId(sessionId) : null;
    const list = this.shownErrors.get(key) ?? [];
    list.push({ turnOf: userEventId, after, entry: { kind: 'error', requestId, error, retryText } });
    this.shownErrors.set(key, list.slice(-50));
  }

  /** Errors shown under one key (a new chat) now belong to another (the session it became). */
  moveErrors(from: string, to: string): void {
    const errors = this.shownErrors.get(from);
    if (errors) {
      this.shownErrors.delete(from);
      this.shownErrors.set(to, [...(this.shownErrors.get(to) ?? []), ...errors]);
    }
  }

  rememberQuestion(failedRequestId: string, userEventId: string): void {
    this.loggedQuestions.set(failedRequestId, userEventId);
  }

  /** The logged question a failed request asked: remembered, else from its `turn.failed` event. */
  async questionOf(sessionId: string, failedRequestId: string): Promise<string | undefined> {
    const known = this.loggedQuestions.get(failedRequestId);
    if (known) {
      return known;
    }
    const { events } = await this.engine.readSession({ sessionId, range: { last: transcriptEventLimit } });
    const failedTurn = events.find((event) => event.kind === 'turn.failed' && event.body.requestId === failedRequestId);
    return failedTurn?.kind === 'turn.failed' ? (failedTurn.body.userEventId ?? undefined) : undefined;
  }

  private async lastEventId(sessionId: string): Promise<string | null> {
    try {
      return (await this.engine.readSession({ sessionId, range: { last: 1 } })).events[0]?.id ?? null;
    } catch {
      return null;
    }
  }
}

export function failedResult(error: ChatErrorInfo): ChatSendResult {
  return { status: 'failed', userEventId: null, assistantEventId: null, receipt: null, error, failureEventId: null };
}

export function failure(kind: ChatErrorInfo['kind'], message: string, action: string): ChatErrorInfo {
  return { kind, message, action, requestId: null, status: null };
}
