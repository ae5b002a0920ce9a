import {
  parseHostMessage,
  parseViewState,
  type ChatViewState,
  type HostMessage,
  type InFlightTurn,
  type KeyStatus,
  type PanelCommand,
  type PanelConfig,
  type PanelSnapshot,
  type SessionItem,
  type TranscriptEntry,
  type WebviewMessage,
} from '../../shared/chatPanelMessages';
import type { ChatProgress, ChatSendResult } from '../../shared/chatProtocol';
import { Composer } from './composer';
import { h, icon, newRequestId } from './dom';
import { FollowScroll } from './follow';
import { bannerRows, statusText } from './banner';
import { LiveAnswer } from './liveAnswer';
import { SessionToolbar } from './sessionToolbar';
import { onActionClick, type ActionTarget } from './transcriptActions';
import { renderError, TranscriptView } from './transcriptView';

// The chat's browser side, the same in the editor tab and the side-bar view. It renders what the
// extension posts and posts what the user does; it never talks to the engine. The extension
// answers `ready` with `init`, which carries the whole picture (also after the view was hidden
// and this script started again). Rendering is in transcriptView.ts (the conversation),
// receipt.ts, composer.ts (the message box), sessionToolbar.ts (the picker and its buttons) and
// follow.ts (following the answer); the buttons inside the conversation in transcriptActions.ts.

const vscode = acquireVsCodeApi<ChatViewState>();

interface InitialData {
  readonly state: ChatViewState;
  readonly config: PanelConfig | null;
}

function readInitialData(): InitialData {
  try {
    const parsed = JSON.parse(document.body.dataset.initial ?? '{}') as { state?: unknown; config?: PanelConfig };
    return { state: parseViewState(parsed.state), config: parsed.config ?? null };
  } catch {
    return { state: { sessionId: null, draft: '' }, config: null };
  }
}

class ChatView {
  private state: ChatViewState;
  private sessions: SessionItem[] = [];
  private keyStatus: KeyStatus | null = null;
  private config: PanelConfig | null;
  private live: LiveAnswer | null = null;
  private pendingSelection: string | null = null;
  private readonly pendingReplies = new Map<string, (ok: boolean, message: string | null) => void>();
  private initialized = false;
  private saveTimer: number | undefined;

  private readonly toolbar = new SessionToolbar({ select: (sessionId) => this.select(sessionId), rename: () => this.rename(), newTopic: () => this.runCommand('newTopic') });
  private readonly skipLink = h('a', { href: '#composer', class: 'skip-link', 'data-action': 'focus-composer' }, 'Skip to the message box');
  private readonly banner = h('div', { id: 'banner', class: 'banner', role: 'status', hidden: true });
  private readonly transcript = new TranscriptView(() => this.config?.model ?? null);
  private readonly follow = new FollowScroll(this.transcript.element);
  private readonly composer = new Composer({
    send: (text) => this.sendFromComposer(text),
    stop: () => this.stop(),
    draftChanged: (text) => this.saveDraftSoon(text),
  });

  constructor(initial: InitialData) {
    this.state = parseViewState(vscode.getState() ?? initial.state);
    this.config = initial.config;
  }

