import { h, icon } from './dom';

// The message box under the conversation: Enter sends, Shift+Enter adds a line, Up in an empty
// box (or at its first line) recalls earlier prompts and Down walks back, Escape stops an answer.

export interface ComposerEvents {
  /** The user asked to send `text`; false when it was not sent (it stays in the box). */
  send(text: string): boolean;
  stop(): void;
  draftChanged(text: string): void;
}

export class Composer {
  readonly input = h('textarea', {
    id: 'composer',
    class: 'composer-input',
    rows: '3',
    'aria-label': 'Message',
    'aria-describedby': 'composer-hint',
    placeholder: 'Ask about your code. Enter sends, Shift+Enter adds a line, Up recalls your last message.',
  });
  readonly sendButton = h('button', { type: 'button', id: 'send', class: 'primary', 'aria-label': 'Send message', title: 'Send (Enter)' }, icon('send'), h('span', {}, 'Send'));
  readonly stopButton = h('button', { type: 'button', id: 'stop', class: 'secondary', 'aria-label': 'Stop the answer', title: 'Stop (Escape)', hidden: true }, icon('debug-stop'), h('span', {}, 'Stop'));
  readonly statusLine = h('div', { id: 'status-line', class: 'status-line' });
  readonly notice = h('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });
  readonly element: HTMLElement;
  /** Prompts sent in this session, oldest first (Up walks back through them). */
  private history: string[] = [];
  private historyIndex: number | null = null;
  private draftBeforeHistory = '';
  private noticeTimer: number | undefined;

  constructor(private readonly events: ComposerEvents) {
    this.element = h(
      'footer',
      { class: 'composer' },
      h('span', { id: 'composer-hint', class: 'visually-hidden' }, 'Enter sends, Shift+Enter adds a line, Up recalls your last message, Escape stops an answer.'),
      this.input,
      h('div', { class: 'composer-bar' }, this.statusLine, this.notice, this.stopButton, this.sendButton),
    );
    this.input.addEventListener('keydown', (event) => this.onKey(event));
    this.input.addEventListener('input', () => {
      this.historyIndex = null;
      events.draftChanged(this.input.value);
    });
    this.sendButton.addEventListener('click', () => this.submit());
    this.stopButton.addEventListener('click', () => events.stop());
  }

  focus(): void {
    this.input.focus();
  }

  setHistory(prompts: readonly string[]): void {
    this.history = [...prompts];
    this.historyIndex = null;
  }

  remember(prompt: string): void {
    if (this.history[this.history.length - 1] !== prompt) {
      this.history.push(prompt);
    }
    this.historyIndex = null;
  }

  setStreaming(streaming: boolean, ready: boolean): void {
    this.sendButton.hidden = streaming;
    this.stopButton.hidden = !streaming;
    this.stopButton.disabled = false;
    this.sendButton.disabled = !ready;
  }

  showNotice(text: string, isError = false, durationMs = 2500): void {
    this.notice.classList.toggle('error', isError);
    this.notice.textContent = text;
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => {
      if (this.notice.textContent === text) {
        this.notice.textContent = '';
      }
    }, durationMs);
  }

  private submit(): void {
    const text = this.input.value;
    if (text.trim() === '') {
      return;
    }
    if (this.events.send(text)) {
      this.remember(text);
      this.input.value = '';
      this.events.draftChanged('');
    }
  }

  private onKey(event: KeyboardEvent): void {
    if (event.isComposing) {
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      this.submit();
      return;
    }
    const noModifiers = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
    if (event.key === 'ArrowUp' && noModifiers && this.caretOnFirstLine() && (this.input.value === '' || this.historyIndex !== null)) {
      event.preventDefault();
      this.recall(-1);
    } else if (event.key === 'ArrowDown' && noModifiers && this.historyIndex !== null && this.caretOnLastLine()) {
      event.preventDefault();
      this.recall(1);
    }
  }

  private recall(step: -1 | 1): void {
    if (this.history.length === 0) {
      return;
    }
    if (this.historyIndex === null) {
      this.draftBeforeHistory = this.input.value;
    }
    const next = (this.historyIndex ?? this.history.length) + step;
    if (next >= this.history.length) {
      this.historyIndex = null;
      this.input.value = this.draftBeforeHistory;
    } else {
      this.historyIndex = Math.max(0, next);
      this.input.value = this.history[this.historyIndex] ?? '';
    }
    const end = this.input.value.length;
    this.input.setSelectionRange(end, end);
    this.events.draftChanged(this.input.value);
  }

  private caretOnFirstLine(): boolean {
    return !this.input.value.slice(0, this.input.selectionStart).includes('\n');
  }

  private caretOnLastLine(): boolean {
    return !this.input.value.slice(this.input.selectionEnd).includes('\n');
  }
}
