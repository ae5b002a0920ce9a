import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleContext, checkMessagesRequest, ContextBudgetError, ContextInputError, type ContextOptions } from '../../src/core/context/assembleContext';
import type { ContextReceipt, MessagesRequest, WindowSpec } from '../../src/core/context/contextTypes';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { contentWords, shiftScore } from '../../src/core/context/topicShift';
import { ContextLog } from '../fixtures/contextLog';

const minute = 60_000;

function options(window: WindowSpec, extra: Partial<ContextOptions> = {}): ContextOptions {
  return { window, budgetTokens: 100_000, systemPrompt: 'You help.', counter: new CachedTokenCounter(), nowMs: Date.UTC(2026, 0, 1, 0, 5), ...extra };
}

function userTexts(request: MessagesRequest): string[] {
  return request.messages.filter((message) => message.role === 'user').flatMap((message) => message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])));
}

function conversation(turns: number): ContextLog {
  const log = new ContextLog();
  for (let i = 1; i <= turns; i++) {
    log.turn(`question ${i}`, `answer ${i}`);
  }
  return log;
}

function reasons(receipt: ContextReceipt): string[] {
  return receipt.excluded.map((exclusion) => `${exclusion.reason} ${exclusion.firstSeq}-${exclusion.lastSeq} (${exclusion.eventCount})`);
}

