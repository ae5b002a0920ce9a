import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { assembleContext, ContextBudgetError, ContextInputError, type ContextOptions } from '../../src/core/context/assembleContext';
import { ContextIndex } from '../../src/core/context/contextIndex';
import type { WindowSpec } from '../../src/core/context/contextTypes';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { isContentEvent } from '../../src/core/context/units';
import { Ledger } from '../../src/core/ledger';
import { action, buildLog, text, windowSpec } from '../fixtures/contextArbitraries';
import { ContextLog } from '../fixtures/contextLog';
import { makeTempDir } from '../fixtures/tempDir';

// The index path (digests of every event, reads only the units that go in) against the pure
// function on the whole session read from the same real store: they must agree exactly.

const nowMs = Date.now();

type Outcome = ReturnType<typeof assembleContext> | { error: string };

function outcome(run: () => ReturnType<typeof assembleContext>): Outcome {
  try {
    const { request, receipt } = run();
    return { request, receipt };
  } catch (error) {
    if (error instanceof ContextBudgetError || error instanceof ContextInputError) {
      return { error: `${error.name}: ${error.message}` };
    }
    throw error;
  }
}

describe('context index', () => {
  const temp = makeTempDir();
  let ledger: Ledger;
  before(async () => {
    ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
  });
  after(() => {
    ledger.close();
    temp.remove();
  });

  function options(window: WindowSpec, extra: Partial<ContextOptions> = {}): Omit<ContextOptions, 'counter'> {
    return { window, budgetTokens: 100_000, systemPrompt: 'You help.', nowMs, ...extra };
  }

  it('reads only the units that go in, and agrees with assembly from the whole session', async () => {
    const log = new ContextLog('indexed');
    const pinned = log.user('question 0: the layout of the store');
    log.assistant('answer 0');
    for (let i = 1; i <= 40; i++) {
      log.turn(`question ${i}`, `answer ${i}`);
      if (i % 10 === 0) {
        log.user(`read file ${i}`);
        log.toolUse(`toolu_${i}`);
        log.toolResult(`toolu_${i}`, `contents ${i}`);
        log.assistant(`it says ${i}`);
      }
    }
    log.pin(pinned);
    await ledger.append(log.drafts());
    const counter = new CachedTokenCounter();
    const index = new ContextIndex(ledger, counter);
    for (const window of [{ kind: 'sliding', turns: 5 }, { kind: 'full' }, { kind: 'tumbling', blockTurns: 8 }, { kind: 'session', idleGapMinutes: 30, detectShift: true }] as WindowSpec[]) {
      const fromIndex = index.assemble('indexed', options(window, { promptText: 'next question' }));
      const pure = assembleContext(ledger.readSession('indexed'), { ...options(window, { promptText: 'next question' }), counter });
      assert.deepEqual(fromIndex.request, pure.request);
      assert.deepEqual(fromIndex.receipt, pure.receipt);
      const inParts = fromIndex.receipt.parts.reduce((sum, part) => sum + part.eventCount, 0);
      assert.equal(fromIndex.timings.readEvents, inParts);
      if (window.kind === 'sliding') {
        assert.ok(fromIndex.timings.readEvents < 20, `read ${fromIndex.timings.readEvents} events for a 5-turn window`);
        assert.equal(fromIndex.receipt.parts[1]!.kind, 'pinned');
      }
    }
    // Warming up a page at a time (yielding between pages) leaves nothing to catch up.
    const warmed = new ContextIndex(ledger, counter);
    assert.equal(await warmed.warmUp('indexed', { pageSeqs: 10 }), ledger.readSession('indexed').length);
    const afterWarmUp = warmed.assemble('indexed', options({ kind: 'full' }, { promptText: 'next question' }));
    assert.equal(afterWarmUp.timings.newEvents, 0);
    assert.deepEqual(afterWarmUp.request, index.assemble('indexed', options({ kind: 'full' }, { promptText: 'next question' })).request);
    // New events: only they are read to catch up.
    await ledger.append([
      { kind: 'message.user', sessionId: 'indexed', body: { text: 'question 41' } },
      { kind: 'message.assistant', sessionId: 'indexed', body: { text: 'answer 41' } },
    ]);
    const after41 = index.assemble('indexed', options({ kind: 'sliding', turns: 2 }, { promptText: 'next' }));
    assert.equal(after41.timings.newEvents, 2);
    assert.deepEqual(after41.request, assembleContext(ledger.readSession('indexed'), { ...options({ kind: 'sliding', turns: 2 }, { promptText: 'next' }), counter }).request);
    // Exact counts arriving later are used by both paths.
    for (const event of ledger.readSession('indexed').filter(isContentEvent).slice(-6)) {
      counter.setExact(event.id, 7);
    }
    const exact = index.assemble('indexed', options({ kind: 'sliding', turns: 2 }, { promptText: 'next' }));
    assert.equal(exact.receipt.parts[2]!.tokens, 2 * 7 + 2 * 4);
    assert.deepEqual(exact.receipt, assembleContext(ledger.readSession('indexed'), { ...options({ kind: 'sliding', turns: 2 }, { promptText: 'next' }), counter }).receipt);
  });

  it('agrees with assembly from the whole session for random logs, before and after more events arrive', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { maxLength: 40 }),
        fc.array(action, { maxLength: 15 }),
        windowSpec,
        fc.integer({ min: 10, max: 3000 }),
        fc.option(text.filter((t) => t.trim() !== ''), { nil: undefined }),
        fc.integer({ min: 0, max: 4 }),
        async (first, second, window, budget, prompt, exactEvery) => {
          const sessionId = `random-${run++}`;
          const log = buildLog([...first, ...second], sessionId);
          const drafts = log.drafts();
          // The builder is deterministic: the log of `first` is a prefix of the log of both.
          const split = buildLog(first, sessionId).events.length;
          const counter = new CachedTokenCounter();
          const index = new ContextIndex(ledger, counter, { pageSeqs: 7 });
          const opts = options(window, { budgetTokens: budget, ...(prompt !== undefined ? { promptText: prompt } : {}) });
          for (const [phase, part] of [drafts.slice(0, split), drafts.slice(split)].entries()) {
            if (part.length > 0) {
              await ledger.append(part);
            }
            if (phase === 1 && exactEvery > 0) {
              // Exact counts arrive for some events between two requests.
              ledger.readSession(sessionId).filter(isContentEvent).forEach((event, i) => {
                if (i % exactEvery === 0) {
                  counter.setExact(event.id, 3 + (i % 17));
                }
              });
            }
            const events = ledger.readSession(sessionId);
            const fromIndex = outcome(() => index.assemble(sessionId, opts));
            const pure = outcome(() => assembleContext(events, { ...opts, sessionId, counter }));
            if ('request' in fromIndex) {
              assert.deepEqual({ request: fromIndex.request, receipt: fromIndex.receipt }, pure);
            } else {
              assert.deepEqual(fromIndex, pure);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
