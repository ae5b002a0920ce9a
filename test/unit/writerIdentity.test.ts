import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { fixtureScript, startChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

describe('stable writer identity', () => {
  it('each live writer has its own id of its kind, on every event; a writer that comes back gets its id again', async () => {
    const temp = makeTempDir();
    try {
      const first = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0, writerKind: 'vscode' });
      const second = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0, writerKind: 'vscode' });
      const cli = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0, writerKind: 'cli' });
      assert.deepEqual([first.writerId, second.writerId, cli.writerId], ['vscode-1', 'vscode-2', 'cli-1']);
      await first.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
      await second.append([{ kind: 'message.user', sessionId: 's', body: { text: 'from the second window' } }]);
      await cli.append([{ kind: 'message.user', sessionId: 's', body: { text: 'from the CLI' } }]);
      assert.deepEqual(
        first.readSession('s').map((event) => event.writerId),
        ['vscode-1', 'vscode-2', 'cli-1'],
      );
      first.close();
      const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0, writerKind: 'vscode' });
      assert.equal(reopened.writerId, 'vscode-1', 'a window that reopens takes the lowest free slot again');
      reopened.close();
      second.close();
      cli.close();
    } finally {
      temp.remove();
    }
  });

  it('a writer killed without closing frees its id for the next one (its process is gone)', async () => {
    const temp = makeTempDir();
    try {
      const child = startChild(fixtureScript('writerProcess'), [JSON.stringify({ storeDir: temp.dir, sessionId: 's', prefix: 'k', count: 1_000_000 })]);
      await child.waitForLine(/^ack /);
      child.kill();
      await child.exited;
      const next = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
      try {
        assert.equal(next.writerId, 'engine-1');
        const writers = new Set([...next.allEvents()].map((event) => event.writerId));
        assert.deepEqual([...writers], ['engine-1'], 'the killed writer wrote under another id');
      } finally {
        next.close();
      }
    } finally {
      temp.remove();
    }
  });
});
