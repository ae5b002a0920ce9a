import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { LockTimeoutError, StoreLock } from '../../src/core/log/storeLock';
import { fixtureScript, startChild, type RunningChild } from '../fixtures/childProcess';
import { makeTempDir } from '../fixtures/tempDir';

describe('store maintenance lock', () => {
  const children: RunningChild[] = [];
  const start = (args: object): RunningChild => {
    const child = startChild(fixtureScript('lockWorker'), [JSON.stringify(args)]);
    children.push(child);
    return child;
  };
  afterEach(() => {
    for (const child of children.splice(0)) {
      child.kill();
    }
  });

  it('is exclusive within one process and free again after release', async () => {
    const temp = makeTempDir();
    try {
      const first = new StoreLock(nodeFileSystem, temp.dir, 'maintenance', { writerId: 'a' });
      const second = new StoreLock(nodeFileSystem, temp.dir, 'maintenance', { writerId: 'b' });
      assert.equal(first.tryAcquire(), true);
      assert.equal(second.tryAcquire(), false);
      await assert.rejects(second.acquire(100), LockTimeoutError);
      assert.equal(second.holder()?.writerId, 'a');
      first.release();
      assert.equal(second.tryAcquire(), true);
      second.release();
    } finally {
      temp.remove();
    }
  });

  it('is taken over within the stale timeout when its holder is killed with SIGKILL', async () => {
    const temp = makeTempDir();
    try {
      const staleMs = 1500;
      const holder = start({ mode: 'hold', lockDir: temp.dir, staleMs });
      await holder.waitForLine(/^held$/);
      const waiting = new StoreLock(nodeFileSystem, temp.dir, 'maintenance', { writerId: 'taker', staleMs });
      assert.equal(waiting.tryAcquire(), false, 'the lock was free while its holder was alive');
      holder.child.kill('SIGKILL');
      await holder.exited;
      const started = Date.now();
      await waiting.acquire(staleMs * 2);
      const waited = Date.now() - started;
      assert.ok(waited <= staleMs, `takeover took ${waited} ms, more than the stale timeout`);
      waiting.assertHeld();
      waiting.release();
    } finally {
      temp.remove();
    }
  });

  it('is taken over from a frozen holder after the stale timeout, and the holder learns it lost the lock before acting', async () => {
    const temp = makeTempDir();
    try {
      const staleMs = 600;
      const holder = start({ mode: 'hold', lockDir: temp.dir, staleMs });
      await holder.waitForLine(/^held$/);
      await holder.waitForLine(/^tick /);
      holder.child.kill('SIGSTOP');
      // The lease runs from the frozen holder's last heartbeat (the lock file's mtime).
      const lockFile = fs.readdirSync(temp.dir).filter((name) => /^maintenance\.\d+$/.test(name)).sort().at(-1)!;
      const lastHeartbeat = fs.statSync(path.join(temp.dir, lockFile)).mtimeMs;
      const taker = new StoreLock(nodeFileSystem, temp.dir, 'maintenance', { writerId: 'taker', staleMs });
      await taker.acquire(staleMs * 5);
      const takenAt = Date.now();
      assert.ok(takenAt - lastHeartbeat >= staleMs - 20, `a live (frozen) holder lost its lock ${takenAt - lastHeartbeat} ms after its last heartbeat, before its lease ran out`);
      holder.child.kill('SIGCONT');
      await holder.waitForLine(/^lost$/);
      // Once resumed, the old holder never acted as holder again: no tick stamped after the takeover.
      const lateTicks = holder.lines.filter((line) => line.startsWith('tick ') && Number(line.split(' ')[1]) >= takenAt);
      assert.deepEqual(lateTicks, [], 'the frozen holder acted after the lock was taken over');
      taker.assertHeld();
      taker.release();
      await holder.exited;
    } finally {
      temp.remove();
    }
  });

  it('never has two holders at once under contention from four processes', async () => {
    const temp = makeTempDir();
    try {
      const counterFile = path.join(temp.dir, 'counter');
      fs.writeFileSync(counterFile, '0');
      const workers = Array.from({ length: 4 }, () =>
        start({ mode: 'contend', lockDir: path.join(temp.dir, 'locks'), staleMs: 5000, counterFile, ms: 2000 }),
      );
      const lines = await Promise.all(workers.map((worker) => worker.waitForLine(/^count \d+$/, 60_000)));
      const increments = lines.reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
      assert.ok(increments > 10, `too little contention to mean anything (${increments})`);
      assert.equal(Number(fs.readFileSync(counterFile, 'utf8')), increments, 'an increment was lost: two holders overlapped');
    } finally {
      temp.remove();
    }
  });
});
