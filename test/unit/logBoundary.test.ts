import * as assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { EventValidationError } from '../../src/core/log/events';
import { makeTempDir } from '../fixtures/tempDir';

// What crosses the log boundary: bodies checked before anything is written, and nothing a
// listener does can turn a durable append into a failure.
describe('the log boundary', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  beforeEach(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
  });
  afterEach(() => {
    ledger.close();
    temp.remove();
  });

  const receipt = { sessionId: 's', createdMs: 1, window: { kind: 'full' }, budgetTokens: 1000, totalTokens: 10, tokenSource: 'estimate', parts: [], excluded: [] };

  it('a receipt of the wrong shape is refused before anything is written; a good one is stored', async () => {
    const before = ledger.lastSeq;
    for (const [broken, message] of [
      [{ ...receipt, parts: [{ kind: 'turn', tokens: 'many' }] }, /receipt\.parts/],
      [{ ...receipt, tokenSource: 'guess' }, /tokenSource/],
      [{ ...receipt, window: { kind: 'spiral' } }, /receipt\.window/],
      [{ ...receipt, excluded: [{ eventCount: 'one', firstSeq: 1, lastSeq: 1, tokens: 1, reason: 'x' }] }, /receipt\.excluded/],
      [{ ...receipt, parts: [{ kind: 'turn', firstSeq: 1, lastSeq: 2, tokens: 5, reason: 'in the window' }] }, /receipt\.parts/],
    ] as const) {
      await assert.rejects(ledger.append([{ kind: 'context.receipt', sessionId: 's', body: { requestId: 'r', receipt: broken } }]), (error: unknown) => error instanceof EventValidationError && message.test(error.message));
    }
    assert.equal(ledger.lastSeq, before, 'a refused receipt was written');
    const [verdict] = await ledger.append([{ kind: 'context.receipt', sessionId: 's', body: { requestId: 'r', receipt } }]);
    assert.equal(verdict?.status, 'appended');
  });

  it('a receipt written before 0.2 (event ids per part, no counts) is still read, with its counts', async () => {
    const legacy = { ...receipt, parts: [{ kind: 'turn', eventIds: ['a', 'b', 'c'], firstSeq: 1, lastSeq: 3, tokens: 9, reason: 'in the window' }], excluded: [{ eventIds: ['x'], eventCount: 1, firstSeq: 4, lastSeq: 4, tokens: 1, reason: 'empty' }] };
    await ledger.append([{ kind: 'context.receipt', sessionId: 's', body: { requestId: 'old', receipt: legacy } as never }]);
    const read = ledger.readSession('s').at(-1);
    assert.equal(read?.kind, 'context.receipt', 'an old receipt is not foreign');
    if (read?.kind === 'context.receipt') {
      assert.equal(read.body.receipt.parts[0]?.eventCount, 3);
      assert.equal('eventIds' in read.body.receipt.parts[0], false);
    }
  });

  it('a change listener that throws does not fail the append; the event is stored and the next listener still runs', async () => {
    const seen: number[] = [];
    ledger.onDidChange(() => {
      throw new Error('a broken listener');
    });
    ledger.onDidChange((change) => seen.push(change.lastSeq));
    const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'durable' } }]);
    assert.equal(verdict?.status, 'appended');
    assert.deepEqual(seen, [ledger.lastSeq]);
    assert.equal(ledger.readSession('s').at(-1)?.kind, 'message.user');
  });
});
