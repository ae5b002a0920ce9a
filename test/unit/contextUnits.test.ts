import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleContext, checkMessagesRequest, type ContextOptions } from '../../src/core/context/assembleContext';
import type { ContentBlock, RequestMessage } from '../../src/core/context/contextTypes';
import { eventsOfExclusion } from '../../src/core/context/receiptEvents';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { digestEvent, isContentEvent, layOutUnits } from '../../src/core/context/units';
import { ContextLog } from '../fixtures/contextLog';

function options(extra: Partial<ContextOptions> = {}): ContextOptions {
  return { window: { kind: 'full' }, budgetTokens: 100_000, systemPrompt: 'You help.', counter: new CachedTokenCounter(), nowMs: Date.UTC(2026, 0, 2), ...extra };
}

/** The request's messages in a compact notation: "user: text | tool_result(t1)". */
function shape(messages: readonly RequestMessage[]): string[] {
  const block = (b: ContentBlock): string => (b.type === 'text' ? b.text : b.type === 'tool_use' ? `tool_use(${b.id})` : `tool_result(${b.tool_use_id})`);
  return messages.map((message) => `${message.role}: ${message.content.map(block).join(' | ')}`);
}

function unitsOf(log: ContextLog): Array<{ first: number; last: number; isTurn: boolean }> {
  const counter = new CachedTokenCounter();
  const digests = log.events.filter(isContentEvent).map((event) => digestEvent(event, counter));
  return layOutUnits(digests).units.map((unit) => ({ first: unit.firstSeq, last: unit.lastSeq, isTurn: unit.isTurn }));
}

