import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { ChatErrorInfo, ChatProgress, ChatSendResult } from '../../shared/chatProtocol';
import { CompactionNotifications } from '../../shared/compactionProtocol';
import {
  type ChatViewState,
  type HostMessage,
  type InFlightTurn,
  type PanelCommand,
  type PanelConfig,
  type PanelSnapshot,
  type TranscriptEntry,
  type WebviewMessage,
  parseWebviewMessage,
} from '../../shared/chatPanelMessages';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import type { ActiveChat } from './activeChat';
import type { ApiKeyStore } from './apiKey';
import type { ChatHost } from './chatHosts';
import { chatHtml } from './chatHtml';
import { StoreFollower } from './storeFollower';
import { windowLabel, type ResolvedChatSettings } from './chatSettings';
import { PanelRequests } from './panelRequests';
import { PanelTranscript, failedResult, failure, newSessionKey, type RunningTurn } from './panelTranscript';
import { lastReceipt, sessionNameFromText, toSessionItem } from './transcript';

/** What a panel needs from the rest of the extension. */
export interface ChatPanelServices {
  readonly engine: EngineClient;
  readonly keys: ApiKeyStore;
  readonly activeChat: ActiveChat;
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  readSettings(): ResolvedChatSettings;
  /** Inserts into the last active text editor; resolves to a problem in words, or null. */
  insertCode(code: string): Promise<string | null>;
  /** Opens a workspace file by its relative path; resolves to a problem in words, or null. */
  openFile(path: string, line?: number): Promise<string | null>;
  runCommand(command: PanelCommand): Promise<void>;
}

const maxPostedLog = 2000;
const receiptSearchEvents = 500;

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * The controller of one chat webview, in an editor tab or the side-bar view (its `host`). The
 * webview is recreated whenever it is hidden (retainContextWhenHidden is off), so this side
 * holds what must survive that: the session shown, a send still streaming, and the errors
 * shown. Nothing is posted before the webview's `ready`; its answer, `init`, carries everything.
 * What it reads from the log and the errors it keeps are in panelTranscript.ts; the one-shot
 * requests (copy, insert, rename, undo a compaction…) in panelRequests.ts.
 */
export class ChatPanel extends Disposable {
  private ready = false;
  private readyWaiters: Array<() => void> = [];
  private sessionId: string | null;
  private running: RunningTurn | null = null;
  private readonly postedLog: HostMessage[] = [];
  private readonly postedEmitter = this.register(new vscode.EventEmitter<HostMessage>());
  private readonly disposedEmitter = this.register(new vscode.EventEmitter<void>());
  private readonly follower: StoreFollower;
  private readonly transcript: PanelTranscript;
  private readonly requests: PanelRequests;
  private rejected = 0;
  /** An automatic compaction of the shown session arrived while a turn ran: shown when it ends. */
  private compactedWhileRunning = false;
  /** Every message posted to the webview (tests read it through the extension's API). */
  readonly onDidPost = this.postedEmitter.event;
  readonly onDidDispose = this.disposedEmitter.event;

  private readonly focusedEmitter = this.register(new vscode.EventEmitter<void>());
  /** The user turned to this chat (its tab became active, or the view was shown). */
  readonly onDidFocus = this.focusedEmitter.event;

