import type { ContextReceipt } from '../../core/context/contextTypes';
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
import type { ChatErrorInfo, ChatProgress, ChatSendResult } from '../../shared/chatProtocol';
import { exclusionLabel, formatTokens, partLabel, receiptSummary, seqRange, sessionLabel, windowText } from './format';
import { renderMarkdown } from './markdown';

// The chat panel's browser side. It renders what the extension posts and posts what the user
// does; it never talks to the engine. Nothing is posted before `ready`'s answer matters: the
// extension answers `ready` with `init`, which carries the whole picture (also after the panel
// was hidden and this script started again).

const vscode = acquireVsCodeApi<ChatViewState>();
const newChatValue = '\u0000new';

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) {
      element.setAttribute(name, '');
    } else if (typeof value === 'string') {
      element.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child);
    }
  }
  return element;
}

function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

function newRequestId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

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

/** The answer being streamed: one assistant block per model round, tool rows between them. */
interface LiveTurn {
  readonly requestId: string;
  readonly text: string;
  assistant: { element: HTMLElement; body: HTMLElement; text: string; receipt: ContextReceipt | null } | null;
  readonly tools: Map<string, HTMLElement>;
  renderScheduled: boolean;
}

class ChatView {
  private state: ChatViewState;
  private sessions: SessionItem[] = [];
  private keyStatus: KeyStatus | null = null;
  private config: PanelConfig | null;
  private live: LiveTurn | null = null;
  private pendingSelection: string | null = null;
  private readonly retryTexts = new Map<string, string>();
  private readonly pendingReplies = new Map<string, (ok: boolean, message: string | null) => void>();
  private initialized = false;
  private saveTimer: number | undefined;

