import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { fixtureScript, startChild, type RunningChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

describe('two writers on one store', () => {
  it('keeps all 10,000 events of two concurrent writers, once each, in one agreed order', async () => {
    const temp = makeTempDir();
    let writers: RunningChild[] = [];
    try {
      const total = 2 + 5000 * 2; // two session starts plus the messages
      const common = { storeDir: temp.dir, count: 5000, segmentMaxBytes: 200 * 1024, snapshotEveryEvents: 1500, resendEvery: 500, waitForTotal: total };
      writers = [
        startChild(fixtureScript('writerProcess'), [JSON.stringify({ ...common, sessionId: 'left', prefix: 'a' })]),
        startChild(fixtureScript('writerProcess'), [JSON.stringify({ ...common, sessionId: 'right', prefix: 'b' })]),
      ];
      const done = await Promise.all(writers.map((writer) => writer.waitForLine(/^done /, 120_000)));
      const exits = await Promise.all(writers.map((writer) => writer.exited));
      assert.deepEqual(
        exits.map((exit) => exit.code),
        [0, 0],
        writers.map((writer) => writer.stderr()).join('\n'),
      );
      // Both engines, after catching up, saw the same (seq, id) sequence.
      const [left, right] = done.map((line) => line.split(' ').slice(1));
      assert.deepEqual(left, right);

      const ledger = await Ledger.open({ storeDir: temp.dir });
      try {
        const events = [...ledger.allEvents()];
        const ids = events.map((event) => event.id);
        const idBySeq = new Map(events.map((event) => [event.seq, event.id]));
        // Every journal slot (seals included) has a number; both writers ended at the same one.
        assert.equal(String(ledger.lastSeq), left?.[1]);
        assert.equal(ids.length, total);
        assert.equal(new Set(ids).size, total, 'an id was stored twice');
        for (const prefix of ['a', 'b']) {
          const own = ids.filter((id) => id.startsWith(`${prefix}-`)).map((id) => Number(id.slice(2)));
          assert.equal(own.length, 5000);
          // Each writer's own events keep the order it appended them in.
          assert.deepEqual(own, [...own].sort((x, y) => x - y));
        }
        // Acknowledged seqs are the seqs the store has.
        for (const writer of writers) {
          for (const line of writer.lines.filter((entry) => entry.startsWith('ack '))) {
            const [, id, seq] = line.split(' ');
            assert.equal(idBySeq.get(Number(seq)), id);
          }
        }
        const report = (await ledger.verify());
        assert.deepEqual(report.problems, []);
        assert.ok(report.segments > 1, 'expected the journal to rotate under concurrent appends');
      } finally {
        ledger.close();
      }
    } finally {
      writers.forEach((writer) => writer.kill());
      temp.remove();
    }
  });
});
