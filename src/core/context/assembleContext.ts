import type { SessionWindowSetBody, StoredEvent } from '../log/events';
import { CompactionTracker, compactedLayout, compactionBlocks, compactionUnitReason, isCompactionUnit, type ActiveCompaction } from '../compaction/compactionView';
import {
  type ContextReceipt,
  type ExclusionReason,
  type MessagesRequest,
  type ReceiptExclusion,
  type ReceiptPart,
  type RequestMessage,
  type WindowSpec,
} from './contextTypes';
import { contentWords, shiftScore, shiftWindowMessages } from './topicShift';
import { textCacheKey, type TokenCounter } from './tokenCounts';
import { messageOverheadTokens, requestOverheadTokens } from './tokenEstimator';
import {
  buildUnitMessages,
  digestEvent,
  isContentEvent,
  lazyShiftScores,
  mergeMessages,
  UnitLayoutBuilder,
  type ContentEvent,
  type UnitLayout,
  type UnitSummary,
} from './units';
import { describeBoundary, describeWindow, selectWindow, type WindowUnit } from './windows';

export { checkMessagesRequest, countRequestTokens } from './messagesRules';

// Context assembly ("hydration"): the request sent to the model is a pure function of the
// session's events and the options. The budget rule, in order:
//   1. the system prompt and the unit being answered (the new prompt, or without one the
//      newest turn of the log) always go in; if they alone exceed the budget, that is an error
//      (ContextBudgetError) rather than a silently truncated prompt;
//   2. then pinned units, newest first, each if it fits;
//   3. then the window's units from newest to oldest while they fit: the first that does not
//      fit ends the walk, so the history sent has no holes.
// A unit's tokens are its blocks' counts plus message framing, counted before neighbours are
// merged, so the total charged is an upper bound of the request's real size by the same counter.

export interface ContextOptions {
  /** Defaults to the events' session id. */
  readonly sessionId?: string;
  /** The default window; the session's latest `session.windowSet` replaces it. */
  readonly window: WindowSpec;
  /** The default budget; the session's latest `session.windowSet` may replace it. */
  readonly budgetTokens: number;
  /** Wins over the session's own settings (CLI flags, a preview with another window). */
  readonly override?: { readonly window?: WindowSpec; readonly budgetTokens?: number };
  readonly systemPrompt: string;
  /** The new user message, not yet in the log. Absent: answer the log as it is. */
  readonly promptText?: string;
  readonly counter: TokenCounter;
  /** Now, for the receipt and for idle gaps before the new prompt. */
  readonly nowMs: number;
}

export interface AssembledContext {
  readonly request: MessagesRequest;
  readonly receipt: ContextReceipt;
}

/** The system prompt and the unit being answered do not fit in the budget. */
export class ContextBudgetError extends Error {
  override readonly name = 'ContextBudgetError';
  readonly overByTokens: number;

  constructor(
    readonly budgetTokens: number,
    readonly systemTokens: number,
    readonly promptTokens: number,
  ) {
    const over = systemTokens + promptTokens - budgetTokens;
    super(
      `the system prompt (${systemTokens} tokens) and the message being answered (${promptTokens} tokens) need ${systemTokens + promptTokens} tokens, ${over} more than the budget of ${budgetTokens}. Raise the budget by at least ${over} tokens, or shorten the message or the system prompt.`,
    );
    this.overByTokens = over;
  }
}

/** Nothing to assemble: an empty prompt, or no prompt and no user turn in the log. */
export class ContextInputError extends Error {
  override readonly name = 'ContextInputError';
}

/** The pins, window settings and topic boundaries of a session, from its control events. */
export interface SessionControls {
  readonly pinned: ReadonlySet<string>;
  readonly windowSet: SessionWindowSetBody | null;
  readonly topicBoundarySeqs: readonly number[];
  /** Committed, not undone compactions: each stands in for its range (src/core/compaction). */
  readonly compactions: readonly ActiveCompaction[];
}

