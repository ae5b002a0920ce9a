import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { factsStreamId } from '../../src/core/facts/factEvents';
import { FactsStore } from '../../src/core/facts/factsStore';
import { Ledger } from '../../src/core/ledger';
import { fixtureScript, startChild, type RunningChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

describe('facts written by two engine processes at once', () => {
  it('applies every write of the same 500 keys or surfaces it as a conflict; none disappears', async () => {
    const temp = makeTempDir();
    let writers: RunningChild[] = [];
    const keys = 500;
    try {
      const common = { storeDir: temp.dir, keys, startAtMs: Date.now() + 1500, inFlight: 16 };
      writers = [startChild(fixtureScript('factsWriterProcess'), [JSON.stringify({ ...common, prefix: 'a' })]), startChild(fixtureScript('factsWriterProcess'), [JSON.stringify({ ...common, prefix: 'b' })])];
      await Promise.all(writers.map((writer) => writer.waitForLine(/^done /, 120_000)));
      const exits = await Promise.all(writers.map((writer) => writer.exited));
      assert.deepEqual(
        exits.map((exit) => exit.code),
        [0, 0],
        writers.map((writer) => writer.stderr()).join('\n'),
      );
      const writerIds = writers.map((writer) => writer.lines.find((line) => line.startsWith('done '))!.split(' ')[1]);
      assert.notEqual(writerIds[0], writerIds[1], 'two writer ids');
      const acknowledged = writers.flatMap((writer) => writer.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4)));
      assert.equal(acknowledged.length, 2 * keys);

      const ledger = await Ledger.open({ storeDir: temp.dir, readOnly: true });
      try {
        const facts = new FactsStore(ledger);
        let ordered = 0;
        let conflicts = 0;
        const accounted = new Set<string>();
        for (let index = 0; index < keys; index++) {
          const fact = facts.get(`key.${index}`);
          assert.ok(fact, `key.${index} exists`);
          const history = facts.queries.history(fact.key);
          for (const head of fact.heads) {
            accounted.add(head.eventId);
          }
          for (const entry of history) {
            accounted.add(entry.eventId);
          }
          if (fact.state === 'conflicted') {
            // Neither saw the other: both values kept.
            assert.equal(fact.heads.length, 2);
            assert.equal(history.length, 0);
            assert.deepEqual(fact.heads.map((head) => head.value!.split(' ')[0]).sort(), ['a', 'b']);
            conflicts++;
          } else {
            // The second write saw the first: the first is history, superseded by it.
            assert.equal(fact.state, 'active');
            assert.equal(fact.heads.length, 1);
            assert.equal(history.length, 1);
            assert.equal(history[0]!.ended, 'superseded');
            assert.equal(history[0]!.endedBy, fact.heads[0]!.eventId);
            assert.notEqual(history[0]!.writerId, fact.heads[0]!.writerId);
            ordered++;
          }
        }
        const lost = acknowledged.filter((id) => !accounted.has(id));
        assert.deepEqual(lost, []);
        assert.equal(ordered + conflicts, keys);
        const stored = ledger.readSession(factsStreamId).filter((event) => event.kind === 'fact.asserted' || event.kind === 'fact.updated');
        assert.equal(stored.length, 2 * keys);
        assert.deepEqual((await ledger.verify()).problems, []);
        console.log(`two engines, ${keys} keys each: ${2 * keys} writes acknowledged, ${ordered} keys updated in order, ${conflicts} concurrent writes surfaced as conflicts, ${lost.length} lost`);
      } finally {
        ledger.close();
      }
    } finally {
      writers.forEach((writer) => writer.kill());
      temp.remove();
    }
  });
});
