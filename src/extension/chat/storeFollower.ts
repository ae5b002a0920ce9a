import type { StoreChangedParams } from '../../shared/engineProtocol';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';

/** What a panel tells the follower, and what the follower asks the panel to do. */
export interface FollowedPanel {
  /** The session the panel shows (null: a new chat). */
  sessionId(): string | null;
  /** The webview is there and no turn of this panel is running: a re-read may replace what it shows. */
  canRefresh(): boolean;
  postSessions(): Promise<void>;
  /** Re-read the shown session and post it, keeping the reader's place. */
  refreshShownSession(sessionId: string): Promise<void>;
  warn(message: string): void;
}

/**
 * A chat panel's view of other writers: the session list after any change to the store, and the
 * shown session when someone else (another window, the CLI) wrote to it. Its own turns, which
 * the webview has streamed already, never cause a re-read. Debounced: a burst of appends is one
 * refresh.
 */
export class StoreFollower extends Disposable {
  private sessionsTimer: NodeJS.Timeout | undefined;
  private transcriptTimer: NodeJS.Timeout | undefined;
  /** The newest seq of the shown session that the webview has. */
  private shownLastSeq = 0;
  /** Chat requests the panel sent: their events are not another writer's. */
  private readonly ownRequestIds = new Set<string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly panel: FollowedPanel,
  ) {
    super();
    this.register(engine.onDidChangeStore((change) => this.onChange(change)));
  }

  /** The panel sends a chat request. */
  noteOwnRequest(requestId: string): void {
    this.ownRequestIds.add(requestId);
  }

  /** The panel shows another session: what it has of it starts again from nothing. */
  sessionChanged(): void {
    this.shownLastSeq = 0;
  }

  /** The panel posted the shown session's events up to `lastSeq`. */
  shownUpTo(lastSeq: number): void {
    this.shownLastSeq = Math.max(this.shownLastSeq, lastSeq);
  }

  private onChange(change: StoreChangedParams): void {
    this.sessionsTimer ??= setTimeout(() => {
      this.sessionsTimer = undefined;
      void this.panel.postSessions().catch((error: unknown) => this.panel.warn(`chat panel: could not list sessions: ${String(error)}`));
    }, 250);
    const sessionId = this.panel.sessionId();
    if (sessionId !== null && change.sessionIds.includes(sessionId)) {
      this.transcriptTimer ??= setTimeout(() => {
        this.transcriptTimer = undefined;
        void this.refreshIfOthersWrote().catch((error: unknown) => this.panel.warn(`chat panel: could not reload the session: ${String(error)}`));
      }, 300);
    }
  }

  private async refreshIfOthersWrote(): Promise<void> {
    const sessionId = this.panel.sessionId();
    if (sessionId === null || !this.panel.canRefresh()) {
      return;
    }
    // The newest few are enough to tell: one event of another writer among them means a re-read.
    const { events } = await this.engine.readSession({ sessionId, range: { fromSeq: this.shownLastSeq + 1, last: 500 } });
    const ours = (id: string): boolean => [...this.ownRequestIds].some((requestId) => id.startsWith(`chat:${requestId}:`));
    if (events.every((event) => ours(event.id))) {
      // The panel's own turn: the webview streamed it already.
      this.shownUpTo(events.at(-1)?.seq ?? 0);
      return;
    }
    if (this.panel.canRefresh() && this.panel.sessionId() === sessionId) {
      await this.panel.refreshShownSession(sessionId);
    }
  }

  override dispose(): void {
    clearTimeout(this.sessionsTimer);
    clearTimeout(this.transcriptTimer);
    super.dispose();
  }
}