describe('conversation units', () => {
  it('a plain conversation: one unit per user turn, roles alternate', () => {
    const log = new ContextLog();
    log.turn('What is a journal?', 'An append-only log.');
    log.turn('And a snapshot?', 'A copy of the projections.');
    assert.deepEqual(unitsOf(log), [
      { first: 2, last: 3, isTurn: true },
      { first: 4, last: 5, isTurn: true },
    ]);
    const { request } = assembleContext(log.events, options({ promptText: 'Thanks. Why both?' }));
    assert.deepEqual(shape(request.messages), [
      'user: What is a journal?',
      'assistant: An append-only log.',
      'user: And a snapshot?',
      'assistant: A copy of the projections.',
      'user: Thanks. Why both?',
    ]);
    assert.deepEqual(checkMessagesRequest(request), []);
  });

  it('a tool round trip stays in one unit with the tool_result in the next user message', () => {
    const log = new ContextLog();
    log.user('Read a.ts');
    log.assistant('Reading it.');
    log.toolUse('t1');
    log.toolResult('t1', 'export const a = 1;');
    log.assistant('It exports a.');
    assert.equal(unitsOf(log).length, 1);
    const { request, receipt } = assembleContext(log.events, options({ promptText: 'Next?' }));
    assert.deepEqual(shape(request.messages), ['user: Read a.ts', 'assistant: Reading it. | tool_use(t1)', 'user: tool_result(t1)', 'assistant: It exports a.', 'user: Next?']);
    assert.deepEqual(checkMessagesRequest(request), []);
    assert.equal(receipt.parts.find((part) => part.kind === 'tool-exchange')?.eventCount, 5);
  });

  it('parallel tool calls: all results go first in the one user message after them', () => {
    const log = new ContextLog();
    log.user('Compare a.ts and b.ts');
    log.toolUse('t1');
    log.toolUse('t2', 'readFile', { path: 'b.ts' });
    log.toolResult('t2', 'b');
    log.toolResult('t1', 'a');
    log.assistant('They differ.');
    const { request } = assembleContext(log.events, options({ promptText: 'ok' }));
    assert.deepEqual(shape(request.messages), ['user: Compare a.ts and b.ts', 'assistant: tool_use(t1) | tool_use(t2)', 'user: tool_result(t1) | tool_result(t2)', 'assistant: They differ.', 'user: ok']);
    assert.deepEqual(checkMessagesRequest(request), []);
  });

  it('a result that arrives after the user typed again joins the two turns into one unit, result first', () => {
    const log = new ContextLog();
    log.user('Search for TODO');
    log.toolUse('t1', 'searchText', { query: 'TODO' });
    log.user('Also count them');
    log.toolResult('t1', '3 matches');
    log.assistant('3 TODOs.');
    log.turn('Thanks', 'Welcome.');
    assert.deepEqual(unitsOf(log), [
      { first: 2, last: 6, isTurn: true },
      { first: 7, last: 8, isTurn: true },
    ]);
    const { request } = assembleContext(log.events, options({ window: { kind: 'sliding', turns: 2 }, promptText: 'Bye' }));
    // Two turns (one of them a merged unit) would split the first unit; the window takes whole units only.
    assert.deepEqual(shape(request.messages), ['user: Thanks', 'assistant: Welcome.', 'user: Bye']);
    const full = assembleContext(log.events, options({ promptText: 'Bye' })).request;
    assert.deepEqual(shape(full.messages).slice(0, 4), ['user: Search for TODO', 'assistant: tool_use(t1)', 'user: tool_result(t1) | Also count them', 'assistant: 3 TODOs.']);
    assert.deepEqual(checkMessagesRequest(full), []);
  });

  it('a tool_use whose result is still pending is held back and the receipt says so', () => {
    const log = new ContextLog();
    log.turn('Hi', 'Hello.');
    log.user('Read a.ts');
    log.assistant('Let me look.');
    const pending = log.toolUse('t9');
    const withPrompt = assembleContext(log.events, options({ promptText: 'Still there?' }));
    assert.deepEqual(shape(withPrompt.request.messages).slice(-3), ['user: Read a.ts', 'assistant: Let me look.', 'user: Still there?']);
    assert.deepEqual(checkMessagesRequest(withPrompt.request), []);
    const held = withPrompt.receipt.excluded.find((exclusion) => exclusion.reason === 'tool-result-pending');
    assert.ok(held);
    assert.deepEqual(eventsOfExclusion(held, log.events).map((event) => event.id), [pending]);
    // Without a new prompt the log is answered as it is: the final assistant text is a prefill.
    const asIs = assembleContext(log.events, options());
    assert.deepEqual(shape(asIs.request.messages).slice(-2), ['user: Read a.ts', 'assistant: Let me look.']);
    assert.deepEqual(checkMessagesRequest(asIs.request), []);
  });

  it('drops a tool_use never answered mid-log, an orphan result and a duplicate tool_use id', () => {
    const log = new ContextLog();
    log.user('one');
    const unanswered = log.toolUse('t1');
    log.assistant('gave up');
    log.user('two');
    const orphan = log.toolResult('nope', 'stray');
    log.toolUse('t2');
    log.toolResult('t2', 'ok');
    log.user('three');
    const duplicate = log.toolUse('t2');
    log.toolResult('t2', 'again');
    log.assistant('done');
    const { request, receipt } = assembleContext(log.events, options({ promptText: 'four' }));
    assert.deepEqual(checkMessagesRequest(request), [], JSON.stringify(request.messages));
    const reasons = new Map(receipt.excluded.map((exclusion) => [eventsOfExclusion(exclusion, log.events)[0]?.id, exclusion.reason]));
    assert.equal(reasons.get(unanswered), 'unanswered-tool-use');
    assert.equal(reasons.get(orphan), 'orphan-tool-result');
    assert.equal(reasons.get(duplicate), 'duplicate-tool-use');
    assert.deepEqual(shape(request.messages), [
      'user: one',
      'assistant: gave up',
      'user: two',
      'assistant: tool_use(t2)',
      'user: tool_result(t2) | three',
      'assistant: done',
      'user: four',
    ]);
  });

  it('keeps an incomplete answer as text and merges same-role neighbours', () => {
    const log = new ContextLog();
    log.user('Explain snapshots');
    log.assistant('A snapshot is', true);
    log.assistant('A snapshot is a copy.');
    log.user('');
    log.user('More?');
    log.user('Please.');
    const { request, receipt } = assembleContext(log.events, options());
    assert.deepEqual(shape(request.messages), ['user: Explain snapshots', 'assistant: A snapshot is | A snapshot is a copy.', 'user: More? | Please.']);
    assert.deepEqual(checkMessagesRequest(request), []);
    assert.match(receipt.parts.find((part) => part.firstSeq === 2)!.reason, /cut short/);
    assert.ok(receipt.excluded.some((exclusion) => exclusion.reason === 'empty'));
  });

  it('leaves out what comes before the first user message: a request starts with a user message', () => {
    const log = new ContextLog();
    log.assistant('Welcome! Ask me anything.');
    log.turn('Hi', 'Hello.');
    const { request, receipt } = assembleContext(log.events, options({ promptText: 'Go' }));
    assert.equal(request.messages[0]!.role, 'user');
    assert.deepEqual(checkMessagesRequest(request), []);
    assert.deepEqual(
      receipt.excluded.map((exclusion) => exclusion.reason),
      ['no-user-turn'],
    );
  });
});
