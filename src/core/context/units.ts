import type { StoredEvent } from '../log/events';
import type { ContentBlock, ExclusionReason, RequestMessage } from './contextTypes';
import { contentWords, shiftScore, shiftWindowMessages } from './topicShift';
import type { TokenCounter } from './tokenCounts';
import { messageOverheadTokens } from './tokenEstimator';

// Conversation units: the atoms of context assembly. The log holds one event per user message,
// assistant answer, tool call and tool result; the Messages API wants alternating user and
// assistant messages in which every tool_use is answered by a tool_result in the very next
// user message. A unit is one user turn and everything up to the next one: the answer, its
// tool calls and their results. No window or budget takes part of a unit; a unit boundary is
// never placed between a tool_use and its result, even when a result arrives after the user
// has typed again (the two turns then form one unit).
//
// Selection (windows, budgets) works on digests: a few numbers per event, so a long session's
// units can be laid out without its text (see contextIndex.ts). Messages are built from the
// events of the units that were chosen.

export type ContentEventKind = 'message.user' | 'message.assistant' | 'tool.use' | 'tool.result';
export type ContentEvent = Extract<StoredEvent, { readonly kind: ContentEventKind }>;

export function isContentEvent(event: StoredEvent): event is ContentEvent {
  return event.kind === 'message.user' || event.kind === 'message.assistant' || event.kind === 'tool.use' || event.kind === 'tool.result';
}

export function roleOf(kind: ContentEventKind): 'user' | 'assistant' {
  return kind === 'message.user' || kind === 'tool.result' ? 'user' : 'assistant';
}

const nonWhitespace = /\S/;

function hasText(text: string): boolean {
  return nonWhitespace.test(text);
}

/** The blocks an event contributes to a request (none for a message of only whitespace). */
export function eventBlocks(event: ContentEvent): ContentBlock[] {
  switch (event.kind) {
    case 'message.user':
    case 'message.assistant':
      return hasText(event.body.text) ? [{ type: 'text', text: event.body.text }] : [];
    case 'tool.use':
      return [{ type: 'tool_use', id: event.body.toolUseId, name: event.body.name, input: event.body.input ?? {} }];
    case 'tool.result':
      return [{ type: 'tool_result', tool_use_id: event.body.toolUseId, content: event.body.content, ...(event.body.isError ? { is_error: true } : {}) }];
  }
}

/** What an exact counter should count for an event (see ExactTokenCounter). */
export function eventContentForCounting(event: StoredEvent): { key: string; role: 'user' | 'assistant'; blocks: ContentBlock[] } | undefined {
  if (!isContentEvent(event)) {
    return undefined;
  }
  const blocks = eventBlocks(event);
  return blocks.length === 0 ? undefined : { key: event.id, role: roleOf(event.kind), blocks };
}

/** What selection needs to know of one content event. */
export interface EventDigest {
  readonly seq: number;
  readonly id: string;
  readonly kind: ContentEventKind;
  readonly wallMs: number;
  /** Tokens of the event's blocks, message framing not included. */
  tokens: number;
  exact: boolean;
  readonly toolUseId: string | null;
  /** A message with nothing but whitespace: it adds no block. */
  readonly empty: boolean;
  readonly incomplete: boolean;
  /** Content words of a user message compared with the recent messages (topic shift); null if not a user message or nothing to compare with. */
  shift: number | null | undefined;
}

export function digestEvent(event: ContentEvent, counter: TokenCounter): EventDigest {
  const known = counter.cached(event.id);
  const count = known ?? counter.count(eventBlocks(event), event.id);
  const isText = event.kind === 'message.user' || event.kind === 'message.assistant';
  return {
    seq: event.seq,
    id: event.id,
    kind: event.kind,
    wallMs: event.wallMs,
    tokens: count.tokens,
    exact: count.source === 'api',
    toolUseId: event.kind === 'tool.use' || event.kind === 'tool.result' ? event.body.toolUseId : null,
    empty: isText ? !hasText(event.body.text) : false,
    incomplete: event.kind === 'message.assistant' && event.body.incomplete === true,
    shift: undefined,
  };
}

/**
 * Computes the topic-shift score of every user message in `events` (content events in seq
 * order) and stores it in the matching digest. Used where digests outlive the text (the index);
 * assembly from events computes the few scores it needs lazily instead (`lazyShiftScores`).
 */
export class ShiftTracker {
  private readonly recent: Array<ReadonlySet<string>> = [];