/** Folds a session's control events (in seq order) into its controls. */
export class ControlsTracker implements SessionControls {
  private readonly pins = new Set<string>();
  private latestWindowSet: SessionWindowSetBody | null = null;
  private readonly boundaries: number[] = [];
  private readonly compactionTracker = new CompactionTracker();

  get pinned(): ReadonlySet<string> {
    return this.pins;
  }

  get windowSet(): SessionWindowSetBody | null {
    return this.latestWindowSet;
  }

  get topicBoundarySeqs(): readonly number[] {
    return this.boundaries;
  }

  get compactions(): readonly ActiveCompaction[] {
    return this.compactionTracker.compactions;
  }

  observe(event: StoredEvent): void {
    switch (event.kind) {
      case 'context.pinned':
        this.pins.add(event.body.eventId);
        break;
      case 'context.unpinned':
        this.pins.delete(event.body.eventId);
        break;
      case 'session.windowSet':
        this.latestWindowSet = event.body;
        break;
      case 'topic.boundary':
        this.boundaries.push(event.seq);
        break;
      case 'compaction.committed':
      case 'compaction.undone':
        this.compactionTracker.observe(event);
        break;
      default:
        break;
    }
  }
}

/** The window and budget that apply: the caller's override, else the session's own, else the defaults. */
export function effectiveSettings(controls: SessionControls, options: Pick<ContextOptions, 'window' | 'budgetTokens' | 'override'>): { window: WindowSpec; budgetTokens: number } {
  return {
    window: options.override?.window ?? controls.windowSet?.window ?? options.window,
    budgetTokens: options.override?.budgetTokens ?? controls.windowSet?.budgetTokens ?? options.budgetTokens,
  };
}

/** Cache key of the system prompt's count (an exact counter may fill it like an event's). */
export function systemPromptCacheKey(text: string): string {
  return textCacheKey('system', text);
}

/** Cache key of a new prompt's count, before it has an event id. */
export function promptCacheKey(text: string): string {
  return textCacheKey('prompt', text);
}

/** What planning needs of a session: its units laid out over digests, and its controls. */
export interface SessionLayout {
  readonly sessionId: string;
  readonly layout: UnitLayout;
  readonly controls: SessionControls;
  /** Topic-shift score of the user message at a digest index. */
  readonly shiftScoreAt: (digestIndex: number) => number | null;
  /** Topic-shift score of a new prompt against the newest messages. */
  readonly promptShiftScore: (promptText: string) => number | null;
}

/** What goes in, what stays out and what it costs: everything but the text. */
export interface ContextPlan {
  readonly sessionId: string;
  readonly window: WindowSpec;
  readonly budgetTokens: number;
  readonly systemTokens: number;
  readonly promptTokens: number;
  readonly totalTokens: number;
  readonly tokenSource: 'api' | 'estimate';
  /** Units that go in, oldest first. */
  readonly includedUnits: readonly UnitSummary[];
  readonly parts: readonly ReceiptPart[];
  readonly excluded: readonly ReceiptExclusion[];
  /** Seqs of events held back from units that went in. */
  readonly droppedSeqs: ReadonlySet<number>;
}

/**
 * Applies the window, the pins and the budget (the rule at the top of this file). Its work is
 * proportional to what goes in and to the window, not to the length of the session: windows
 * are suffixes, left-out runs are summed from prefix sums.
 */
