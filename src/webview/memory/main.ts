import { parseMemoryHostMessage, type CompactionTier, type CompactorKind, type MemoryCompactorSetting, type MemoryHostMessage, type MemoryPreview, type MemoryReplyError, type MemoryReplyValues, type MemorySessionItem, type MemoryWebviewMessage } from '../../shared/memoryPanelMessages';
import type { SearchResult, StoreHealth, TimelineOverview, TimelineRow } from '../../shared/memoryPanelMessages';
import { h, icon, newRequestId } from '../chat/dom';
import { age, bytes, categoryNames, count } from './format';
import { growthChart } from './growthChart';
import { previewView, showCommitProblem } from './previewView';
import { VirtualTimeline } from './timeline';

// The memory panel's browser side: a session's timeline (virtualised, paged from the engine),
// its token growth, search, store health, and compaction: pick a range of turns, preview it
// side by side, commit or cancel, undo from the timeline. It renders what the extension answers
// and never talks to the engine itself.

interface PanelState {
  readonly sessionId: string | null;
}

const vscode = acquireVsCodeApi<PanelState>();

class ReplyError extends Error {
  constructor(readonly reply: MemoryReplyError) {
    super(reply.message);
  }
}

type Request = Exclude<MemoryWebviewMessage, { type: 'ready' }>;
type RequestWithoutId = Request extends infer R ? (R extends Request ? Omit<R, 'requestId'> : never) : never;

class MemoryView {
  private readonly pending = new Map<string, { resolve: (value: unknown) => void; reject: (error: ReplyError) => void }>();
  private sessions: MemorySessionItem[] = [];
  private sessionId: string | null = null;
  private overview: TimelineOverview | null = null;
  private preview: MemoryPreview | null = null;
  private refreshTimer: number | undefined;

  private readonly picker = h('select', { id: 'session-picker', 'aria-label': 'Session' });
  private readonly searchBox = h('input', { id: 'search', type: 'search', placeholder: 'Search this session', 'aria-label': 'Search this session' });
  private readonly firstTurn = h('input', { id: 'first-turn', type: 'number', min: '1', 'aria-label': 'From turn' });
  private readonly lastTurn = h('input', { id: 'last-turn', type: 'number', min: '1', 'aria-label': 'To turn' });
  private readonly tier = h('select', { id: 'tier', 'aria-label': 'Fidelity tier' }, h('option', { value: 'balanced' }, 'balanced'), h('option', { value: 'aggressive' }, 'aggressive'));
  private readonly compactor = h('select', { id: 'compactor', 'aria-label': 'Who writes the summary' }, h('option', { value: 'offline' }, 'offline compactor'), h('option', { value: 'model' }, 'the model'));
  private readonly previewButton = h('button', { id: 'preview-button', type: 'button', class: 'primary' }, icon('eye'), 'Preview compaction');
  private readonly status = h('p', { id: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly summaryLine = h('p', { id: 'session-summary' });
  private readonly health = h('dl', { id: 'health', class: 'health', 'aria-label': 'Store health' });
  private readonly chart = h('div', { id: 'growth', class: 'chart' });
  private readonly results = h('ol', { id: 'search-results', class: 'search-results', 'aria-label': 'Search results' });
  private readonly previewSlot = h('div', { id: 'preview-slot' });
  private readonly timeline = new VirtualTimeline({
    fetchPage: async (_page, fromSeq) => {
      const sessionId = this.sessionId;
      return sessionId ? (await this.request<'page'>({ type: 'page', sessionId, fromSeq })).rows : [];
    },
    pick: (row, end) => this.pick(row, end),
    undo: (row) => void this.undo(row),
  });

  constructor(private readonly root: HTMLElement) {
    const importButton = h('button', { type: 'button', id: 'import', title: 'Import Claude Code Sessions…' }, icon('cloud-download'), 'Import…');
    importButton.addEventListener('click', () => void this.request<'runCommand'>({ type: 'runCommand', command: 'importClaudeCode' }));
    const searchForm = h('form', { class: 'search', role: 'search' }, this.searchBox, h('button', { type: 'submit', title: 'Search' }, icon('search')));
    searchForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search();
    });
    this.picker.addEventListener('change', () => void this.showSession(this.picker.value, true));
    this.previewButton.addEventListener('click', () => void this.runPreview());
    root.replaceChildren(
      h('header', { class: 'bar' }, this.picker, searchForm, importButton),
      this.summaryLine,
      this.health,
      this.chart,
      this.results,
      h(
        'div',
        { class: 'range bar', role: 'group', 'aria-label': 'Compact a range of turns' },
        h('label', { for: 'first-turn' }, 'Turns'),
        this.firstTurn,
        h('label', { for: 'last-turn' }, 'to'),
        this.lastTurn,
        this.tier,
        h('label', { for: 'compactor' }, 'by'),
        this.compactor,
        this.previewButton,
        h('span', { class: 'hint' }, 'Click a row to start the range, Shift+click to end it (Enter, Shift+Enter).'),
      ),
      this.status,
      this.previewSlot,
      this.timeline.element,
    );
    root.removeAttribute('aria-busy');
    for (const input of [this.firstTurn, this.lastTurn]) {
      input.addEventListener('input', () => this.timeline.setRange(this.range()));
    }
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
    vscode.postMessage({ type: 'ready' } satisfies MemoryWebviewMessage);
  }

