import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { fixtureScript, startChild, type RunningChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

// A writer appending 10,000 events (with background snapshots and segment rotation on) is
// killed with SIGKILL at a random moment. After reopening, every event it acknowledged must be
// there, in acknowledgement order, and the store must verify clean.
describe('crash safety', () => {
  const runs = 5;
  for (let run = 1; run <= runs; run++) {
    it(`keeps every acknowledged event after SIGKILL (run ${run} of ${runs})`, async (t) => {
      const temp = makeTempDir();
      let writer: RunningChild | undefined;
      try {
        writer = startChild(fixtureScript('writerProcess'), [
          JSON.stringify({ storeDir: temp.dir, sessionId: 'crash', count: 10_000, prefix: 'c', segmentMaxBytes: 256 * 1024, snapshotEveryEvents: 700 }),
        ]);
        // Kill at a random point of the run, chosen by progress rather than by time, so a fast
        // machine cannot finish the 10,000 events first.
        const killAfter = 1 + Math.floor(Math.random() * 9000);
        while (writer.lines.length < killAfter && writer.child.exitCode === null) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        writer.child.kill('SIGKILL');
        const exit = await writer.exited;
        const acked = writer.lines.filter((line) => line.startsWith('ack ')).map((line) => line.split(' ')[1]!);
        assert.ok(acked.length > 0, 'the writer acknowledged nothing before the kill');
        assert.equal(exit.signal, 'SIGKILL', 'the writer finished before it could be killed');
        t.diagnostic(`killed after ${acked.length} acknowledged events`);

        const ledger = await Ledger.open({ storeDir: temp.dir });
        try {
          const stored = ledger.readSession('crash').filter((event) => event.kind === 'message.user');
          const storedIds = stored.map((event) => event.id);
          // Every acknowledged event is stored, and in the order it was acknowledged.
          assert.deepEqual(storedIds.slice(0, acked.length), acked, `run ${run}: acknowledged events missing or reordered (killed: ${exit.signal})`);
          assert.equal(new Set(storedIds).size, storedIds.length, 'duplicate ids stored');
          const report = (await ledger.verify());
          assert.deepEqual(report.problems, [], `verify found problems: ${report.problems.join('; ')}`);
          // Appending after recovery works and is durable.
          const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 'crash', body: { text: 'after the crash' } }]);
          assert.equal(verdict?.status, 'appended');
        } finally {
          ledger.close();
        }
      } finally {
        writer?.kill();
        temp.remove();
      }
    });
  }
});
