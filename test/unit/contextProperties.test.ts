import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assembleContext, checkMessagesRequest, ContextBudgetError, ContextInputError, countRequestTokens } from '../../src/core/context/assembleContext';
import type { AssembledContext, ContextOptions } from '../../src/core/context/assembleContext';
import { eventsOfExclusion, eventsOfPart } from '../../src/core/context/receiptEvents';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { isContentEvent, type ContentEvent } from '../../src/core/context/units';
import type { StoredEvent } from '../../src/core/log/events';
import { buildLog, text, windowSpec, action } from '../fixtures/contextArbitraries';

// Random session logs, every window kind, random budgets: the request is always valid for the
// Messages API, never over budget, keeps pins unless only the budget forbids, and never
// splits a unit. The unit reference below is written differently from units.ts on purpose.

/** Units by another route: segments cut at each non-empty user message, joined across every tool_use → tool_result pair. */
function referenceUnits(events: readonly StoredEvent[]): ContentEvent[][] {
  const content = events.filter(isContentEvent);
  const segmentOf: number[] = [];
  let segment = -1;
  for (let i = 0; i < content.length; i++) {
    const event = content[i]!;
    if (segment < 0 || (event.kind === 'message.user' && event.body.text.trim() !== '')) {
      segment++;
    }
    segmentOf.push(segment);
  }
  const parent = Array.from({ length: segment + 1 }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const used = new Set<string>();
  const answered = new Set<string>();
  for (let u = 0; u < content.length; u++) {
    const use = content[u]!;
    if (use.kind !== 'tool.use' || used.has(use.body.toolUseId)) {
      continue;
    }
    used.add(use.body.toolUseId);
    const r = content.findIndex((event, index) => index > u && event.kind === 'tool.result' && event.body.toolUseId === use.body.toolUseId);
    if (r < 0 || answered.has(use.body.toolUseId)) {
      continue;
    }
    answered.add(use.body.toolUseId);
    for (let s = segmentOf[u]!; s < segmentOf[r]!; s++) {
      parent[find(s + 1)] = find(s);
    }
  }
  const units = new Map<number, ContentEvent[]>();
  content.forEach((event, i) => {
    const root = find(segmentOf[i]!);
    units.set(root, [...(units.get(root) ?? []), event]);
  });
  return [...units.values()];
}

function currentPins(events: readonly StoredEvent[]): Set<string> {
  const pins = new Set<string>();
  for (const event of events) {
    if (event.kind === 'context.pinned') {
      pins.add(event.body.eventId);
    } else if (event.kind === 'context.unpinned') {
      pins.delete(event.body.eventId);
    }
  }
  return pins;
}

const dropReasons = new Set(['tool-result-pending', 'unanswered-tool-use', 'orphan-tool-result', 'duplicate-tool-use', 'empty']);

function tryAssemble(events: readonly StoredEvent[], options: ContextOptions): AssembledContext | undefined {
  try {
    return assembleContext(events, options);
  } catch (error) {
    if (error instanceof ContextBudgetError) {
      assert.ok(error.systemTokens + error.promptTokens > error.budgetTokens);
      return undefined;
    }
    if (error instanceof ContextInputError) {
      assert.equal(options.promptText, undefined);
      const last = referenceUnits(events).at(-1)?.[0];
      assert.ok(last?.kind !== 'message.user' || last.body.text.trim() === '', 'a user turn was there to answer');
      return undefined;
    }
    throw error;
  }
}

/** Every property of one assembled request. */
function checkAssembled(events: readonly StoredEvent[], options: ContextOptions, assembled: AssembledContext): void {
  const { request, receipt } = assembled;
  assert.deepEqual(checkMessagesRequest(request), [], JSON.stringify(request.messages, null, 1));
  // Budget: the receipt's total is what the parts add up to, within budget; the request by the same counter is no bigger.
  assert.ok(receipt.totalTokens <= receipt.budgetTokens, `total ${receipt.totalTokens} over budget ${receipt.budgetTokens}`);
  assert.equal(
    receipt.parts.reduce((sum, part) => sum + part.tokens, 0),
    receipt.totalTokens,
  );
  assert.ok(countRequestTokens(request, options.counter) <= receipt.totalTokens);

  // The receipt names ranges and counts; resolved against the log they give each part's events.
  const partEvents = receipt.parts.map((part) => eventsOfPart(part, receipt, events));
  receipt.parts.forEach((part, index) => assert.equal(part.eventCount, partEvents[index]!.length, `part ${index} counts its events`));
  const included = new Set(partEvents.flatMap((list) => list.map((event) => event.id)));
  const droppedIds = new Set(receipt.excluded.filter((exclusion) => dropReasons.has(exclusion.reason)).flatMap((exclusion) => eventsOfExclusion(exclusion, events).map((event) => event.id)));
  for (const exclusion of receipt.excluded) {
    assert.equal(exclusion.eventCount, eventsOfExclusion(exclusion, events).length, `exclusion ${exclusion.firstSeq}-${exclusion.lastSeq} counts its events`);
  }
  // No unit split: a reference unit is all in (apart from held-back events) or all out, and each part is one unit.
  const partOf = new Map<string, number>();
  partEvents.forEach((list, index) => list.forEach((event) => partOf.set(event.id, index)));
  const units = referenceUnits(events);
  for (const unit of units) {
    const inside = unit.filter((event) => included.has(event.id));
    if (inside.length === 0) {
      continue;
    }
    const missing = unit.filter((event) => !included.has(event.id) && !droppedIds.has(event.id));
    assert.deepEqual(missing.map((event) => event.seq), [], `unit ${unit[0]!.seq}-${unit.at(-1)!.seq} was split`);
    assert.equal(new Set(inside.map((event) => partOf.get(event.id))).size, 1, 'one unit, one part');
  }
  // Parts in log order.
  const seqs = receipt.parts.flatMap((part) => (part.firstSeq === null ? [] : [part.firstSeq]));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  // The request carries exactly the included content: every tool call, and the text messages.
  const byId = new Map(events.filter(isContentEvent).map((event) => [event.id, event]));
  const includedEvents = [...included].map((id) => byId.get(id)!);
  const requestToolUses = request.messages.flatMap((message) => message.content.flatMap((block) => (block.type === 'tool_use' ? [block.id] : [])));
  assert.deepEqual(requestToolUses.sort(), includedEvents.flatMap((event) => (event.kind === 'tool.use' ? [event.body.toolUseId] : [])).sort());
  const requestTexts = request.messages.flatMap((message) => message.content.filter((block) => block.type === 'text')).length;
  const includedTexts = includedEvents.filter((event) => event.kind === 'message.user' || event.kind === 'message.assistant').length + (options.promptText !== undefined ? 1 : 0);
  assert.equal(requestTexts, includedTexts);
  // Pins: only the budget (or a hold-back rule) may leave a pinned event out, never the window.
  const pins = currentPins(events);
  for (const id of pins) {
    const event = byId.get(id);
    if (!event || included.has(id)) {
      continue;
    }
    const exclusion = receipt.excluded.find((candidate) => candidate.firstSeq <= event.seq && event.seq <= candidate.lastSeq);
    assert.ok(exclusion, `pinned ${id} is neither in nor out`);
    assert.ok(exclusion.reason !== 'outside-window' && exclusion.reason !== 'before-topic-boundary', `pinned ${id} left out by the window (${exclusion.reason})`);
    // Left out for the budget: when the entry is exactly its unit and nothing in the unit can be
    // held back (plain non-empty messages), its tokens are the unit's, and they must not have fit.
    const unit = units.find((candidate) => candidate.some((member) => member.id === id))!;
    const plain = unit.every((member) => (member.kind === 'message.user' || member.kind === 'message.assistant') && member.body.text.trim() !== '');
    if (exclusion.reason === 'over-budget' && plain && exclusion.eventCount === unit.length) {
      assert.ok(receipt.totalTokens + exclusion.tokens > receipt.budgetTokens, `pinned ${id} (${exclusion.tokens} tokens) would have fit`);
    }
  }
}

const scenario = fc.record({
  actions: fc.array(action, { minLength: 0, maxLength: 60 }),
  window: windowSpec,
  budget: fc.integer({ min: 10, max: 4000 }),
  prompt: fc.option(text.filter((t) => t.trim() !== ''), { nil: undefined }),
  nowAfterMinutes: fc.integer({ min: 0, max: 180 }),
});

describe('context assembly (properties)', () => {
  it('any log, window and budget: a valid request within budget, pins kept, units whole', () => {
    fc.assert(
      fc.property(scenario, ({ actions, window, budget, prompt, nowAfterMinutes }) => {
        const log = buildLog(actions);
        const options: ContextOptions = {
          window,
          budgetTokens: budget,
          systemPrompt: 'You are a careful assistant.',
          counter: new CachedTokenCounter(),
          nowMs: log.wallMs + nowAfterMinutes * 60_000,
          ...(prompt !== undefined ? { promptText: prompt } : {}),
        };
        const assembled = tryAssemble(log.events, options);
        if (assembled) {
          checkAssembled(log.events, options, assembled);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('with room to spare, every pinned unit is in whatever the window', () => {
    fc.assert(
      fc.property(scenario, ({ actions, window, prompt }) => {
        const log = buildLog(actions);
        const counter = new CachedTokenCounter();
        const options: ContextOptions = { window, budgetTokens: 10_000_000, override: { budgetTokens: 10_000_000 }, systemPrompt: '', counter, nowMs: log.wallMs, ...(prompt !== undefined ? { promptText: prompt } : {}) };
        const assembled = tryAssemble(log.events, options);
        if (!assembled) {
          return;
        }
        checkAssembled(log.events, options, assembled);
        const included = new Set(assembled.receipt.parts.flatMap((part) => eventsOfPart(part, assembled.receipt, log.events).map((event) => event.id)));
        const leftOut = assembled.receipt.excluded;
        for (const id of currentPins(log.events)) {
          const event = log.events.find((candidate) => candidate.id === id)!;
          const before = leftOut.some((exclusion) => exclusion.reason === 'no-user-turn' && exclusion.firstSeq <= event.seq && event.seq <= exclusion.lastSeq);
          const heldBack = leftOut.some((exclusion) => dropReasons.has(exclusion.reason) && exclusion.firstSeq === event.seq);
          assert.ok(included.has(id) || before || heldBack, `pinned ${id} missing`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is a pure function: the same events and options give the same request and receipt', () => {
    fc.assert(
      fc.property(scenario, ({ actions, window, budget, prompt }) => {
        const log = buildLog(actions);
        const options = (): ContextOptions => ({ window, budgetTokens: budget, systemPrompt: 'S', counter: new CachedTokenCounter(), nowMs: log.wallMs, ...(prompt !== undefined ? { promptText: prompt } : {}) });
        const first = tryAssemble(log.events, options());
        const second = tryAssemble(log.events, options());
        assert.deepEqual(first, second);
      }),
      { numRuns: 100 },
    );
  });
});