describe('windows', () => {
  it('full: every turn, oldest first', () => {
    const { request, receipt } = assembleContext(conversation(5).events, options({ kind: 'full' }, { promptText: 'next' }));
    assert.deepEqual(userTexts(request), ['question 1', 'question 2', 'question 3', 'question 4', 'question 5', 'next']);
    assert.deepEqual(receipt.excluded, []);
    assert.deepEqual(receipt.parts.map((part) => part.kind), ['system', 'turn', 'turn', 'turn', 'turn', 'turn', 'prompt']);
  });

  it('sliding by turns: the new prompt is the newest of the N turns', () => {
    const { request, receipt } = assembleContext(conversation(5).events, options({ kind: 'sliding', turns: 3 }, { promptText: 'next' }));
    assert.deepEqual(userTexts(request), ['question 4', 'question 5', 'next']);
    assert.deepEqual(reasons(receipt), ['outside-window 2-7 (6)']);
    assert.equal(receipt.excluded[0]!.eventCount, 6);
  });

  it('sliding by turns without a new prompt: the newest logged turn is answered and counts', () => {
    const log = conversation(4);
    log.user('question 5');
    const { request } = assembleContext(log.events, options({ kind: 'sliding', turns: 2 }));
    assert.deepEqual(userTexts(request), ['question 4', 'question 5']);
    assert.equal(request.messages.at(-1)!.role, 'user');
  });

  it('sliding by tokens: as many trailing turns as fit, and the smaller of turns and tokens wins', () => {
    const log = new ContextLog();
    for (let i = 1; i <= 6; i++) {
      log.turn(`question ${i} ${'word '.repeat(40)}`, `answer ${i} ${'word '.repeat(40)}`);
    }
    const perTurn = assembleContext(log.events, options({ kind: 'full' })).receipt.parts.find((part) => part.kind === 'turn')!.tokens;
    const tokens = assembleContext(log.events, options({ kind: 'sliding', tokens: perTurn * 3 + 20 }, { promptText: 'next' }));
    assert.equal(userTexts(tokens.request).length, 1 + 3);
    const both = assembleContext(log.events, options({ kind: 'sliding', tokens: perTurn * 3 + 20, turns: 2 }, { promptText: 'next' }));
    assert.equal(userTexts(both.request).length, 2);
  });

  it('tumbling: only the current block of B turns, numbered from the start of the session', () => {
    const log = conversation(5);
    // Turns 1-5 are logged; the new prompt is turn 6: blocks of 4 are 1-4 and 5-8.
    const sixth = assembleContext(log.events, options({ kind: 'tumbling', blockTurns: 4 }, { promptText: 'sixth' }));
    assert.deepEqual(userTexts(sixth.request), ['question 5', 'sixth']);
    // Blocks of 5: turn 6 opens a new block with nothing before it.
    const fresh = assembleContext(log.events, options({ kind: 'tumbling', blockTurns: 5 }, { promptText: 'sixth' }));
    assert.deepEqual(userTexts(fresh.request), ['sixth']);
    assert.deepEqual(reasons(fresh.receipt), ['outside-window 2-11 (10)']);
    // Blocks of 3 without a new prompt: turn 5 is in block 4-6.
    const asIs = assembleContext(log.events, options({ kind: 'tumbling', blockTurns: 3 }));
    assert.deepEqual(userTexts(asIs.request), ['question 4', 'question 5']);
  });

  it('session: splits at an explicit new-topic marker', () => {
    const log = conversation(2);
    log.boundary('CSS now');
    log.turn('question 3', 'answer 3');
    const { request, receipt } = assembleContext(log.events, options({ kind: 'session', idleGapMinutes: 30, detectShift: false }, { promptText: 'next' }));
    assert.deepEqual(userTexts(request), ['question 3', 'next']);
    assert.deepEqual(reasons(receipt), ['before-topic-boundary 2-5 (4)']);
    assert.match(receipt.parts[1]!.reason, /"new topic" marker/);
    // A marker logged after the last turn applies to the new prompt.
    log.boundary();
    assert.deepEqual(userTexts(assembleContext(log.events, options({ kind: 'session', idleGapMinutes: 30, detectShift: false }, { promptText: 'next' })).request), ['next']);
  });

  it('session: splits at an idle gap longer than idleGapMinutes, including before the new prompt', () => {
    const log = conversation(2);
    log.idle(45 * minute);
    log.turn('question 3', 'answer 3');
    const window: WindowSpec = { kind: 'session', idleGapMinutes: 30, detectShift: false };
    const soon = log.wallMs + 5 * minute;
    assert.deepEqual(userTexts(assembleContext(log.events, options(window, { promptText: 'next', nowMs: soon })).request), ['question 3', 'next']);
    assert.deepEqual(userTexts(assembleContext(log.events, options({ ...window, idleGapMinutes: 60 }, { promptText: 'next', nowMs: soon })).request), ['question 1', 'question 2', 'question 3', 'next']);
    const later = log.wallMs + 31 * minute;
    assert.deepEqual(userTexts(assembleContext(log.events, options(window, { promptText: 'next', nowMs: later })).request), ['next']);
  });

  it('session: a detected topic shift splits only when detectShift is on', () => {
    const log = new ContextLog();
    log.turn('Why does the journal fsync every append before acknowledging it?', 'Acknowledged appends must survive a crash, so the journal line is fsynced first.');
    log.turn('Does the snapshot also fsync the journal offset it covers?', 'Yes: the snapshot records the journal offset, written to a temp file, fsynced, renamed.');
    log.turn('Which colour variables should the chat panel stylesheet use for buttons?', 'Use --vscode-button-background and --vscode-button-foreground.');
    const on = assembleContext(log.events, options({ kind: 'session', idleGapMinutes: 30, detectShift: true }, { promptText: 'And for the panel borders and focus outlines?' }));
    assert.deepEqual(userTexts(on.request), ['Which colour variables should the chat panel stylesheet use for buttons?', 'And for the panel borders and focus outlines?']);
    assert.match(on.receipt.parts[1]!.reason, /topic shift/);
    const off = assembleContext(log.events, options({ kind: 'session', idleGapMinutes: 30, detectShift: false }, { promptText: 'And for the panel borders and focus outlines?' }));
    assert.equal(userTexts(off.request).length, 4);
  });

  it('topic shift score: overlap of content words, short messages never count', () => {
    const recent = [contentWords('The journal fsyncs each appended line; snapshots record the journal offset.')];
    assert.ok(shiftScore(contentWords('How large can a journal segment grow before the offset wraps?'), recent)! >= 0.15);
    assert.ok(shiftScore(contentWords('Pick button colours for the webview stylesheet theme'), recent)! < 0.15);
    assert.equal(shiftScore(contentWords('thanks, go on'), recent), null);
    assert.deepEqual([...contentWords('readSessionEvents and journal_offset')].sort(), ['events', 'journal', 'journal_offset', 'offset', 'read', 'readsessionevents', 'session']);
  });

  it('pinned turns stay in outside the window, in log order, until unpinned', () => {
    const log = new ContextLog();
    const pinnedQuestion = log.user('question 1: the store layout');
    log.assistant('answer 1');
    for (let i = 2; i <= 6; i++) {
      log.turn(`question ${i}`, `answer ${i}`);
    }
    log.pin(pinnedQuestion);
    const window: WindowSpec = { kind: 'sliding', turns: 2 };
    const pinned = assembleContext(log.events, options(window, { promptText: 'next' }));
    assert.deepEqual(userTexts(pinned.request), ['question 1: the store layout', 'question 6', 'next']);
    assert.deepEqual(pinned.receipt.parts.map((part) => part.kind), ['system', 'pinned', 'turn', 'prompt']);
    assert.deepEqual(checkMessagesRequest(pinned.request), []);
    log.unpin(pinnedQuestion);
    assert.deepEqual(userTexts(assembleContext(log.events, options(window, { promptText: 'next' })).request), ['question 6', 'next']);
  });

  it('pinning any event of a unit pins the whole unit (its tool exchange included)', () => {
    const log = new ContextLog();
    log.user('read config');
    log.toolUse('t1');
    const result = log.toolResult('t1', 'config contents');
    log.assistant('read it');
    log.turn('question 2', 'answer 2');
    log.pin(result);
    const { request, receipt } = assembleContext(log.events, options({ kind: 'sliding', turns: 1 }, { promptText: 'next' }));
    assert.deepEqual(checkMessagesRequest(request), []);
    assert.equal(receipt.parts[1]!.kind, 'pinned');
    assert.equal(receipt.parts[1]!.eventCount, 4);
  });

  it("the session's latest windowSet overrides the default window and budget; an explicit override wins over it", () => {
    const log = conversation(4);
    log.windowSet({ kind: 'sliding', turns: 5 }, 50_000);
    log.windowSet({ kind: 'sliding', turns: 2 }, 60_000);
    const own = assembleContext(log.events, options({ kind: 'full' }, { promptText: 'next' }));
    assert.deepEqual(own.receipt.window, { kind: 'sliding', turns: 2 });
    assert.equal(own.receipt.budgetTokens, 60_000);
    assert.deepEqual(userTexts(own.request), ['question 4', 'next']);
    const forced = assembleContext(log.events, options({ kind: 'full' }, { promptText: 'next', override: { window: { kind: 'full' } } }));
    assert.equal(userTexts(forced.request).length, 5);
    assert.equal(forced.receipt.budgetTokens, 60_000);
  });

  it('budget: newest units first while they fit, no holes; pinned before the window', () => {
    const log = new ContextLog();
    const first = log.user(`question 1 ${'pinned words '.repeat(20)}`);
    log.assistant('answer 1');
    for (let i = 2; i <= 8; i++) {
      log.turn(`question ${i} ${'word '.repeat(30)}`, `answer ${i}`);
    }
    log.pin(first);
    const roomy = assembleContext(log.events, options({ kind: 'full' }, { promptText: 'next' }));
    const unitTokens = roomy.receipt.parts.find((part) => part.kind === 'turn')!.tokens;
    const pinnedTokens = roomy.receipt.parts.find((part) => part.kind === 'pinned')!.tokens;
    const mandatory = roomy.receipt.parts[0]!.tokens + roomy.receipt.parts.at(-1)!.tokens;
    const budget = mandatory + pinnedTokens + 3 * unitTokens + 1;
    const tight = assembleContext(log.events, options({ kind: 'full' }, { promptText: 'next', budgetTokens: budget }));
    assert.deepEqual(userTexts(tight.request).map((text) => text.split(' ').slice(0, 2).join(' ')), ['question 1', 'question 6', 'question 7', 'question 8', 'next']);
    assert.ok(tight.receipt.totalTokens <= budget);
    assert.deepEqual(reasons(tight.receipt), ['over-budget 4-11 (8)']);
    assert.equal(tight.receipt.excluded[0]!.tokens, 4 * unitTokens);
  });

  it('the system prompt and the message alone over budget: a typed error saying by how much', () => {
    const log = conversation(2);
    const huge = 'many words here '.repeat(500);
    assert.throws(
      () => assembleContext(log.events, options({ kind: 'full' }, { promptText: huge, budgetTokens: 1000 })),
      (error: unknown) => error instanceof ContextBudgetError && error.overByTokens > 0 && error.overByTokens === error.systemTokens + error.promptTokens - 1000 && /more than the budget of 1000/.test(error.message),
    );
    assert.throws(() => assembleContext(log.events, options({ kind: 'full' }, { promptText: '   ' })), ContextInputError);
    assert.throws(() => assembleContext(new ContextLog().events, options({ kind: 'full' })), ContextInputError);
  });
});