  observe(event: ContentEvent, digest: EventDigest): void {
    if (event.kind !== 'message.user' && event.kind !== 'message.assistant') {
      return;
    }
    if (digest.empty) {
      digest.shift = null;
      return;
    }
    const words = contentWords(event.body.text);
    if (event.kind === 'message.user') {
      digest.shift = shiftScore(words, this.recent);
    }
    this.recent.push(words);
    if (this.recent.length > shiftWindowMessages) {
      this.recent.shift();
    }
  }

  /** The score a new message (not yet logged) would get after the messages observed so far. */
  scoreOf(text: string): number | null {
    return shiftScore(contentWords(text), this.recent);
  }
}

/** Shift scores computed on demand from the events themselves (same definition as ShiftTracker). */
export function lazyShiftScores(events: readonly ContentEvent[], digests: readonly EventDigest[]): (digestIndex: number) => number | null {
  const wordsCache = new Map<number, ReadonlySet<string>>();
  const wordsOf = (index: number): ReadonlySet<string> => {
    let words = wordsCache.get(index);
    if (!words) {
      const event = events[index]!;
      words = contentWords(event.kind === 'message.user' || event.kind === 'message.assistant' ? event.body.text : '');
      wordsCache.set(index, words);
    }
    return words;
  };
  return (digestIndex) => {
    const digest = digests[digestIndex]!;
    if (digest.shift !== undefined) {
      return digest.shift;
    }
    if (digest.kind !== 'message.user' || digest.empty) {
      digest.shift = null;
      return null;
    }
    const recent: Array<ReadonlySet<string>> = [];
    for (let i = digestIndex - 1; i >= 0 && recent.length < shiftWindowMessages; i--) {
      const earlier = digests[i]!;
      if ((earlier.kind === 'message.user' || earlier.kind === 'message.assistant') && !earlier.empty) {
        recent.unshift(wordsOf(i));
      }
    }
    digest.shift = shiftScore(wordsOf(digestIndex), recent);
    return digest.shift;
  };
}

export type DropReason = Extract<ExclusionReason, 'tool-result-pending' | 'unanswered-tool-use' | 'orphan-tool-result' | 'duplicate-tool-use' | 'empty' | 'superseded'>;

/** A unit laid out over digests: where it is, what it costs, what it left out. */
export interface UnitSummary {
  readonly index: number;
  /** Digest range [start, end). */
  readonly start: number;
  readonly end: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly startWallMs: number;
  /** Wall time of the content event just before the unit (idle gaps), null for the first. */
  readonly prevWallMs: number | null;
  /** Begins with a user message; only the part of a log before its first user message is not. */
  readonly isTurn: boolean;
  /** Tokens of the blocks it sends plus the framing of its messages (an upper bound: merging neighbours only saves). */
  readonly tokens: number;
  /** Every count in `tokens` came from the API. */
  readonly exact: boolean;
  /** Tokens of the events it holds back (dropped tool calls, orphans). */
  readonly droppedTokens: number;
  readonly hasToolUse: boolean;
  readonly incomplete: boolean;
  readonly messageCount: number;
}

/** Units laid out over a session's digests, with what planning asks of them. */
export interface UnitLayout {
  readonly digests: readonly EventDigest[];
  readonly units: readonly UnitSummary[];
  /** Why the event at a digest index is left out of its unit's messages, if it is. */
  dropReason(digestIndex: number): DropReason | undefined;
  /** Tokens of units [0, unitIndex), held-back events included. */
  tokensBefore(unitIndex: number): number;
  /** The digest index of an event id (pins name events by id). */
  digestIndexOf(eventId: string): number | undefined;
  /** The unit holding a digest index. */
  unitOf(digestIndex: number): number;
}

/**
 * Lays digests (the content events of one session, in seq order) out in units, one event at a
 * time, so a long session's layout is extended rather than redone when events arrive. Only the
 * newest unit changes on an append, except when a tool_result answers an older tool_use: then
 * every unit from that tool_use's on becomes one.
 *
 * Rules: a tool_result answers the first tool_use of its id if that has no result yet, else it
 * is an orphan; a second tool_use of an id is a duplicate; a tool_use without a result is held
 * back (pending in the newest unit, unanswered before it); a non-empty user message starts a
 * unit unless a tool_use before it is answered after it; the events before the first user
 * message are a unit of their own that is not a turn.
 */
