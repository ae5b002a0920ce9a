import type { ContextReceipt } from '../../core/context/contextTypes';
import type { TranscriptEntry } from '../../shared/chatPanelMessages';
import type { ChatErrorInfo } from '../../shared/chatProtocol';
import { h, icon } from './dom';
import { compactionNote, describeToolCall, formatTokens, importedRequestSummary } from './format';
import { renderMarkdown } from './markdown';
import { renderReceipt, type TurnLookup } from './receipt';

// The conversation: one card per question (your message), then one answer card holding every
// model round of it (text, tool calls inline, a single receipt with each request inside). Turn
// numbers count your questions, as the Sessions tree and receipts do.

/** One text block of an answer (a model round's words), possibly still streaming. */
export interface TextRound {
  readonly body: HTMLElement;
  text: string;
}

export class AnswerCard {
  readonly element: HTMLElement;
  private readonly receipts: ContextReceipt[] = [];
  private receiptElement: HTMLElement | null = null;
  private readonly tools = new Map<string, HTMLElement>();
  private readonly modelLabel = h('span', { class: 'model' });
  private badges = h('div', { class: 'badges' });
  private content = 0;

  constructor(
    private readonly turnOf: TurnLookup,
    model: string | null,
  ) {
    this.element = h('article', { class: 'turn assistant', 'aria-label': 'Answer' }, h('div', { class: 'who' }, icon('sparkle'), h('span', {}, 'Assistant'), this.modelLabel), this.badges);
    this.setModel(model);
  }

  get hasContent(): boolean {
    return this.content > 0;
  }

  setModel(model: string | null): void {
    if (model) {
      this.modelLabel.textContent = model;
    }
  }

  /** A finished round's text (from the log); blank text adds nothing. */
  addText(text: string): void {
    if (text.trim() !== '') {
      this.startText().body.innerHTML = renderMarkdown(text);
    }
  }

  /** A text block to stream into. */
  startText(): TextRound {
    const body = h('div', { class: 'markdown' });
    this.insert(body);
    this.content++;
    return { body, text: '' };
  }

  addToolCall(toolUseId: string, name: string, input: unknown): void {
    const { verb, target, isPath } = describeToolCall(name, input);
    const json = typeof input === 'string' ? input : stringify(input);
    const targetElement =
      target === null
        ? null
        : isPath
          ? h('a', { href: '#', class: 'file-link', 'data-action': 'open-file', 'data-path': target, title: `Open ${target}` }, target)
          : h('span', { class: 'tool-target' }, target);
    const row = h(
      'details',
      { class: 'tool', 'data-tool-use-id': toolUseId },
      h('summary', {}, icon(toolIcon(name)), h('span', { class: 'tool-verb' }, verb), targetElement, h('span', { class: 'tool-status' })),
      h('div', { class: 'tool-section-label' }, `Input (${name})`),
      h('pre', { class: 'tool-input' }, json),
    );
    this.tools.set(toolUseId, row);
    this.insert(row);
    this.content++;
  }

  addToolResult(toolUseId: string, content: string, isError: boolean): void {
    const result = h(
      'div',
      { class: `tool-result${isError ? ' error' : ''}` },
      h('div', { class: 'tool-section-label' }, isError ? 'Result (error)' : 'Result'),
      h('pre', {}, content.length > 20_000 ? `${content.slice(0, 20_000)}\n…` : content),
    );
    const row = this.tools.get(toolUseId);
    if (row) {
      row.append(result);
      row.classList.toggle('tool-error', isError);
      const status = row.querySelector('.tool-status');
      if (status) {
        status.textContent = isError ? 'failed' : `${formatTokens(content.split('\n').length)} ${content.includes('\n') ? 'lines' : 'line'}`;
      }
    } else {
      this.insert(result);
    }
  }

  addReceipt(receipt: ContextReceipt): void {
    this.receipts.push(receipt);
    const next = renderReceipt(this.receipts, this.turnOf);
    if (this.receiptElement) {
      (next).open = (this.receiptElement as HTMLDetailsElement).open;
      this.receiptElement.replaceWith(next);
    } else {
      this.element.append(next);
    }
    this.receiptElement = next;
  }

