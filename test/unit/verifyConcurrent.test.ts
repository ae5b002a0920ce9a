import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { fixtureScript, startChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

const cli = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('verify while another process writes', () => {
  it('the CLI verify agrees with the journal at one position while a writer appends, run after run', async () => {
    const temp = makeTempDir();
    const writer = startChild(fixtureScript('writerProcess'), [JSON.stringify({ storeDir: temp.dir, sessionId: 's', prefix: 'w', count: 200_000, segmentMaxBytes: 256 * 1024, snapshotEveryEvents: 5000 })]);
    try {
      await writer.waitForLine(/^ack /, 30_000);
      for (let run = 0; run < 4; run++) {
        const before = writer.lines.length;
        const result = await runCli(['--store', temp.dir, 'verify', '--json']);
        assert.equal(result.code, 0, `run ${run}: ${result.stdout}${result.stderr}`);
        const report = JSON.parse(result.stdout) as { problems: string[]; eventCount: number };
        assert.deepEqual(report.problems, []);
        assert.ok(writer.lines.length > before, `run ${run}: the writer did not append while verify ran, so the test proves nothing`);
      }
    } finally {
      writer.kill();
      await writer.exited;
      temp.remove();
    }
  });

  it("verify yields: the engine's appends complete while it replays a large journal", async () => {
    const temp = makeTempDir();
    const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    try {
      await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
      for (let i = 0; i < 30_000; i += 1000) {
        await ledger.append(Array.from({ length: 1000 }, (_, j) => ({ kind: 'message.user', sessionId: 's', body: { text: `message ${i + j}` } })));
      }
      let verifyDone = false;
      const verifying = ledger.verify().then((report) => {
        verifyDone = true;
        return report;
      });
      const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'during verify' } }]);
      assert.equal(verdict?.status, 'appended');
      assert.equal(verifyDone, false, 'the append waited for the whole verify');
      const report = await verifying;
      assert.deepEqual(report.problems, []);
      assert.equal(report.eventCount, 30_001, 'verify checked a position other than the one it started at');
    } finally {
      ledger.close();
      temp.remove();
    }
  });
});