export function planContext(session: SessionLayout, options: ContextOptions): ContextPlan {
  const { controls } = session;
  // Compacted ranges are one unit each; without compactions this is the session's own layout.
  const layout = compactedLayout(session.layout, controls.compactions, options.counter, options.promptText === undefined);
  const digests = layout.digests;
  const units = layout.units;
  const unitCount = units.length;
  const { window, budgetTokens } = effectiveSettings(controls, options);
  const counter = options.counter;

  const systemCount = options.systemPrompt.length > 0 ? counter.count([{ type: 'text', text: options.systemPrompt }], systemPromptCacheKey(options.systemPrompt)) : { tokens: 0, source: 'api' as const };
  const systemTokens = systemCount.tokens + requestOverheadTokens;
  let exact = systemCount.source === 'api';

  const promptText = options.promptText;
  let promptTokens: number;
  let answeredUnit: number | undefined;
  if (promptText !== undefined) {
    if (promptText.trim().length === 0) {
      throw new ContextInputError('the message is empty: there is nothing to send');
    }
    const count = counter.count([{ type: 'text', text: promptText }], promptCacheKey(promptText));
    promptTokens = count.tokens + messageOverheadTokens;
    exact &&= count.source === 'api';
  } else {
    const last = units.at(-1);
    if (!last?.isTurn) {
      throw new ContextInputError(`session ${session.sessionId} has no user turn to answer, and no new message was given`);
    }
    answeredUnit = last.index;
    promptTokens = last.tokens;
  }
  if (systemTokens + promptTokens > budgetTokens) {
    throw new ContextBudgetError(budgetTokens, systemTokens, promptTokens);
  }

  // The window sees the log's units plus, with a new prompt, a unit for it.
  const promptUnit: WindowUnit | undefined =
    promptText !== undefined ? { firstSeq: Number.MAX_SAFE_INTEGER, startWallMs: options.nowMs, prevWallMs: digests.at(-1)?.wallMs ?? null, isTurn: true, tokens: promptTokens } : undefined;
  const selection = selectWindow(window, {
    count: unitCount + (promptUnit ? 1 : 0),
    at: (index) => (index < unitCount ? units[index]! : promptUnit!),
    topicBoundarySeqs: controls.topicBoundarySeqs,
    shiftScore: (index) => (index < unitCount ? session.shiftScoreAt(units[index]!.start) : session.promptShiftScore(promptText ?? '')),
  });
  const windowStart = Math.min(selection.start, unitCount);
  const inWindowWords = `in the ${describeWindow(window)}${selection.boundary ? ` since ${describeBoundary(selection.boundary)}` : ''}`;
  const leadingNonTurn = unitCount > 0 && !units[0]!.isTurn;

  const included = new Map<number, { kind: ReceiptPart['kind']; reason: string }>();
  const pinnedOverBudget = new Set<number>();
  let remaining = budgetTokens - systemTokens - promptTokens;
  if (answeredUnit !== undefined) {
    included.set(answeredUnit, { kind: 'prompt', reason: 'the turn being answered: always sent' });
  }
  const pinned = pinnedUnits(layout, controls.pinned).filter((index) => index !== answeredUnit && !(leadingNonTurn && index === 0));
  for (let p = pinned.length - 1; p >= 0; p--) {
    const unit = units[pinned[p]!]!;
    if (unit.tokens <= remaining) {
      remaining -= unit.tokens;
      included.set(unit.index, { kind: 'pinned', reason: unit.index >= windowStart ? `pinned (also ${inWindowWords})` : 'pinned: kept outside the window' });
    } else {
      pinnedOverBudget.add(unit.index);
    }
  }
  // Newest first while they fit; the first that does not fit ends the walk.
  for (let index = (answeredUnit ?? unitCount) - 1; index >= windowStart; index--) {
    if (included.has(index) || pinnedOverBudget.has(index) || (leadingNonTurn && index === 0)) {
      continue;
    }
    const unit = units[index]!;
    if (unit.tokens > remaining) {
      break;
    }
    remaining -= unit.tokens;
    included.set(index, {
      kind: unit.hasToolUse ? 'tool-exchange' : 'turn',
      reason: `${inWindowWords}${unit.hasToolUse ? '; tool calls with their results' : ''}${unit.incomplete ? '; includes an answer that was cut short' : ''}`,
    });
  }
  // Every unit not included is left out: before the first user message, for the budget (a pinned
  // unit, or a unit of the window the walk did not reach), or by the window.
  const reasonOf = (index: number): ExclusionReason => {
    if (leadingNonTurn && index === 0) {
      return 'no-user-turn';
    }
    return pinnedOverBudget.has(index) || index >= windowStart ? 'over-budget' : selection.reason;
  };

  const parts: ReceiptPart[] = [{ kind: 'system', firstSeq: null, lastSeq: null, eventCount: 0, tokens: systemTokens, reason: 'system prompt and request framing: always sent' }];
  const excluded: ReceiptExclusion[] = [];
  const includedUnits: UnitSummary[] = [];
  const droppedSeqs = new Set<number>();
  let total = systemTokens + (promptText !== undefined ? promptTokens : 0);
  // Status changes only at these unit indexes: walk the pieces between them.
  const cuts = new Set<number>([0, 1, windowStart, unitCount]);
  for (const index of [...included.keys(), ...pinnedOverBudget]) {
    cuts.add(index);
    cuts.add(index + 1);
  }
  const points = [...cuts].filter((index) => index <= unitCount).sort((a, b) => a - b);
  let run: { from: number; to: number; reason: ExclusionReason } | undefined;
  const closeRun = (): void => {
    if (run) {
      excluded.push(exclusionOf(layout, run.from, run.to, run.reason));
      run = undefined;
    }
  };
  for (let p = 0; p + 1 < points.length; p++) {
    const from = points[p]!;
    const to = points[p + 1]!;
    const decision = included.get(from);
    if (!decision) {
      const reason = reasonOf(from);
      if (run?.reason === reason) {
        run.to = to;
      } else {
        closeRun();
        run = { from, to, reason };
      }
      continue;
    }
    closeRun();
    const unit = units[from]!;
    includedUnits.push(unit);
    total += unit.tokens;
    exact &&= unit.exact;
    if (isCompactionUnit(unit)) {
      parts.push({ kind: 'compaction', compactionId: unit.compaction.id, firstSeq: unit.firstSeq, lastSeq: unit.lastSeq, eventCount: unit.end - unit.start, tokens: unit.tokens, reason: compactionUnitReason(unit), replacesTokens: unit.replacesTokens });
      continue;
    }
    let eventCount = 0;
    for (let i = unit.start; i < unit.end; i++) {
      const digest = digests[i]!;
      const dropReason = layout.dropReason(i);
      if (dropReason === undefined) {
        eventCount++;
      } else {
        droppedSeqs.add(digest.seq);
        excluded.push({ eventCount: 1, firstSeq: digest.seq, lastSeq: digest.seq, tokens: digest.tokens, reason: dropReason });
      }
    }
    parts.push({ kind: decision.kind, firstSeq: unit.firstSeq, lastSeq: unit.lastSeq, eventCount, tokens: unit.tokens, reason: decision.reason });
  }
  closeRun();
  if (promptText !== undefined) {
    parts.push({ kind: 'prompt', firstSeq: null, lastSeq: null, eventCount: 0, tokens: promptTokens, reason: 'the new message: always sent' });
  }
  return {
    sessionId: session.sessionId,
    window,
    budgetTokens,
    systemTokens,
    promptTokens,
    totalTokens: total,
    tokenSource: exact ? 'api' : 'estimate',
    includedUnits,
    parts,
    excluded,
    droppedSeqs,
  };
}