  mount(root: HTMLElement): void {
    root.replaceChildren(
      this.skipLink,
      this.toolbar.element,
      this.banner,
      h('div', { class: 'transcript-frame' }, this.transcript.element, this.follow.jumpButton),
      this.composer.element,
    );
    root.removeAttribute('aria-busy');
    this.composer.input.value = this.state.draft;
    const actions: ActionTarget = {
      composer: this.composer,
      request: (message, onReply) => this.request(message, onReply),
      sessionId: () => this.state.sessionId,
      retryText: (requestId) => (this.live ? null : (this.transcript.retryTexts.get(requestId) ?? null)),
      retry: (text, requestId) => this.send(text, requestId),
      runCommand: (command) => this.runCommand(command),
    };
    for (const area of [this.transcript.element, this.banner, this.skipLink]) {
      area.addEventListener('click', (event) => onActionClick(actions, event));
    }
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.live) {
        event.preventDefault();
        this.stop();
      }
    });
    // From anywhere in the conversation: End jumps to the latest message, Ctrl/Cmd+L to the box.
    this.transcript.element.addEventListener('keydown', (event) => {
      if (event.key === 'End' && !event.ctrlKey && !event.metaKey && event.target === this.transcript.element) {
        event.preventDefault();
        this.follow.jumpToLatest();
      }
    });
    document.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'l' && !event.shiftKey && !event.altKey) {
        event.preventDefault();
        this.composer.focus();
      }
    });
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.onMessage(event.data));
    this.renderSessions();
    this.renderStatus();
    this.transcript.showEmpty(this.state.sessionId === null);
    this.updateControls();
    this.post({ type: 'ready' });
  }

  private post(message: WebviewMessage): void {
    vscode.postMessage(message);
  }

  private request(message: WebviewMessage & { readonly requestId: string }, onReply?: (ok: boolean, text: string | null) => void): void {
    if (onReply) {
      this.pendingReplies.set(message.requestId, onReply);
    }
    this.post(message);
  }

  private saveState(patch: Partial<ChatViewState>): void {
    this.state = { ...this.state, ...patch };
    vscode.setState(this.state);
  }

  private saveDraftSoon(text: string): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.saveState({ draft: text }), 200);
  }

  // ---- messages from the extension ----------------------------------------------------------

  private onMessage(data: unknown): void {
    const parsed = parseHostMessage(data);
    if (!parsed.ok) {
      console.warn(`Context Ledger chat: ignored a message: ${parsed.problem}`);
      return;
    }
    const message: HostMessage = parsed.value;
    switch (message.type) {
      case 'init':
        return this.onInit(message.snapshot);
      case 'sessions':
        this.sessions = [...message.sessions];
        this.renderSessions();
        return;
      case 'transcript':
        if (message.requestId !== null && message.requestId !== this.pendingSelection) {
          return; // The answer to a selection the user has since changed.
        }
        if (message.keepPlace) {
          if (message.sessionId === this.state.sessionId && !this.live) {
            this.refreshSession(message.entries);
          }
          return;
        }
        this.pendingSelection = null;
        // A pushed session (the Sessions tree) replaces whatever was streaming here.
        this.live = null;
        this.showSession(message.sessionId, message.entries);
        if (message.inFlight) {
          this.resume(message.inFlight);
        }
        return;
      case 'appendEntries':
        if (message.sessionId === this.state.sessionId) {
          for (const entry of message.entries) {
            this.transcript.append(entry);
          }
          this.transcript.closeCard();
          this.follow.contentChanged(true);
        }
        return;
      case 'sendStarted':
        if (this.live?.requestId === message.requestId && this.state.sessionId !== message.sessionId) {
          // The first message of a new chat: the session it started.
          this.saveState({ sessionId: message.sessionId });
          this.renderSessions();
        }
        return;
      case 'progress':
        if (this.live?.requestId === message.requestId) {
          this.onProgress(this.live, message.progress);
        }
        return;
      case 'sendResult':
        if (this.live?.requestId === message.requestId) {
          this.onResult(message.requestId, message.result);
        }
        return;
      case 'keyStatus':
        this.keyStatus = message.keyStatus;
        this.renderBanner();
        this.renderStatus();
        return;
      case 'config':
        this.config = message.config;
        this.renderBanner();
        this.renderStatus();
        return;
      case 'reply': {
        const onReply = this.pendingReplies.get(message.requestId);
        this.pendingReplies.delete(message.requestId);
        if (onReply) {
          onReply(message.ok, message.message);
        } else if (!message.ok && message.message) {
          this.composer.showNotice(message.message, true);
        }
        return;
      }
      case 'revealReceipt':
        return this.revealReceipt();
      case 'focusComposer':
        this.composer.focus();
        return;
    }
  }

  private onInit(snapshot: PanelSnapshot): void {
    this.initialized = true;
    this.sessions = [...snapshot.sessions];
    this.keyStatus = snapshot.keyStatus;
    this.config = snapshot.config;
    this.live = null;
    this.showSession(snapshot.activeSessionId, snapshot.transcript);
    if (snapshot.inFlight) {
      this.resume(snapshot.inFlight);
    }
    this.renderBanner();
    this.renderStatus();
    this.composer.focus();
  }

  private showSession(sessionId: string | null, entries: readonly TranscriptEntry[]): void {
    this.saveState({ sessionId });
    this.renderSessions();
    this.transcript.reset(entries);
    this.transcript.showEmpty(sessionId === null);
    this.composer.setHistory(this.transcript.userPrompts);
    this.updateControls();
    this.follow.contentChanged(true);
  }

  /** The same session with what another window added: the reader stays where they were. */
  private refreshSession(entries: readonly TranscriptEntry[]): void {
    const scroller = this.transcript.element;
    const top = scroller.scrollTop;
    const following = this.follow.isFollowing;
    this.transcript.reset(entries);
    this.composer.setHistory(this.transcript.userPrompts);
    if (!following) {
      scroller.scrollTop = top;
    }
    this.follow.contentChanged();
  }

  // ---- sending and streaming ----------------------------------------------------------------

  /** Enter or Send in the composer; false (the text stays) when it cannot go now. */
  private sendFromComposer(text: string): boolean {
    if (this.live) {
      this.composer.showNotice('An answer is still coming: wait for it, or press Stop (Escape). Your message stays in the box.', false, 4000);
      return false;
    }
    if (!this.initialized) {
      this.composer.showNotice('The chat is still loading.', false);
      return false;
    }
    this.saveState({ draft: '' });
    this.send(text);
    return true;
  }

  private send(text: string, retryOfRequestId?: string): void {
    const requestId = newRequestId();
    this.transcript.removeRetryButtons();
    // A retry answers the question already shown (and logged); it is not asked again.
    if (retryOfRequestId === undefined) {
      this.transcript.question(text, null);
    }
    this.live = new LiveAnswer(requestId, text, this.transcript, () => this.follow.contentChanged());
    this.live.card.element.classList.add('waiting');
    this.transcript.retryTexts.set(requestId, text);
    this.updateControls();
    this.follow.contentChanged(true);
    this.post({ type: 'send', requestId, sessionId: this.state.sessionId, text, ...(retryOfRequestId ? { retryOfRequestId } : {}) });
  }

  private resume(turn: InFlightTurn): void {
    this.transcript.question(turn.userText, null);
    this.live = new LiveAnswer(turn.requestId, turn.userText, this.transcript, () => this.follow.contentChanged());
    this.transcript.retryTexts.set(turn.requestId, turn.userText);
    for (const progress of turn.progress) {
      this.onProgress(this.live, progress);
    }
    this.updateControls();
    this.follow.contentChanged();
  }

  private stop(): void {
    if (this.live) {
      this.post({ type: 'cancel', requestId: this.live.requestId });
      this.composer.stopButton.disabled = true;
    }
  }

  private onProgress(live: LiveAnswer, progress: ChatProgress): void {
    live.progress(progress);
    this.follow.contentChanged();
  }

  private onResult(requestId: string, result: ChatSendResult): void {
    const live = this.live;
    this.live = null;
    if (!live) {
      return;
    }
    live.flush();
    const card = live.card;
    card.element.classList.remove('waiting');
    if (result.receipt && !card.element.querySelector('details.receipt')) {
      card.addReceipt(result.receipt);
    }
    if (result.status === 'incomplete' || (result.status === 'cancelled' && card.hasContent)) {
      card.markIncomplete();
    }
    this.transcript.closeCard();
    if (!card.hasContent && !card.element.querySelector('details.receipt')) {
      card.element.remove(); // Nothing arrived: the error or "Stopped" below says why.
    }
    if (result.status === 'cancelled') {
      this.transcript.appendNode(h('div', { class: 'divider stopped', role: 'note' }, icon('debug-stop'), ' Stopped.'));
    } else if (result.error) {
      const retryText = this.transcript.retryTexts.get(requestId) ?? live.text;
      this.transcript.appendNode(renderError(requestId, result.error, retryText, this.transcript.retryTexts));
    }
    this.updateControls();
    this.follow.contentChanged();
    if (result.status === 'complete') {
      this.composer.showNotice('Answer complete.');
    }
  }

  // ---- rendering ----------------------------------------------------------------------------

  private renderSessions(): void {
    this.toolbar.renderSessions(this.sessions, this.state.sessionId);
    this.updateControls();
  }

  private renderBanner(): void {
    const rows = bannerRows(this.keyStatus, this.config);
    this.banner.replaceChildren(...rows);
    this.banner.hidden = rows.length === 0;
  }

  private renderStatus(): void {
    this.composer.statusLine.textContent = statusText(this.config, this.keyStatus);
    this.composer.statusLine.title = this.composer.statusLine.textContent;
  }

  private updateControls(): void {
    const streaming = this.live !== null;
    this.composer.setStreaming(streaming, this.initialized);
    this.toolbar.updateControls(this.state.sessionId !== null, streaming);
    this.transcript.element.setAttribute('aria-busy', String(streaming));
  }

  private revealReceipt(): void {
    const receipts = this.transcript.element.querySelectorAll<HTMLDetailsElement>('details.receipt');
    const last = receipts[receipts.length - 1];
    if (!last) {
      this.composer.showNotice('No context receipt in this session yet.');
      return;
    }
    last.open = true;
    last.scrollIntoView({ block: 'center' });
    last.querySelector('summary')?.focus();
  }

  // ---- user actions -------------------------------------------------------------------------

  private select(sessionId: string | null): void {
    if (sessionId === this.state.sessionId && sessionId !== null) {
      return;
    }
    // An answer still streaming keeps going into the log; the chat shows it again on return.
    this.live = null;
    const requestId = newRequestId();
    this.pendingSelection = requestId;
    this.saveState({ sessionId });
    this.transcript.showLoading();
    this.updateControls();
    this.post({ type: 'selectSession', requestId, sessionId });
    this.composer.focus();
  }

  private rename(): void {
    const sessionId = this.state.sessionId;
    if (sessionId !== null) {
      this.request({ type: 'renameSession', requestId: newRequestId(), sessionId }, (ok, message) => {
        if (message) {
          this.composer.showNotice(message, !ok);
        }
        this.composer.focus();
      });
    }
  }

  private runCommand(command: PanelCommand): void {
    this.request({ type: 'runCommand', requestId: newRequestId(), command }, (ok, message) => {
      if (!ok && message) {
        this.composer.showNotice(message, true);
      }
      // Back to typing after a command that asked something (Set API Key) or logged something.
      this.composer.focus();
    });
  }
}

const root = document.getElementById('app');
if (root) {
  new ChatView(readInitialData()).mount(root);
}
