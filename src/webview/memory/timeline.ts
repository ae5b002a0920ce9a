import type { TimelineOverview, TimelineRow } from '../../shared/memoryPanelMessages';
import { h, icon } from '../chat/dom';
import { categoryIcons, categoryNames, count } from './format';
import { readableTime, shortTime } from '../../shared/timeAxis';

// The session's timeline, virtualised: a spacer as tall as every row, and only the rows in view
// (plus a few) in the DOM. Rows come from the engine a page at a time (by the seq each page
// starts at), and a bounded number of pages is kept. Keyboard: arrows, Page Up/Down, Home/End
// move the active row; Enter sets the start of the range, Shift+Enter its end.

export interface TimelineCallbacks {
  fetchPage(page: number, fromSeq: number): Promise<readonly TimelineRow[]>;
  pick(row: TimelineRow, end: boolean): void;
  undo(row: TimelineRow): void;
}

const rowHeight = 24;
const overscan = 8;
const keptPages = 40;

export class VirtualTimeline {
  readonly element = h('div', { class: 'timeline', id: 'timeline', tabindex: '0', role: 'list', 'aria-label': 'Session timeline' });
  private readonly spacer = h('div', { class: 'timeline-spacer' });
  private readonly rows = h('div', { class: 'timeline-rows' });
  private overview: TimelineOverview | null = null;
  private readonly pages = new Map<number, readonly TimelineRow[]>();
  private readonly loading = new Set<number>();
  private generation = 0;
  private active = 0;
  private range: { first: number; last: number } | null = null;
  private frame: number | undefined;

