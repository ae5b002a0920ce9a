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
        await writer.waitForLine(/^ack /);
        // Kill somewhere between the first acknowledgement and roughly the end of the run.
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 1500));
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
          const report = ledger.verify();
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