/** Units holding a pinned event, ascending. */
function pinnedUnits(layout: UnitLayout, pinned: ReadonlySet<string>): number[] {
  const found = new Set<number>();
  for (const id of pinned) {
    const digestIndex = layout.digestIndexOf(id);
    if (digestIndex !== undefined) {
      found.add(layout.unitOf(digestIndex));
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** One entry for the left-out units [from, to). */
function exclusionOf(layout: UnitLayout, from: number, to: number, reason: ExclusionReason): ReceiptExclusion {
  const first = layout.units[from]!;
  const last = layout.units[to - 1]!;
  const eventCount = last.end - first.start;
  return { eventCount, firstSeq: first.firstSeq, lastSeq: last.lastSeq, tokens: layout.tokensBefore(to) - layout.tokensBefore(from), reason };
}

/** The request for a plan, from the content events of its units (`eventsOf`). */
export function buildRequest(plan: ContextPlan, eventsOf: (unit: UnitSummary) => readonly ContentEvent[], options: Pick<ContextOptions, 'systemPrompt' | 'promptText'>): MessagesRequest {
  const messages: RequestMessage[] = [];
  const isDropped = (event: ContentEvent): boolean => plan.droppedSeqs.has(event.seq);
  for (const unit of plan.includedUnits) {
    messages.push(...(isCompactionUnit(unit) ? [{ role: 'user' as const, content: compactionBlocks(unit) }] : buildUnitMessages(eventsOf(unit), isDropped)));
  }
  if (options.promptText !== undefined) {
    messages.push({ role: 'user', content: [{ type: 'text', text: options.promptText }] });
  }
  const merged = mergeMessages(messages);
  // The API refuses a final assistant message that ends in whitespace (it would be a prefill).
  const last = merged.at(-1);
  if (last?.role === 'assistant') {
    const content = [...last.content];
    const block = content.at(-1);
    if (block?.type === 'text') {
      const trimmed = block.text.trimEnd();
      if (trimmed.length > 0) {
        content[content.length - 1] = { type: 'text', text: trimmed };
      } else {
        content.pop();
      }
    }
    merged[merged.length - 1] = { role: 'assistant', content };
    if (content.length === 0) {
      merged.pop();
    }
  }
  return { system: options.systemPrompt, messages: merged };
}

export function receiptOf(plan: ContextPlan, nowMs: number): ContextReceipt {
  return {
    sessionId: plan.sessionId,
    createdMs: nowMs,
    window: plan.window,
    budgetTokens: plan.budgetTokens,
    totalTokens: plan.totalTokens,
    tokenSource: plan.tokenSource,
    parts: plan.parts,
    excluded: [...plan.excluded].sort((a, b) => a.firstSeq - b.firstSeq),
  };
}

/**
 * Assembles the request for a session from its events (in seq order; other sessions' events
 * are not expected). Pure: the same events and options give the same request and receipt.
 * Throws ContextBudgetError or ContextInputError when there is no valid request to make.
 */
export function assembleContext(events: readonly StoredEvent[], options: ContextOptions): AssembledContext {
  const controls = new ControlsTracker();
  const content: ContentEvent[] = [];
  for (const event of events) {
    if (isContentEvent(event)) {
      content.push(event);
    } else {
      controls.observe(event);
    }
  }
  const layout = new UnitLayoutBuilder();
  for (const event of content) {
    layout.add(digestEvent(event, options.counter));
  }
  for (const event of events) {
    if (event.kind === 'message.superseded') {
      layout.supersede(event.body.eventId);
    }
  }
  const session: SessionLayout = {
    sessionId: options.sessionId ?? events[0]?.sessionId ?? '',
    layout,
    controls,
    shiftScoreAt: lazyShiftScores(content, layout.digests),
    promptShiftScore: (text) => shiftScore(contentWords(text), recentWords(content)),
  };
  const plan = planContext(session, options);
  const request = buildRequest(plan, (unit) => content.slice(unit.start, unit.end), options);
  return { request, receipt: receiptOf(plan, options.nowMs) };
}

/** The content words of the newest user and assistant messages, oldest first. */
function recentWords(content: readonly ContentEvent[]): Array<ReadonlySet<string>> {
  const recent: Array<ReadonlySet<string>> = [];
  for (let i = content.length - 1; i >= 0 && recent.length < shiftWindowMessages; i--) {
    const event = content[i]!;
    if ((event.kind === 'message.user' || event.kind === 'message.assistant') && event.body.text.trim().length > 0) {
      recent.unshift(contentWords(event.body.text));
    }
  }
  return recent;
}