  constructor(private readonly callbacks: TimelineCallbacks) {
    this.spacer.append(this.rows);
    this.element.append(this.spacer);
    this.element.addEventListener('scroll', () => this.schedule());
    this.element.addEventListener('keydown', (event) => this.onKey(event));
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  /** A new overview (another session, or the session grew): keeps the place unless `reset`. */
  setOverview(overview: TimelineOverview, reset: boolean): void {
    this.overview = overview;
    this.generation++;
    this.pages.clear();
    this.loading.clear();
    if (reset) {
      this.active = 0;
      this.element.scrollTop = 0;
    }
    this.spacer.style.height = `${overview.eventCount * rowHeight}px`;
    this.render();
  }

  setRange(range: { first: number; last: number } | null): void {
    this.range = range;
    this.render();
  }

  scrollToIndex(index: number): void {
    const height = this.element.clientHeight || rowHeight * 10;
    this.active = index;
    this.element.scrollTop = Math.max(0, index * rowHeight - height / 3);
    this.render();
    this.element.focus();
  }

  /** The rows in the DOM now (what a test or a screen reader sees). */
  get renderedCount(): number {
    return this.rows.childElementCount;
  }

  private schedule(): void {
    if (this.frame === undefined) {
      this.frame = requestAnimationFrame(() => {
        this.frame = undefined;
        this.render();
      });
    }
  }

  private rowAt(index: number): TimelineRow | undefined {
    const size = this.overview?.pageSize ?? 1;
    return this.pages.get(Math.floor(index / size))?.[index % size];
  }

  private load(page: number): void {
    const overview = this.overview;
    const fromSeq = overview?.pageStarts[page];
    if (!overview || fromSeq === undefined || this.pages.has(page) || this.loading.has(page)) {
      return;
    }
    const generation = this.generation;
    this.loading.add(page);
    void this.callbacks.fetchPage(page, fromSeq).then(
      (rows) => {
        if (generation !== this.generation) {
          return;
        }
        this.loading.delete(page);
        this.pages.set(page, rows);
        // Keep the pages nearest the view; drop the rest.
        if (this.pages.size > keptPages) {
          const center = Math.floor(this.active / overview.pageSize);
          const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center))[0];
          if (far !== undefined) {
            this.pages.delete(far);
          }
        }
        this.render();
      },
      () => this.loading.delete(page),
    );
  }

  private render(): void {
    const overview = this.overview;
    if (!overview) {
      this.rows.replaceChildren();
      return;
    }
    const height = this.element.clientHeight || rowHeight * 20;
    const first = Math.max(0, Math.floor(this.element.scrollTop / rowHeight) - overscan);
    const last = Math.min(overview.eventCount - 1, Math.ceil((this.element.scrollTop + height) / rowHeight) + overscan);
    const rows: HTMLElement[] = [];
    for (let index = first; index <= last; index++) {
      const row = this.rowAt(index);
      if (!row) {
        this.load(Math.floor(index / overview.pageSize));
      }
      rows.push(this.rowElement(index, row));
    }
    this.rows.replaceChildren(...rows);
    this.element.setAttribute('aria-activedescendant', `row-${this.active}`);
  }

  private rowElement(index: number, row: TimelineRow | undefined): HTMLElement {
    const top = `${index * rowHeight}px`;
    if (!row) {
      const placeholder = h('div', { class: 'row loading', id: `row-${index}`, role: 'listitem' }, '…');
      placeholder.style.top = top;
      return placeholder;
    }
    const inRange = this.range !== null && row.turn >= this.range.first && row.turn <= this.range.last && row.turn > 0;
    const compaction = row.compaction;
    const classes = ['row', `cat-${row.category}`, inRange ? 'in-range' : '', index === this.active ? 'active' : '', row.failed ? 'failed' : '', compaction?.undone ? 'undone' : ''].filter(Boolean).join(' ');
    const element = h(
      'div',
      { class: classes, id: `row-${index}`, role: 'listitem', 'data-index': String(index), 'data-seq': String(row.seq), 'data-category': row.category, title: `${categoryNames[row.category]} · event ${row.seq} · ${readableTime(row.timeMs)}${row.timeFromSource ? ' (time in the imported transcript)' : ''}` },
      h('span', { class: 'turn' }, row.turn > 0 ? String(row.turn) : ''),
      h('span', { class: 'kind', title: categoryNames[row.category] }, icon(categoryIcons[row.category])),
      h('span', { class: 'label' }, compaction ? `${compaction.undone ? '(undone) ' : ''}Compaction of turns ${compaction.firstTurn}–${compaction.lastTurn}: ${count(compaction.summaryTokens)} tokens in place of ${count(compaction.sourceTokens)} (${compaction.tier}, ${compaction.model})` : row.label),
      h('span', { class: 'time', title: row.timeFromSource ? 'time in the imported transcript' : 'time' }, shortTime(row.timeMs)),
      h('span', { class: 'tokens', title: 'tokens' }, row.tokens > 0 ? count(row.tokens) : ''),
    );
    element.style.top = top;
    if (compaction && !compaction.undone) {
      const undo = h('button', { class: 'undo', type: 'button', title: `Undo this compaction (turns ${compaction.firstTurn}–${compaction.lastTurn})` }, icon('discard'), 'Undo');
      undo.addEventListener('click', (event) => {
        event.stopPropagation();
        this.callbacks.undo(row);
      });
      element.append(undo);
    }
    element.addEventListener('click', (event) => {
      this.active = index;
      this.callbacks.pick(row, event.shiftKey);
      this.render();
    });
    return element;
  }

  private onKey(event: KeyboardEvent): void {
    const overview = this.overview;
    if (!overview || event.target !== this.element) {
      return;
    }
    const pageRows = Math.max(1, Math.floor(this.element.clientHeight / rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: pageRows, PageUp: -pageRows, Home: -Infinity, End: Infinity };
    const move = moves[event.key];
    if (move !== undefined) {
      event.preventDefault();
      this.active = Math.max(0, Math.min(overview.eventCount - 1, this.active + move));
      const top = this.active * rowHeight;
      if (top < this.element.scrollTop || top + rowHeight > this.element.scrollTop + this.element.clientHeight) {
        this.element.scrollTop = move > 0 ? top - this.element.clientHeight + rowHeight * 2 : top - rowHeight;
      }
      this.render();
      return;
    }
    const row = this.rowAt(this.active);
    if (event.key === 'Enter' && row) {
      event.preventDefault();
      this.callbacks.pick(row, event.shiftKey);
    } else if ((event.key === 'Delete' || event.key === 'u') && row?.compaction && !row.compaction.undone) {
      event.preventDefault();
      this.callbacks.undo(row);
    }
  }
}