export class UnitLayoutBuilder implements UnitLayout {
  private readonly all: EventDigest[] = [];
  /** Event id → digest index, built when first asked (a pin), then kept up to date. */
  private byId: Map<string, number> | undefined;
  private readonly dropped = new Map<number, DropReason>();
  private readonly useAt = new Map<string, number>();
  private readonly answered = new Set<number>();
  private readonly unmatched = new Set<number>();
  private readonly starts: number[] = [];
  private readonly summaries: UnitSummary[] = [];
  /** prefix[u] = tokens of units [0, u). */
  private readonly prefix: number[] = [0];
  private valid = 0;

  get digests(): readonly EventDigest[] {
    return this.all;
  }

  get units(): readonly UnitSummary[] {
    this.sync();
    return this.summaries;
  }

  add(digest: EventDigest): void {
    const i = this.all.length;
    this.all.push(digest);
    this.byId?.set(digest.id, i);
    if (i === 0) {
      this.starts.push(0);
    }
    if (digest.empty) {
      this.dropped.set(i, 'empty');
    } else if (digest.kind === 'tool.use') {
      if (this.useAt.has(digest.toolUseId!)) {
        this.dropped.set(i, 'duplicate-tool-use');
      } else {
        this.useAt.set(digest.toolUseId!, i);
        this.unmatched.add(i);
      }
    } else if (digest.kind === 'tool.result') {
      const use = this.useAt.get(digest.toolUseId!);
      if (use === undefined || this.answered.has(use)) {
        this.dropped.set(i, 'orphan-tool-result');
      } else {
        this.answered.add(use);
        this.unmatched.delete(use);
        // No unit boundary may fall between the tool_use and this result.
        while (this.starts.at(-1)! > use) {
          this.starts.pop();
        }
      }
    } else if (digest.kind === 'message.user' && i > 0) {
      this.starts.push(i);
    }
    this.valid = Math.min(this.valid, this.starts.length - 1);
  }

  /**
   * Leaves a cut answer a Retry replaced out of its unit from now on (`message.superseded`).
   * Only assistant text can be superseded: a tool call's pairing with its result stays as it was.
   */
  supersede(eventId: string): void {
    const index = this.digestIndexOf(eventId);
    if (index === undefined || this.all[index]!.kind !== 'message.assistant' || this.dropped.has(index)) {
      return;
    }
    this.dropped.set(index, 'superseded');
    this.valid = Math.min(this.valid, this.unitOf(index));
  }

  dropReason(digestIndex: number): DropReason | undefined {
    const reason = this.dropped.get(digestIndex);
    if (reason !== undefined || !this.unmatched.has(digestIndex)) {
      return reason;
    }
    return digestIndex >= this.starts.at(-1)! ? 'tool-result-pending' : 'unanswered-tool-use';
  }

  tokensBefore(unitIndex: number): number {
    this.sync();
    return this.prefix[unitIndex]!;
  }

  digestIndexOf(eventId: string): number | undefined {
    if (!this.byId) {
      this.byId = new Map(this.all.map((digest, index) => [digest.id, index]));
    }
    return this.byId.get(eventId);
  }

  unitOf(digestIndex: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.starts[middle]! <= digestIndex) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  }

  /** Takes the counter's counts for these event ids (exact counts that arrived) into their digests. */
  updateTokens(eventIds: Iterable<string>, counter: TokenCounter): void {
    for (const id of eventIds) {
      const index = this.digestIndexOf(id);
      const known = index === undefined ? undefined : counter.cached(id);
      if (index !== undefined && known) {
        const digest = this.all[index]!;
        digest.tokens = known.tokens;
        digest.exact = known.source === 'api';
        this.valid = Math.min(this.valid, this.unitOf(index));
      }
    }
  }

  /** Re-reads the counter's cache (exact counts that arrived since) into every digest. */
  refreshTokens(counter: TokenCounter): void {
    for (const digest of this.all) {
      const known = counter.cached(digest.id);
      if (known) {
        digest.tokens = known.tokens;
        digest.exact = known.source === 'api';
      }
    }
    this.valid = 0;
  }

  private sync(): void {
    const count = this.starts.length;
    if (this.valid === count && this.summaries.length === count) {
      return;
    }
    this.summaries.length = this.valid;
    this.prefix.length = this.valid + 1;
    for (let u = this.valid; u < count; u++) {
      const summary = this.summarize(u, this.starts[u]!, this.starts[u + 1] ?? this.all.length);
      this.summaries.push(summary);
      this.prefix.push(this.prefix[u]! + summary.tokens + summary.droppedTokens);
    }
    this.valid = count;
  }

  private summarize(index: number, start: number, end: number): UnitSummary {
    const digests = this.all;
    const first = digests[start]!;
    let tokens = 0;
    let droppedTokens = 0;
    let exact = true;
    let messageCount = 0;
    let role: 'user' | 'assistant' | undefined;
    let hasToolUse = false;
    let incomplete = false;
    for (let i = start; i < end; i++) {
      const digest = digests[i]!;
      if (this.dropped.has(i) || this.unmatched.has(i)) {
        droppedTokens += digest.tokens;
        continue;
      }
      tokens += digest.tokens;
      exact &&= digest.exact;
      const digestRole = roleOf(digest.kind);
      if (digestRole !== role) {
        messageCount++;
        role = digestRole;
      }
      hasToolUse ||= digest.kind === 'tool.use';
      incomplete ||= digest.incomplete;
    }
    return {
      index,
      start,
      end,
      firstSeq: first.seq,
      lastSeq: digests[end - 1]!.seq,
      startWallMs: first.wallMs,
      prevWallMs: start > 0 ? digests[start - 1]!.wallMs : null,
      isTurn: first.kind === 'message.user' && !first.empty,
      tokens: tokens + messageCount * messageOverheadTokens,
      exact,
      droppedTokens,
      hasToolUse,
      incomplete,
      messageCount,
    };
  }
}