  private readonly picker = h('select', { id: 'session-picker', 'aria-label': 'Session', title: 'Session' });
  private readonly newChatButton = this.toolbarButton('add', 'New chat', () => this.select(null));
  private readonly renameButton = this.toolbarButton('edit', 'Rename session', () => this.rename());
  private readonly topicButton = this.toolbarButton('milestone', 'New topic (session windows start afresh here)', () => this.runCommand('newTopic'));
  private readonly banner = h('div', { id: 'banner', class: 'banner', role: 'status', hidden: true });
  private readonly transcript = h('section', { id: 'transcript', class: 'transcript', role: 'log', 'aria-label': 'Conversation', tabindex: '-1' });
  private readonly composer = h('textarea', {
    id: 'composer',
    class: 'composer-input',
    rows: '3',
    'aria-label': 'Message',
    placeholder: 'Ask about your code. Enter sends, Shift+Enter adds a line.',
  });
  private readonly sendButton = h('button', { type: 'button', id: 'send', class: 'primary', 'aria-label': 'Send message', title: 'Send (Enter)' }, icon('send'), h('span', {}, 'Send'));
  private readonly stopButton = h('button', { type: 'button', id: 'stop', class: 'secondary', 'aria-label': 'Stop the answer', title: 'Stop (Escape)', hidden: true }, icon('debug-stop'), h('span', {}, 'Stop'));
  private readonly statusLine = h('div', { id: 'status-line', class: 'status-line' });
  private readonly notice = h('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });

  constructor(initial: InitialData) {
    this.state = parseViewState(vscode.getState() ?? initial.state);
    this.config = initial.config;
  }

  mount(root: HTMLElement): void {
    root.replaceChildren(
      h('header', { class: 'toolbar' }, this.picker, this.newChatButton, this.renameButton, this.topicButton),
      this.banner,
      this.transcript,
      h('footer', { class: 'composer' }, this.composer, h('div', { class: 'composer-bar' }, this.statusLine, this.notice, this.stopButton, this.sendButton)),
    );
    root.removeAttribute('aria-busy');
    this.composer.value = this.state.draft;
    this.picker.addEventListener('change', () => this.select(this.picker.value === newChatValue ? null : this.picker.value));
    this.composer.addEventListener('keydown', (event) => this.onComposerKey(event));
    this.composer.addEventListener('input', () => this.saveDraftSoon());
    this.sendButton.addEventListener('click', () => this.sendFromComposer());
    this.stopButton.addEventListener('click', () => this.stop());
    this.transcript.addEventListener('click', (event) => this.onTranscriptClick(event));
    this.banner.addEventListener('click', (event) => this.onTranscriptClick(event));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.live) {
        event.preventDefault();
        this.stop();
      }
    });
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.onMessage(event.data));
    this.renderSessions();
    this.renderStatus();
    this.renderEmpty();
    this.updateControls();
    this.post({ type: 'ready' });
  }

  private toolbarButton(iconName: string, label: string, run: () => void): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'icon-button', 'aria-label': label, title: label }, icon(iconName));
    button.addEventListener('click', run);
    return button;
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

  private saveDraftSoon(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.saveState({ draft: this.composer.value }), 200);
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
        this.pendingSelection = null;
        this.showSession(message.sessionId, message.entries);
        if (message.inFlight) {
          this.resume(message.inFlight);
        }
        return;
      case 'appendEntries':
        if (message.sessionId === this.state.sessionId) {
          this.clearEmpty();
          for (const entry of message.entries) {
            this.transcript.append(this.renderEntry(entry));
          }
          this.scrollToEnd(true);
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
          this.showNotice(message.message, true);
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
    this.transcript.replaceChildren(...entries.map((entry) => this.renderEntry(entry)));
    this.groupToolResults();
    if (entries.length === 0) {
      this.renderEmpty();
    }
    this.updateControls();
    this.scrollToEnd(true);
  }

  // ---- sending and streaming ----------------------------------------------------------------

  private onComposerKey(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey) {
      event.preventDefault();
      this.sendFromComposer();
    }
  }

  private sendFromComposer(): void {
    const text = this.composer.value;
    if (text.trim() === '' || this.live || !this.initialized) {
      return;
    }
    this.composer.value = '';
    this.saveState({ draft: '' });
    this.send(text);
  }

  private send(text: string, retryOfRequestId?: string): void {
    const requestId = newRequestId();
    this.clearEmpty();
    // Retry answers the newest question only: older error boxes lose their button.
    for (const button of this.transcript.querySelectorAll('button[data-action="retry"]')) {
      button.remove();
    }
    // A retry answers the question already shown (and logged); it is not asked again.
    if (retryOfRequestId === undefined) {
      this.transcript.append(this.renderUser(text));
    }
    this.live = { requestId, text, assistant: null, tools: new Map(), renderScheduled: false };
    this.retryTexts.set(requestId, text);
    this.updateControls();
    this.scrollToEnd(true);
    this.post({ type: 'send', requestId, sessionId: this.state.sessionId, text, ...(retryOfRequestId ? { retryOfRequestId } : {}) });
  }

  private resume(turn: InFlightTurn): void {
    this.clearEmpty();
    this.transcript.append(this.renderUser(turn.userText));
    this.live = { requestId: turn.requestId, text: turn.userText, assistant: null, tools: new Map(), renderScheduled: false };
    this.retryTexts.set(turn.requestId, turn.userText);
    for (const progress of turn.progress) {
      this.onProgress(this.live, progress);
    }
    this.updateControls();
  }

  private stop(): void {
    if (this.live) {
      this.post({ type: 'cancel', requestId: this.live.requestId });
      this.stopButton.disabled = true;
    }
  }

  private onProgress(live: LiveTurn, progress: ChatProgress): void {
    switch (progress.type) {
      case 'receipt': {
        // Each model round has its own receipt; it goes under that round's answer.
        const assistant = this.startAssistant(live);
        assistant.receipt = progress.receipt;
        assistant.element.append(this.renderReceipt(progress.receipt));
        break;
      }
      case 'text': {
        const assistant = live.assistant ?? this.startAssistant(live);
        assistant.text += progress.delta;
        this.scheduleRender(live);
        break;
      }
      case 'toolUse': {
        const row = this.renderToolUse(progress.name, describeInput(progress.input));
        live.tools.set(progress.toolUseId, row);
        this.transcript.append(row);
        // Text after a tool call belongs to the next round's block.
        live.assistant = null;
        break;
      }
      case 'toolResult': {
        const row = live.tools.get(progress.toolUseId);
        const result = this.renderToolResult(progress.content, progress.isError);
        if (row) {
          row.append(result);
          row.classList.toggle('tool-error', progress.isError);
        } else {
          this.transcript.append(result);
        }
        break;
      }
    }
    this.scrollToEnd(false);
  }

  private startAssistant(live: LiveTurn): NonNullable<LiveTurn['assistant']> {
    const body = h('div', { class: 'markdown' });
    const element = h('article', { class: 'turn assistant streaming', 'aria-label': 'Answer' }, this.who('assistant', this.config?.model ?? null), body);
    this.transcript.append(element);
    live.assistant = { element, body, text: '', receipt: null };
    return live.assistant;
  }

  private scheduleRender(live: LiveTurn): void {
    if (live.renderScheduled) {
      return;
    }
    live.renderScheduled = true;
    requestAnimationFrame(() => {
      live.renderScheduled = false;
      if (live.assistant) {
        live.assistant.body.innerHTML = renderMarkdown(live.assistant.text);
        this.scrollToEnd(false);
      }
    });
  }

  private onResult(requestId: string, result: ChatSendResult): void {
    const live = this.live;
    this.live = null;
    if (live?.assistant) {
      live.assistant.body.innerHTML = renderMarkdown(live.assistant.text);
    }
    for (const element of this.transcript.querySelectorAll('.streaming')) {
      element.classList.remove('streaming');
    }
    const blocks = this.transcript.querySelectorAll<HTMLElement>('article.assistant');
    const lastElement = blocks[blocks.length - 1];
    const last = live?.assistant ?? (live && lastElement ? { element: lastElement, body: lastElement, text: lastElement.textContent ?? '', receipt: null } : null);
    if (last && last.receipt === null && result.receipt) {
      last.element.append(this.renderReceipt(result.receipt));
    }
    const markIncomplete = (element: HTMLElement): void => {
      // Above the receipt, as in a transcript read from the log.
      element.classList.add('incomplete');
      element.insertBefore(this.incompleteBadge(), element.querySelector(':scope > details.receipt'));
    };
    if (last && result.status === 'incomplete') {
      markIncomplete(last.element);
    }
    if (result.status === 'cancelled') {
      if (last && last.text !== '') {
        markIncomplete(last.element);
      }
      this.transcript.append(h('div', { class: 'divider stopped', role: 'note' }, icon('debug-stop'), ' Stopped.'));
    } else if (result.error) {
      this.transcript.append(this.renderError(requestId, result.error, this.retryTexts.get(requestId) ?? live?.text ?? null));
    }
    this.updateControls();
    this.scrollToEnd(false);
    if (result.status === 'complete') {
      this.announce('Answer complete.');
    }
  }

  // ---- rendering ----------------------------------------------------------------------------

  private renderEntry(entry: TranscriptEntry): HTMLElement {
    switch (entry.kind) {
      case 'user':
        return this.renderUser(entry.text);
      case 'assistant': {
        const body = h('div', { class: 'markdown' });
        body.innerHTML = renderMarkdown(entry.text);
        const element = h('article', { class: `turn assistant${entry.incomplete ? ' incomplete' : ''}${entry.superseded ? ' superseded' : ''}`, 'aria-label': 'Answer' }, this.who('assistant', entry.model), body);
        if (entry.incomplete) {
          element.append(this.incompleteBadge());
        }
        if (entry.superseded) {
          element.append(h('div', { class: 'badge superseded-badge', role: 'note' }, icon('history'), ' Superseded: a retry answered this question again; this part is no longer sent to the model.'));
        }
        if (entry.receipt) {
          element.append(this.renderReceipt(entry.receipt));
        }
        return element;
      }
      case 'toolUse': {
        const row = this.renderToolUse(entry.name, entry.input);
        row.dataset.toolUseId = entry.toolUseId;
        return row;
      }
      case 'toolResult': {
        const result = this.renderToolResult(entry.content, entry.isError);
        result.dataset.resultFor = entry.toolUseId;
        return result;
      }
      case 'receipt':
        return h(
          'article',
          { class: 'turn assistant no-answer', 'aria-label': 'Request without an answer' },
          this.who('assistant', null),
          h('div', { class: 'badge no-answer-badge', role: 'note' }, icon('circle-slash'), ' No answer was logged for this request: it failed or was stopped before any text arrived.'),
          this.renderReceipt(entry.receipt),
        );
      case 'topic':
        return h('div', { class: 'divider topic', role: 'separator', 'aria-label': `New topic${entry.label ? `: ${entry.label}` : ''}` }, icon('milestone'), ` New topic${entry.label ? `: ${entry.label}` : ''}`);
      case 'renamed':
        return h('div', { class: 'divider renamed', role: 'note' }, icon('edit'), ` Renamed to “${entry.name}”`);
      case 'error':
        return this.renderError(entry.requestId, entry.error, entry.retryText);
      case 'earlier':
        return h('div', { class: 'divider earlier', role: 'note' }, icon('history'), ` Earlier messages are in the log; this panel shows the newest ${formatTokens(entry.shownEvents)} events.`);
    }
  }

  /** Puts each logged tool result inside the row of its call (they are separate events). */
  private groupToolResults(): void {
    for (const result of this.transcript.querySelectorAll<HTMLElement>('[data-result-for]')) {
      const call = [...this.transcript.querySelectorAll<HTMLElement>('[data-tool-use-id]')].find((row) => row.dataset.toolUseId === result.dataset.resultFor);
      if (call) {
        call.append(result);
        call.classList.toggle('tool-error', result.classList.contains('error'));
      }
    }
  }

  private who(kind: 'user' | 'assistant', model: string | null): HTMLElement {
    return kind === 'user'
      ? h('div', { class: 'who' }, icon('account'), h('span', {}, 'You'))
      : h('div', { class: 'who' }, icon('sparkle'), h('span', {}, 'Assistant'), model ? h('span', { class: 'model' }, model) : null);
  }

  private renderUser(text: string): HTMLElement {
    return h('article', { class: 'turn user', 'aria-label': 'Your message' }, this.who('user', null), h('div', { class: 'user-text' }, text));
  }

  private incompleteBadge(): HTMLElement {
    return h('div', { class: 'badge incomplete-badge', role: 'note' }, icon('warning'), ' Incomplete answer: it was cut off; the part that arrived is kept in the log.');
  }

  private renderToolUse(name: string, input: string): HTMLElement {
    return h(
      'details',
      { class: 'tool' },
      h('summary', {}, icon('tools'), h('span', {}, 'Tool call: '), h('code', {}, name)),
      h('div', { class: 'tool-section-label' }, 'Input'),
      h('pre', { class: 'tool-input' }, input),
    );
  }

  private renderToolResult(content: string, isError: boolean): HTMLElement {
    return h(
      'div',
      { class: `tool-result${isError ? ' error' : ''}` },
      h('div', { class: 'tool-section-label' }, isError ? 'Result (error)' : 'Result'),
      h('pre', {}, content.length > 20_000 ? `${content.slice(0, 20_000)}\n…` : content),
    );
  }

  private renderReceipt(receipt: ContextReceipt): HTMLElement {
    const itemized = receipt.parts.reduce((sum, part) => sum + part.tokens, 0);
    const rows = receipt.parts.map((part) =>
      h('tr', {}, h('td', {}, partLabel(part)), h('td', { class: 'reason' }, part.reason), h('td', { class: 'seq' }, seqRange(part.firstSeq, part.lastSeq)), h('td', { class: 'num' }, formatTokens(part.tokens))),
    );
    const table = h(
      'table',
      { class: 'receipt-parts' },
      h('caption', {}, 'What went into the request'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Part'), h('th', { scope: 'col' }, 'Why'), h('th', { scope: 'col' }, 'Events'), h('th', { scope: 'col', class: 'num' }, 'Tokens'))),
      h(
        'tbody',
        {},
        ...rows,
        // An exact count also has what no part names: the tool definitions and request framing.
        receipt.totalTokens > itemized
          ? h('tr', { class: 'unitemized' }, h('td', {}, 'Not itemized'), h('td', { class: 'reason' }, 'tool definitions and request framing, in the total count'), h('td', { class: 'seq' }, '—'), h('td', { class: 'num' }, formatTokens(receipt.totalTokens - itemized)))
          : null,
      ),
      h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Total (budget)'), h('td', { class: 'num' }, `${formatTokens(receipt.totalTokens)} (${formatTokens(receipt.budgetTokens)})`))),
    );
    const excluded =
      receipt.excluded.length === 0
        ? h('p', { class: 'receipt-none-excluded' }, 'Nothing was left out.')
        : h(
            'div',
            {},
            h('div', { class: 'receipt-section-label' }, 'Left out'),
            h('ul', { class: 'receipt-excluded' }, ...receipt.excluded.map((exclusion) => h('li', {}, `${seqRange(exclusion.firstSeq, exclusion.lastSeq)}: ${formatTokens(exclusion.tokens)} tokens, ${exclusionLabel(exclusion)}`))),
          );
    return h(
      'details',
      { class: 'receipt' },
      h('summary', {}, icon('database'), h('span', { class: 'receipt-summary' }, receiptSummary(receipt))),
      h(
        'div',
        { class: 'receipt-body' },
        h('p', { class: 'receipt-meta' }, `Window: ${windowText(receipt.window)} · token counts ${receipt.tokenSource === 'api' ? 'exact (count_tokens)' : 'estimated offline'}${receipt.tokenSourceNote ? ` (${receipt.tokenSourceNote})` : ''}`),
        table,
        excluded,
      ),
    );
  }

  private renderError(requestId: string, error: ChatErrorInfo, retryText: string | null): HTMLElement {
    if (retryText !== null) {
      this.retryTexts.set(requestId, retryText);
    }
    const details = [error.status !== null ? `HTTP ${error.status}` : null, error.requestId ? `request id ${error.requestId}` : null, error.kind].filter((part): part is string => part !== null);
    const actions = h('div', { class: 'error-actions' });
    if (retryText !== null) {
      actions.append(h('button', { type: 'button', class: 'secondary', 'data-action': 'retry', 'data-request-id': requestId, 'aria-label': 'Retry this message' }, icon('debug-restart'), ' Retry'));
    }
    if (error.kind === 'no-key' || error.kind === 'auth') {
      actions.append(h('button', { type: 'button', class: 'secondary', 'data-action': 'set-api-key' }, icon('key'), ' Set API Key'));
    }
    if (error.kind === 'model-not-found' || error.kind === 'timeout' || error.kind === 'prompt-too-long') {
      actions.append(h('button', { type: 'button', class: 'secondary', 'data-action': 'open-settings' }, icon('settings-gear'), ' Open Settings'));
    }
    return h(
      'div',
      { class: 'error-box', role: 'alert', 'data-request-id': requestId },
      h('div', { class: 'error-message' }, icon('error'), h('span', {}, error.message)),
      h('div', { class: 'error-action' }, error.action),
      h('div', { class: 'error-details' }, details.join(' · ')),
      actions,
    );
  }

  private renderSessions(): void {
    const options = [h('option', { value: newChatValue }, 'New chat'), ...this.sessions.map((session) => h('option', { value: session.id }, sessionLabel(session)))];
    this.picker.replaceChildren(...options);
    const current = this.state.sessionId;
    if (current !== null && !this.sessions.some((session) => session.id === current)) {
      // A session just created by this panel, before the list caught up.
      this.picker.append(h('option', { value: current }, 'This chat'));
    }
    this.picker.value = current ?? newChatValue;
    this.updateControls();
  }

  private renderBanner(): void {
    const parts: HTMLElement[] = [];
    if (this.keyStatus && this.keyStatus.source === null) {
      parts.push(
        h(
          'div',
          { class: 'banner-row warning' },
          icon('key'),
          h('span', {}, 'Chat needs an Anthropic API key. None is set in SecretStorage or ANTHROPIC_API_KEY.'),
          h('button', { type: 'button', class: 'primary', 'data-action': 'set-api-key' }, 'Set API Key'),
        ),
      );
    }
    for (const problem of this.config?.problems ?? []) {
      parts.push(h('div', { class: 'banner-row warning' }, icon('warning'), h('span', {}, `Setting ignored: ${problem}`), h('button', { type: 'button', class: 'secondary', 'data-action': 'open-settings' }, 'Open Settings')));
    }
    this.banner.replaceChildren(...parts);
    this.banner.hidden = parts.length === 0;
  }

  private renderStatus(): void {
    const config = this.config;
    const key = this.keyStatus?.source === 'secret-storage' ? 'key from SecretStorage' : this.keyStatus?.source === 'environment' ? 'key from ANTHROPIC_API_KEY' : this.keyStatus ? 'no API key' : null;
    this.statusLine.textContent = config ? [config.model, `budget ${formatTokens(config.budgetTokens)} tokens`, config.windowLabel, key].filter(Boolean).join(' · ') : '';
  }

  private renderEmpty(): void {
    if (this.transcript.childElementCount === 0) {
      this.transcript.append(
        h(
          'div',
          { class: 'empty' },
          h('p', { class: 'empty-title' }, this.state.sessionId === null ? 'New chat' : 'No messages in this session yet'),
          h('p', {}, 'Ask about your code. Each answer shows, under it, the context that went into its request: which turns, how many tokens, what the window left out.'),
        ),
      );
    }
  }

  private clearEmpty(): void {
    this.transcript.querySelector('.empty')?.remove();
  }

  private updateControls(): void {
    const streaming = this.live !== null;
    this.sendButton.hidden = streaming;
    this.stopButton.hidden = !streaming;
    this.stopButton.disabled = false;
    this.sendButton.disabled = !this.initialized;
    this.renameButton.disabled = this.state.sessionId === null;
    this.topicButton.disabled = this.state.sessionId === null || streaming;
    this.transcript.setAttribute('aria-busy', String(streaming));
  }

  private scrollToEnd(force: boolean): void {
    const nearEnd = this.transcript.scrollHeight - this.transcript.scrollTop - this.transcript.clientHeight < 80;
    if (force || nearEnd) {
      this.transcript.scrollTop = this.transcript.scrollHeight;
    }
  }

  private announce(text: string): void {
    this.notice.textContent = text;
    window.setTimeout(() => {
      if (this.notice.textContent === text) {
        this.notice.textContent = '';
      }
    }, 2500);
  }

  private showNotice(text: string, isError: boolean): void {
    this.notice.classList.toggle('error', isError);
    this.announce(text);
  }

  private revealReceipt(): void {
    const receipts = this.transcript.querySelectorAll<HTMLDetailsElement>('details.receipt');
    const last = receipts[receipts.length - 1];
    if (!last) {
      this.showNotice('No context receipt in this session yet.', false);
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
    if (this.live) {
      // The answer keeps streaming into the log; the panel shows it again when you come back.
      this.live = null;
    }
    const requestId = newRequestId();
    this.pendingSelection = requestId;
    this.saveState({ sessionId });
    this.transcript.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    this.updateControls();
    this.post({ type: 'selectSession', requestId, sessionId });
    this.composer.focus();
  }

  private rename(): void {
    const sessionId = this.state.sessionId;
    if (sessionId !== null) {
      this.request({ type: 'renameSession', requestId: newRequestId(), sessionId }, (ok, message) => {
        if (message) {
          this.showNotice(message, !ok);
        }
      });
    }
  }

  private runCommand(command: PanelCommand): void {
    this.request({ type: 'runCommand', requestId: newRequestId(), command }, (ok, message) => {
      if (!ok && message) {
        this.showNotice(message, true);
      }
    });
  }

  private onTranscriptClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-action]') : null;
    if (!target) {
      return;
    }
    switch (target.dataset.action) {
      case 'copy-code':
      case 'insert-code': {
        const code = target.closest('.code-block')?.querySelector('code')?.textContent ?? '';
        const type = target.dataset.action === 'copy-code' ? 'copyCode' : 'insertCode';
        this.request({ type, requestId: newRequestId(), code }, (ok, message) => this.flashButton(target, ok, message));
        return;
      }
      case 'retry': {
        const text = this.retryTexts.get(target.dataset.requestId ?? '');
        if (text !== undefined && !this.live) {
          target.closest('.error-box')?.classList.add('retried');
          this.send(text, target.dataset.requestId);
        }
        return;
      }
      case 'set-api-key':
        this.runCommand('setApiKey');
        return;
      case 'open-settings':
        this.runCommand('openSettings');
        return;
    }
  }

  private flashButton(button: HTMLElement, ok: boolean, message: string | null): void {
    const label = button.querySelector('.label');
    if (!label) {
      return;
    }
    const before = label.textContent;
    label.textContent = ok ? (message ?? 'Done') : 'Failed';
    button.classList.toggle('failed', !ok);
    if (!ok && message) {
      this.showNotice(message, true);
    }
    window.setTimeout(() => {
      label.textContent = before;
      button.classList.remove('failed');
    }, 1500);
  }
}

function describeInput(input: unknown): string {
  try {
    return JSON.stringify(input, null, 2) ?? String(input);
  } catch {
    return String(input);
  }
}

const root = document.getElementById('app');
if (root) {
  new ChatView(readInitialData()).mount(root);
}