  constructor(
    readonly host: ChatHost,
    private readonly services: ChatPanelServices,
    state: ChatViewState,
  ) {
    super();
    this.sessionId = state.sessionId;
    host.webview.options = webviewOptions(services.extensionUri);
    host.webview.html = this.html(state);
    this.register(host.webview.onDidReceiveMessage((message: unknown) => this.receive(message)));
    this.register(
      host.onDidChangeView(({ visible, focused }) => {
        if (!visible) {
          // The webview is torn down when hidden; it says `ready` again when shown.
          this.ready = false;
        }
        if (focused) {
          this.focusedEmitter.fire();
          void this.publishActiveSession();
        }
      }),
    );
    this.register(host.onDidDispose(() => this.dispose()));
    this.register(services.engine.onChatProgress(({ requestId, progress }) => this.onProgress(requestId, progress)));
    this.follower = this.register(
      new StoreFollower(services.engine, {
        sessionId: () => this.sessionId,
        canRefresh: () => this.ready && !this.running,
        postSessions: () => this.postSessions(),
        refreshShownSession: (sessionId) => this.selectSession(null, sessionId, true),
        warn: (message) => services.log.warn(message),
      }),
    );
    this.transcript = new PanelTranscript(services.engine, this.follower);
    this.requests = new PanelRequests({
      services,
      post: (message) => this.post(message),
      reveal: () => this.host.reveal(),
      postSessions: () => this.postSessions(),
      reloadIfShown: async (sessionId) => {
        if (this.sessionId === sessionId && !this.running) {
          await this.selectSession(null, sessionId, true);
        }
      },
    });
    // An automatic compaction is announced in the conversation, as its own row with Undo.
    this.register(services.engine.onNotification(CompactionNotifications.compacted, (notice) => this.onCompacted(notice.sessionId, notice.compactionId)));
    this.register(services.keys.onDidChange(() => void services.keys.status().then((keyStatus) => this.post({ type: 'keyStatus', keyStatus }))));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('contextLedger')) {
          this.post({ type: 'config', config: this.config() });
        }
      }),
    );
    void this.publishActiveSession();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The session the panel shows (null: a new chat not yet sent). */
  get currentSessionId(): string | null {
    return this.sessionId;
  }

  get posted(): readonly HostMessage[] {
    return this.postedLog;
  }

  /** How many malformed webview messages were dropped. */
  get rejectedCount(): number {
    return this.rejected;
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  reveal(): void {
    this.host.reveal();
  }

  /** Shows `sessionId` (a click in the Sessions tree, New Session): pushed, not asked for. */
  async showSession(sessionId: string | null): Promise<void> {
    if (!this.ready) {
      // `init` carries it when the webview (re)loads.
      this.sessionId = sessionId;
      await this.publishActiveSession();
      return;
    }
    await this.selectSession(null, sessionId);
  }

  /** Expands and scrolls to the newest receipt. */
  revealReceipt(): void {
    this.reveal();
    this.post({ type: 'revealReceipt' });
  }

  /**
   * Handles a message from the webview. Returns false (and logs why) for a malformed one, which
   * goes no further: never to the engine.
   */
  receive(raw: unknown): boolean {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.rejected++;
      this.services.log.warn(`chat panel: ignored a malformed message from the webview: ${parsed.problem}`);
      return false;
    }
    const message = parsed.value;
    void this.handle(message).catch((error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      this.services.log.error(`chat panel: ${message.type} failed: ${text}`);
      if ('requestId' in message && message.type !== 'send') {
        this.post({ type: 'reply', requestId: message.requestId, ok: false, message: text });
      }
    });
    return true;
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.onReady();
      case 'send':
        return this.send(message.requestId, message.sessionId, message.text, message.retryOfRequestId);
      case 'cancel':
        if (this.running?.requestId === message.requestId) {
          // Before the engine has the send, this is what stops it.
          this.running.stopRequested = true;
          await this.services.engine.chatCancel(message.requestId);
        }
        return;
      case 'selectSession':
        return this.selectSession(message.requestId, message.sessionId);
      // One-shot requests, each answered with one `reply` (panelRequests.ts).
      case 'renameSession':
        return this.requests.renameSession(message.requestId, message.sessionId, message.name);
      case 'refreshSessions':
        return this.requests.refreshSessions(message.requestId);
      case 'copyCode':
        return this.requests.copyCode(message.requestId, message.code);
      case 'insertCode':
        return this.requests.insertCode(message.requestId, message.code);
      case 'runCommand':
        return this.requests.runCommand(message.requestId, message.command);
      case 'openFile':
        return this.requests.openFile(message.requestId, message.path, message.line);
      case 'undoCompaction':
        return this.requests.undoCompaction(message.requestId, message.sessionId, message.compactionId);
    }
  }

  private onCompacted(sessionId: string, compactionId: string): void {
    if (compactionId === '' || sessionId !== this.sessionId || !this.ready) {
      return; // A warning without a compaction, or another session: the notification says it.
    }
    if (this.running?.sessionId === sessionId) {
      this.compactedWhileRunning = true;
      return;
    }
    void this.selectSession(null, sessionId, true).catch((error: unknown) => this.services.log.warn(`chat panel: could not show the compaction: ${String(error)}`));
  }

  private async onReady(): Promise<void> {
    // Build the slow parts first, then compose and post in one tick: progress that arrives
    // meanwhile is in `running.progress`, and is posted live only once `init` is out.
    this.ready = false;
    const [allSessions, keyStatus] = await Promise.all([this.services.engine.listSessions(), this.services.keys.status()]);
    const sessions = allSessions.filter((session) => !session.hidden);
    if (this.sessionId !== null && this.running?.sessionId !== this.sessionId && !sessions.some((session) => session.id === this.sessionId)) {
      this.services.log.warn(`chat panel: session ${this.sessionId} is not in the store; showing a new chat`);
      this.sessionId = null;
    }
    const transcript = await this.transcriptOf(this.sessionId);
    const snapshot: PanelSnapshot = {
      sessions: sessions.map(toSessionItem),
      activeSessionId: this.sessionId,
      transcript,
      inFlight: this.inFlight(),
      keyStatus,
      config: this.config(),
    };
    this.ready = true;
    this.post({ type: 'init', snapshot });
    for (const resolve of this.readyWaiters.splice(0)) {
      resolve();
    }
  }

  private inFlight(): InFlightTurn | null {
    if (!this.running || this.running.sessionId !== this.sessionId) {
      return null;
    }
    return { requestId: this.running.requestId, userText: this.running.userText, progress: [...this.running.progress] };
  }

  private transcriptOf(sessionId: string | null): Promise<TranscriptEntry[]> {
    return this.transcript.load(sessionId, this.running);
  }

  private async selectSession(requestId: string | null, sessionId: string | null, keepPlace = false): Promise<void> {
    if (this.sessionId !== sessionId) {
      this.follower.sessionChanged();
    }
    this.sessionId = sessionId;
    const entries = await this.transcriptOf(sessionId);
    if (this.sessionId !== sessionId) {
      return; // Another selection overtook this one.
    }
    this.post({ type: 'transcript', requestId, sessionId, entries, inFlight: this.inFlight(), ...(keepPlace ? { keepPlace } : {}) });
    await this.publishActiveSession();
  }

  private async send(requestId: string, requestedSessionId: string | null, text: string, retryOfRequestId?: string): Promise<void> {
    if (this.running) {
      await this.finish(requestId, requestedSessionId, text, null, failure('invalid-request', 'An answer is still streaming.', 'Wait for it, or press Stop.'));
      return;
    }
    // Running from before the first await to the `finally`: a second quick send is refused, and
    // a send that fails anywhere (the engine restarting) never leaves the panel unable to send.
    const sessionId = requestedSessionId ?? randomUUID();
    const running: RunningTurn = { requestId, sessionId, userText: text, lastSeqBefore: requestedSessionId === null ? 0 : null, progress: [] };
    this.running = running;
    this.follower.noteOwnRequest(requestId);
    let result: ChatSendResult;
    try {
      result = await this.runSend(running, requestedSessionId === null, text, retryOfRequestId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.services.log.error(`chat panel: the engine could not run the send: ${message}`);
      result = failedResult(failure('unknown', `The engine could not run this message: ${message}`, 'Retry; if it keeps failing, see the Context Ledger output.'));
    } finally {
      if (this.running === running) {
        this.running = null;
      }
    }
    // A new chat whose send logged nothing stays a new chat, with the error shown in it.
    const loggedNothing = requestedSessionId === null && result.userEventId === null && result.failureEventId === null;
    if (loggedNothing && this.sessionId === sessionId) {
      this.sessionId = null;
    }
    await this.finish(requestId, loggedNothing ? null : sessionId, text, result);
  }

  private async runSend(running: RunningTurn, isNewSession: boolean, text: string, retryOfRequestId: string | undefined): Promise<ChatSendResult> {
    const { requestId, sessionId } = running;
    const { settings } = this.services.readSettings();
    const { key } = await this.services.keys.resolve();
    if (!key) {
      return failedResult(failure('no-key', 'No Anthropic API key is set, so the message was not sent.', 'Set API Key stores one in VS Code SecretStorage; or start VS Code with ANTHROPIC_API_KEY set.'));
    }
    if (!isNewSession) {
      const { session } = await this.services.engine.readSession({ sessionId, range: { last: 1 } });
      if (!session) {
        return failedResult(failure('invalid-request', 'This session is no longer in the store.', 'Pick another session or start a new one.'));
      }
      running.lastSeqBefore = session.lastSeq;
    } else {
      // Errors shown in the not-yet-started chat belong to the session it becomes.
      this.transcript.moveErrors(newSessionKey, sessionId);
    }
    this.sessionId = sessionId;
    this.post({ type: 'sendStarted', requestId, sessionId });
    await this.publishActiveSession();
    // A retry answers the logged question again instead of logging it a second time.
    const retryOfEventId = retryOfRequestId ? await this.transcript.questionOf(sessionId, retryOfRequestId) : undefined;
    if (running.stopRequested) {
      return { ...failedResult(failure('cancelled', 'Stopped before the message was sent.', 'Send again when you are ready.')), status: 'cancelled' };
    }
    // The engine starts a new chat's session itself, as part of the send.
    const result = await this.services.engine.chatSend({
      requestId,
      sessionId,
      text,
      settings,
      ...(retryOfEventId ? { retryOfEventId } : {}),
      ...(isNewSession ? { newSessionName: sessionNameFromText(text) } : {}),
    });
    if (isNewSession) {
      await this.postSessions();
    }
    return result;
  }

  private async finish(requestId: string, sessionId: string | null, text: string, result: ChatSendResult | null, error?: ChatErrorInfo): Promise<void> {
    const final: ChatSendResult = result ?? { status: 'failed', userEventId: null, assistantEventId: null, receipt: null, error: error ?? null, failureEventId: null };
    if (final.error && final.userEventId) {
      this.transcript.rememberQuestion(requestId, final.userEventId);
    }
    // An error the engine logged (`turn.failed`) comes back with the transcript; others are kept here.
    if (final.error && final.status !== 'cancelled' && final.failureEventId === null) {
      await this.transcript.keepError(sessionId, requestId, final.userEventId, final.error, text);
      this.services.log.warn(
        `chat: send ${requestId} ${final.status}: ${final.error.kind}: ${final.error.message}${final.error.requestId ? ` (API request ${final.error.requestId})` : ''}`,
      );
    }
    if (final.receipt && sessionId) {
      this.services.activeChat.recordReceipt(sessionId, final.receipt);
    }
    this.post({ type: 'sendResult', requestId, result: final });
    if (this.compactedWhileRunning && sessionId !== null && sessionId === this.sessionId) {
      this.compactedWhileRunning = false;
      await this.selectSession(null, sessionId, true);
    }
    void this.postSessions().catch((error: unknown) => this.services.log.warn(`chat panel: could not list sessions: ${String(error)}`));
  }

  private onProgress(requestId: string, progress: ChatProgress): void {
    const running = this.running;
    if (!running || running.requestId !== requestId) {
      return; // Another panel's request, or one that is over.
    }
    running.progress.push(progress);
    if (progress.type === 'receipt') {
      this.services.activeChat.recordReceipt(running.sessionId, progress.receipt);
    }
    if (this.sessionId === running.sessionId) {
      this.post({ type: 'progress', requestId, progress });
    }
  }

  /** Shows a topic boundary appended by the "New Topic" command. */
  showAppended(sessionId: string, entries: readonly TranscriptEntry[]): void {
    if (sessionId === this.sessionId) {
      this.post({ type: 'appendEntries', sessionId, entries });
    }
  }

  focusComposer(): void {
    this.post({ type: 'focusComposer' });
  }

  private async postSessions(): Promise<void> {
    if (!this.ready) {
      return;
    }
    const sessions = (await this.services.engine.listSessions()).filter((session) => !session.hidden);
    this.post({ type: 'sessions', sessions: sessions.map(toSessionItem), activeSessionId: this.sessionId });
  }

  /** Tells the gauge and the commands which session this panel shows, with its newest receipt. */
  private async publishActiveSession(): Promise<void> {
    const sessionId = this.sessionId;
    if (sessionId === null) {
      this.services.activeChat.setSession(null, null, null);
      return;
    }
    try {
      // Every turn logs a receipt: the newest is among the last events.
      const { session, events } = await this.services.engine.readSession({ sessionId, range: { last: receiptSearchEvents } });
      if (this.sessionId === sessionId) {
        this.services.activeChat.setSession(sessionId, session?.name ?? null, lastReceipt(events));
      }
    } catch (error) {
      this.services.log.warn(`chat panel: could not read session ${sessionId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  config(): PanelConfig {
    const { settings, problems } = this.services.readSettings();
    return { model: settings.model, budgetTokens: settings.budgetTokens, windowLabel: windowLabel(settings.window), problems };
  }

  private post(message: HostMessage): void {
    if (!this.ready) {
      return; // `init` will carry it.
    }
    this.postedLog.push(message);
    if (this.postedLog.length > maxPostedLog) {
      this.postedLog.splice(0, this.postedLog.length - maxPostedLog);
    }
    this.postedEmitter.fire(message);
    void this.host.webview.postMessage(message).then(undefined, (error: unknown) => this.services.log.warn(`chat panel: a message was not delivered: ${String(error)}`));
  }

  private html(state: ChatViewState): string {
    return chatHtml(this.host.webview, this.services.extensionUri, JSON.stringify({ state, config: this.config() }));
  }

  override dispose(): void {
    if (this.running) {
      // Closing the panel stops its answer; what arrived is logged, marked incomplete.
      void this.services.engine.chatCancel(this.running.requestId).catch(() => false);
    }
    this.ready = false;
    this.disposedEmitter.fire();
    super.dispose();
  }
}