  /** A request an imported session recorded: shown where a receipt goes, in its own words. */
  addImportedRequest(entry: Extract<TranscriptEntry, { kind: 'importedRequest' }>): void {
    this.element.append(
      h(
        'details',
        { class: 'receipt imported-request' },
        h('summary', {}, icon('database'), h('span', { class: 'receipt-summary' }, importedRequestSummary(entry))),
        h(
          'div',
          { class: 'receipt-body' },
          h('p', { class: 'receipt-meta' }, `Claude Code wrote this request (${entry.requestRef}${entry.model ? `, to ${entry.model}` : ''}) into its transcript when it sent it. Sizes are characters / 4: it records no token counts.`),
        ),
      ),
    );
  }

  markIncomplete(): void {
    if (!this.element.classList.contains('incomplete')) {
      this.element.classList.add('incomplete');
      this.badges.append(h('div', { class: 'badge incomplete-badge', role: 'note' }, icon('warning'), ' Incomplete answer: it was cut off; the part that arrived is kept in the log.'));
    }
  }

  markSuperseded(): void {
    if (!this.element.classList.contains('superseded')) {
      this.element.classList.add('superseded');
      this.badges.append(h('div', { class: 'badge superseded-badge', role: 'note' }, icon('history'), ' Superseded: a retry answered this question again; this part is no longer sent to the model.'));
    }
  }

  /** Ends the card: a request that produced nothing says so rather than showing an empty box. */
  finish(): void {
    if (this.content === 0 && this.receipts.length > 0 && !this.element.querySelector('.no-answer-badge')) {
      this.element.classList.add('no-answer');
      this.badges.append(h('div', { class: 'badge no-answer-badge', role: 'note' }, icon('circle-slash'), ' No answer was logged for this request: it failed or was stopped before any text arrived.'));
    }
    this.element.classList.remove('streaming');
  }

  /** Content goes above the badges and the receipt, in arrival order. */
  private insert(node: HTMLElement): void {
    this.element.insertBefore(node, this.badges);
  }
}

export class TranscriptView {
  readonly element = h('section', { id: 'transcript', class: 'transcript', role: 'log', 'aria-label': 'Conversation', tabindex: '-1' });
  private card: AnswerCard | null = null;
  /** The seq of each question, by turn (index 0 is turn 1); NaN while a sent question's is unknown. */
  private turnStarts: number[] = [];
  private turns = 0;
  private prompts: string[] = [];
  /** What Retry on an error box sends again, by the failed send's request id. */
  readonly retryTexts = new Map<string, string>();

  constructor(private readonly model: () => string | null) {}

  readonly turnOf: TurnLookup = (seq) => {
    // The last question at or before `seq`: its turn's events follow it in the log.
    for (let index = this.turnStarts.length - 1; index >= 0; index--) {
      const start = this.turnStarts[index]!;
      if (start <= seq) {
        return index + 1;
      }
    }
    return undefined;
  };

  /** The prompts of the shown session, oldest first (the composer's Up recalls them). */
  get userPrompts(): readonly string[] {
    return this.prompts;
  }

  get isEmpty(): boolean {
    return !this.element.querySelector('.turn, .divider, .error-box');
  }

  reset(entries: readonly TranscriptEntry[]): void {
    this.element.replaceChildren();
    this.card = null;
    this.turnStarts = [];
    this.turns = 0;
    this.prompts = [];
    for (const entry of entries) {
      this.append(entry);
    }
    this.closeCard();
  }

  showLoading(): void {
    this.element.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  }

  showEmpty(isNewChat: boolean): void {
    if (this.isEmpty) {
      this.element.replaceChildren(
        h(
          'div',
          { class: 'empty' },
          h('p', { class: 'empty-title' }, isNewChat ? 'New chat' : 'No messages in this session yet'),
          h('p', {}, 'Ask about your code. Each answer shows, under it, the context that went into its request: which turns, how many tokens, what the window left out.'),
        ),
      );
    }
  }

  private clearEmpty(): void {
    this.element.querySelector('.empty')?.remove();
    this.element.querySelector(':scope > .loading')?.remove();
  }