  private request<K extends keyof MemoryReplyValues>(message: RequestWithoutId & { type: K }): Promise<MemoryReplyValues[K]> {
    const requestId = newRequestId();
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (value: unknown) => void, reject });
      vscode.postMessage({ ...message, requestId });
    });
  }

  private receive(data: unknown): void {
    const parsed = parseMemoryHostMessage(data);
    if (!parsed.ok) {
      return;
    }
    const message: MemoryHostMessage = parsed.value;
    switch (message.type) {
      case 'init':
        if (message.compactor) {
          this.setCompactor(message.compactor);
        }
        this.setSessions(message.sessions);
        void this.showSession(message.sessionId ?? vscode.getState()?.sessionId ?? null, true);
        break;
      case 'reply': {
        const waiter = this.pending.get(message.requestId);
        this.pending.delete(message.requestId);
        if (message.ok) {
          waiter?.resolve(message.value);
        } else {
          waiter?.reject(new ReplyError(message.error));
        }
        break;
      }
      case 'storeChanged':
        this.scheduleRefresh(this.sessionId !== null && message.sessionIds.includes(this.sessionId));
        break;
      case 'compactor':
        this.setCompactor(message.compactor);
        break;
      case 'showSession':
        void this.refreshSessions().then(() => this.showSession(message.sessionId, true));
        break;
    }
  }

  private setSessions(sessions: readonly MemorySessionItem[]): void {
    this.sessions = [...sessions];
    this.picker.replaceChildren(...this.sessions.map((session) => h('option', { value: session.id }, `${session.name} (${count(session.turnCount)} turns, ${count(session.eventCount)} events)`)));
    if (this.sessionId) {
      this.picker.value = this.sessionId;
    }
  }

  /** The setting's compactor is the choice, and the model option names the model. */
  private setCompactor(setting: MemoryCompactorSetting): void {
    const model = this.compactor.querySelector<HTMLOptionElement>('option[value="model"]');
    if (model) {
      model.textContent = `${setting.model} (the model, with your API key)`;
    }
    this.compactor.value = setting.compactor;
  }

  private async refreshSessions(): Promise<void> {
    this.setSessions(await this.request<'sessions'>({ type: 'sessions' }));
  }

  private scheduleRefresh(shownChanged: boolean): void {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => {
      void this.refreshSessions();
      if (shownChanged && this.sessionId) {
        void this.showSession(this.sessionId, false);
      }
    }, 250);
  }

  private say(text: string, problem = false): void {
    this.status.replaceChildren(problem ? icon('warning') : '', text);
    this.status.classList.toggle('problem', problem);
  }

  private async showSession(sessionId: string | null, reset: boolean): Promise<void> {
    if (!sessionId) {
      this.summaryLine.textContent = 'No sessions yet: chat, or import Claude Code sessions.';
      void this.loadHealth(null);
      return;
    }
    this.sessionId = sessionId;
    vscode.setState({ sessionId });
    this.picker.value = sessionId;
    try {
      const overview = await this.request<'overview'>({ type: 'overview', sessionId });
      if (this.sessionId !== sessionId) {
        return;
      }
      this.overview = overview;
      this.summaryLine.textContent = `${overview.name}: ${count(overview.turnCount)} turns, ${count(overview.eventCount)} events`;
      this.timeline.setOverview(overview, reset);
      if (reset) {
        this.say('');
        this.results.replaceChildren();
        const last = Math.max(1, overview.turnCount - 2);
        this.firstTurn.value = '1';
        this.lastTurn.value = String(last);
        this.timeline.setRange(this.range());
      }
      void this.loadGrowth(sessionId);
      void this.loadHealth(sessionId);
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), true);
    }
  }

  private async loadGrowth(sessionId: string): Promise<void> {
    const series = await this.request<'growth'>({ type: 'growth', sessionId });
    if (this.sessionId === sessionId) {
      this.chart.replaceChildren(h('div', { class: 'chart-label' }, `Tokens over time: ${count(series.totalTokens)} in the session's content; dots are recorded request sizes, shaded ranges are compacted.`), growthChart(series, (index) => this.timeline.scrollToIndex(index)));
    }
  }

  private async loadHealth(sessionId: string | null): Promise<void> {
    const health: StoreHealth = await this.request<'health'>({ type: 'health', sessionId });
    const item = (term: string, value: string, id: string): HTMLElement[] => [h('dt', {}, term), h('dd', { id }, value)];
    this.health.replaceChildren(
      ...item('Store', `${bytes(health.journalBytes)} journal, ${bytes(health.databaseBytes)} database, ${bytes(health.snapshotBytes)} snapshot`, 'health-size'),
      ...item('Growth', health.bytesPerDay === null ? 'less than a day of history' : `${bytes(health.bytesPerDay)} per day`, 'health-growth'),
      ...item('Events', `${count(health.eventCount)} in ${count(health.sessionCount)} sessions${health.damagedRecords > 0 ? `, ${count(health.damagedRecords)} damaged` : ''}`, 'health-events'),
      ...item('Snapshot', health.snapshotMs === null ? 'none yet' : `${age(health.snapshotMs)} old, ${count(health.eventsSinceSnapshot ?? 0)} events since`, 'health-snapshot'),
      ...item('Barriers', health.barriers.length === 0 ? 'none: this session can be compacted' : health.barriers.join(' '), 'health-barriers'),
    );
  }

  private range(): { first: number; last: number } | null {
    const first = Number(this.firstTurn.value);
    const last = Number(this.lastTurn.value);
    return Number.isSafeInteger(first) && Number.isSafeInteger(last) && first >= 1 && last >= first ? { first, last } : null;
  }

  private pick(row: TimelineRow, end: boolean): void {
    if (row.turn < 1) {
      return;
    }
    if (end) {
      this.lastTurn.value = String(row.turn);
      if (Number(this.firstTurn.value) > row.turn) {
        this.firstTurn.value = String(row.turn);
      }
    } else {
      this.firstTurn.value = String(row.turn);
      if (Number(this.lastTurn.value) < row.turn) {
        this.lastTurn.value = String(row.turn);
      }
    }
    this.timeline.setRange(this.range());
  }

  private async runPreview(compactor = this.compactor.value as CompactorKind): Promise<void> {
    const range = this.range();
    const sessionId = this.sessionId;
    if (!range || !sessionId) {
      this.say('Choose a range of turns first (From ≤ To).', true);
      return;
    }
    this.say(`Previewing turns ${range.first}–${range.last}…`);
    await this.cancelPreview();
    try {
      const shown = await this.request<'preview'>({ type: 'preview', sessionId, firstTurn: range.first, lastTurn: range.last, tier: this.tier.value as CompactionTier, compactor });
      this.preview = shown;
      this.say('');
      const section = previewView(shown, { commit: () => void this.commit(section), cancel: () => void this.cancelPreview(), again: () => void this.runPreview(compactor) });
      this.previewSlot.replaceChildren(section);
      section.querySelector<HTMLButtonElement>('#commit')?.focus();
    } catch (error) {
      const reason = error instanceof ReplyError ? error.reply.reason : 'other';
      this.say(error instanceof Error ? error.message : String(error), true);
      if (reason === 'noKey' || reason === 'model') {
        this.offerOffline(reason === 'noKey');
      }
    }
  }

  /** The model could not write the summary (no key, or its request failed): offer the offline compactor. */
  private offerOffline(withSetKey: boolean): void {
    const offline = h('button', { type: 'button', id: 'preview-offline' }, icon('eye'), 'Preview with the offline compactor');
    offline.addEventListener('click', () => void this.runPreview('offline'));
    const buttons: HTMLElement[] = [offline];
    if (withSetKey) {
      const setKey = h('button', { type: 'button', id: 'set-api-key' }, icon('key'), 'Set API Key…');
      setKey.addEventListener('click', () => void this.request<'runCommand'>({ type: 'runCommand', command: 'setApiKey' }));
      buttons.unshift(setKey);
    }
    this.status.append(' ', ...buttons);
  }

  private async cancelPreview(): Promise<void> {
    const shown = this.preview;
    this.preview = null;
    this.previewSlot.replaceChildren();
    if (shown) {
      await this.request<'cancelPreview'>({ type: 'cancelPreview', previewId: shown.previewId });
    }
  }

  private async commit(section: HTMLElement): Promise<void> {
    const shown = this.preview;
    if (!shown) {
      return;
    }
    try {
      const result = await this.request<'commit'>({ type: 'commit', previewId: shown.previewId });
      this.preview = null;
      this.previewSlot.replaceChildren();
      this.say(result.message);
      if (this.sessionId) {
        await this.showSession(this.sessionId, false);
        // The compaction is the newest event: show its row (with its Undo).
        if (this.overview) {
          this.timeline.scrollToIndex(this.overview.eventCount - 1);
        }
      }
    } catch (error) {
      const reply = error instanceof ReplyError ? error.reply : { message: String(error), reason: 'other' as const };
      showCommitProblem(section, reply.message, reply.reason === 'stale', () => void this.runPreview());
    }
  }

  private async undo(row: TimelineRow): Promise<void> {
    const compaction = row.compaction;
    if (!compaction || !this.sessionId) {
      return;
    }
    try {
      const result = await this.request<'undo'>({ type: 'undo', sessionId: this.sessionId, compactionId: compaction.id });
      this.say(result.message);
      await this.showSession(this.sessionId, false);
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), true);
    }
  }

  private async search(): Promise<void> {
    const query = this.searchBox.value.trim();
    if (!query || !this.sessionId) {
      this.results.replaceChildren();
      return;
    }
    try {
      const result: SearchResult = await this.request<'search'>({ type: 'search', sessionId: this.sessionId, query });
      this.results.replaceChildren(
        h('li', { class: 'search-count' }, `${count(result.hits.length)}${result.truncated ? '+' : ''} ${result.hits.length === 1 ? 'match' : 'matches'} for “${result.query}”`),
        ...result.hits.map((hit) => {
          const button = h('button', { type: 'button', class: 'hit', 'data-index': String(hit.index) }, h('span', { class: 'hit-kind' }, `${categoryNames[hit.category]} · event ${hit.seq}`), ' ', hit.snippet);
          button.addEventListener('click', () => this.timeline.scrollToIndex(hit.index));
          return h('li', {}, button);
        }),
      );
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error), true);
    }
  }
}

const root = document.getElementById('app');
if (root) {
  new MemoryView(root);
}