/** Lays a whole list of digests out (see UnitLayoutBuilder). */
export function layOutUnits(digests: readonly EventDigest[]): UnitLayoutBuilder {
  const builder = new UnitLayoutBuilder();
  for (const digest of digests) {
    builder.add(digest);
  }
  return builder;
}

interface MutableMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

/**
 * The messages of one unit, from its content events in seq order. `isDropped` says which
 * events stay out (see `layOutUnits`). Every tool_use left in is answered within the unit, so
 * the user message right after the assistant message holding it gets its tool_result, first.
 */
export function buildUnitMessages(events: readonly ContentEvent[], isDropped: (event: ContentEvent) => boolean): RequestMessage[] {
  const messages: MutableMessage[] = [];
  const results = new Map<string, ContentEvent>();
  for (const event of events) {
    if (event.kind === 'tool.result' && !isDropped(event)) {
      results.set(event.body.toolUseId, event);
    }
  }
  const placed = new Set<ContentEvent>();
  let awaiting: string[] = [];
  for (const event of events) {
    if (isDropped(event) || placed.has(event)) {
      continue;
    }
    const role = roleOf(event.kind);
    const blocks = eventBlocks(event);
    let last = messages.at(-1);
    if (role === 'assistant') {
      if (last?.role !== 'assistant') {
        last = { role: 'assistant', content: [] };
        messages.push(last);
      }
      appendBlocks(last, blocks);
      if (event.kind === 'tool.use') {
        awaiting.push(event.body.toolUseId);
      }
      continue;
    }
    if (last?.role !== 'user') {
      last = { role: 'user', content: [] };
      messages.push(last);
      for (const id of awaiting) {
        const result = results.get(id);
        if (result) {
          placed.add(result);
          appendBlocks(last, eventBlocks(result));
        }
      }
      awaiting = [];
      if (placed.has(event)) {
        continue;
      }
    }
    appendBlocks(last, blocks);
  }
  return messages.filter((message) => message.content.length > 0);
}

/**
 * Adds blocks to a message keeping the order the API expects: in a user message tool_result
 * blocks before any text, in an assistant message text before tool_use blocks.
 */
export function appendBlocks(message: MutableMessage, blocks: readonly ContentBlock[]): void {
  for (const block of blocks) {
    const late = message.role === 'user' ? block.type === 'tool_result' : block.type === 'text';
    const firstOther = late ? message.content.findIndex((existing) => existing.type === (message.role === 'user' ? 'text' : 'tool_use')) : -1;
    if (firstOther === -1) {
      message.content.push(block);
    } else {
      message.content.splice(firstOther, 0, block);
    }
  }
}

/** Joins neighbouring messages of the same role (units next to each other, the new prompt). */
export function mergeMessages(messages: readonly RequestMessage[]): RequestMessage[] {
  const merged: MutableMessage[] = [];
  for (const message of messages) {
    const last = merged.at(-1);
    if (last && last.role === message.role) {
      appendBlocks(last, message.content);
    } else {
      merged.push({ role: message.role, content: [...message.content] });
    }
  }
  return merged;
}