  append(entry: TranscriptEntry): void {
    this.clearEmpty();
    switch (entry.kind) {
      case 'user':
        this.question(entry.text, entry.seq);
        return;
      case 'assistant': {
        const card = this.openCard(entry.model);
        if (entry.receipt) {
          card.addReceipt(entry.receipt);
        }
        card.addText(entry.text);
        if (entry.incomplete) {
          card.markIncomplete();
        }
        if (entry.superseded) {
          card.markSuperseded();
        }
        return;
      }
      case 'toolUse':
        this.openCard(null).addToolCall(entry.toolUseId, entry.name, parseJson(entry.input));
        return;
      case 'toolResult':
        this.openCard(null).addToolResult(entry.toolUseId, entry.content, entry.isError);
        return;
      case 'receipt':
        this.openCard(null).addReceipt(entry.receipt);
        return;
      case 'topic':
        this.closeCard();
        this.element.append(h('div', { class: 'divider topic', role: 'separator', 'aria-label': `New topic${entry.label ? `: ${entry.label}` : ''}` }, icon('milestone'), ` New topic${entry.label ? `: ${entry.label}` : ''}`));
        return;
      case 'renamed':
        this.closeCard();
        this.element.append(h('div', { class: 'divider renamed', role: 'note' }, icon('edit'), ` Renamed to “${entry.name}”`));
        return;
      case 'error':
        this.closeCard();
        this.element.append(renderError(entry.requestId, entry.error, entry.retryText, this.retryTexts));
        return;
      case 'importedRequest':
        this.openCard(entry.model).addImportedRequest(entry);
        return;
      case 'compaction':
        this.closeCard();
        this.element.append(renderCompaction(entry));
        return;
      case 'earlier':
        this.turns = entry.turnsBefore ?? 0;
        this.element.append(h('div', { class: 'divider earlier', role: 'note' }, icon('history'), ` Earlier messages are in the log; this panel shows the newest ${formatTokens(entry.shownEvents)} events.`));
        return;
    }
  }

  /** Retry answers the newest question only: older error boxes lose their button. */
  removeRetryButtons(): void {
    for (const button of this.element.querySelectorAll('button[data-action="retry"]')) {
      button.remove();
    }
  }

  /** Your message: a new turn. The answer card that follows is opened on demand. */
  question(text: string, seq: number | null): number {
    this.clearEmpty();
    this.closeCard();
    this.turns++;
    this.turnStarts.push(seq ?? Number.NaN);
    this.prompts.push(text);
    this.element.append(
      h(
        'article',
        { class: 'turn user', 'aria-label': `Your message, turn ${this.turns}`, 'data-turn': String(this.turns) },
        h('div', { class: 'who' }, icon('account'), h('span', {}, 'You'), h('span', { class: 'turn-number' }, `Turn ${this.turns}`)),
        h('div', { class: 'user-text' }, text),
      ),
    );
    return this.turns;
  }

  /** The seq of the question being answered live (it arrives with a later round's receipt). */
  noteCurrentTurnStart(seq: number): void {
    if (this.turns > 0 && Number.isNaN(this.turnStarts[this.turns - 1])) {
      this.turnStarts[this.turns - 1] = seq;
    }
  }

  /** The answer card of the current question (created on first use). */
  openCard(model: string | null): AnswerCard {
    if (!this.card) {
      this.card = new AnswerCard(this.turnOf, model ?? this.model());
      this.element.append(this.card.element);
    } else {
      this.card.setModel(model);
    }
    return this.card;
  }

  closeCard(): void {
    this.card?.finish();
    this.card = null;
  }

  appendNode(node: HTMLElement): void {
    this.closeCard();
    this.element.append(node);
  }
}

export function renderError(requestId: string, error: ChatErrorInfo, retryText: string | null, retryTexts: Map<string, string>): HTMLElement {
  if (retryText !== null) {
    retryTexts.set(requestId, retryText);
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

/** A committed compaction as its own row, with Undo while it is in force. */
function renderCompaction(entry: Extract<TranscriptEntry, { kind: 'compaction' }>): HTMLElement {
  return h(
    'div',
    { class: `compaction-note${entry.undone ? ' undone' : ''}`, role: 'note', 'data-compaction-id': entry.eventId },
    icon(entry.undone ? 'discard' : 'fold'),
    h('span', { class: 'compaction-text' }, compactionNote(entry)),
    entry.undone ? null : h('button', { type: 'button', class: 'link-button', 'data-action': 'undo-compaction', 'data-compaction-id': entry.eventId, 'aria-label': `Undo the compaction of turns ${entry.firstTurn}–${entry.lastTurn}` }, 'Undo'),
  );
}

function toolIcon(name: string): string {
  switch (name) {
    case 'read_file':
      return 'file';
    case 'list_files':
      return 'list-tree';
    case 'search_text':
      return 'search';
    default:
      return 'tools';
  }
}

function stringify(input: unknown): string {
  try {
    return JSON.stringify(input, null, 2) ?? String(input);
  } catch {
    return String(input);
  }
}

/** A logged tool input (JSON text, possibly cut short) back as a value, for its one-line summary. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
