import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hostTag, temporaryName } from '../../src/core/fs/durableFile';
import { Ledger } from '../../src/core/ledger';
import { removeLeftoverFiles } from '../../src/core/store/leftoverFiles';
import { fixtureScript } from '../fixtures/childProcess';
import { FaultyFileSystem } from '../fixtures/faultyFileSystem';
import { makeTempDir } from '../fixtures/tempDir';

// Issue 10 §1: a writer killed mid-snapshot leaves its temporary file (as big as the snapshot),
// and ENOSPC left lock candidate files. A writable open removes those whose writer is gone and
// reports them in stats().recovery.

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('leftover temporary files', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  for (const step of ['fsyncSync', 'renameSync']) {
    it(`a process killed at ${step} of a snapshot's temporary file: the next writable open removes it and reports it; nothing is lost`, async () => {
      const crash = spawnSync(process.execPath, [fixtureScript('snapshotCrash'), temp.dir, '300', step], { encoding: 'utf8' });
      assert.equal(crash.signal, 'SIGKILL', `the writer was not killed: ${crash.stdout} ${crash.stderr}`);
      assert.match(crash.stdout, /^appended\n$/);
      const snapshotDir = path.join(temp.dir, 'snapshots');
      const [leftover, ...others] = fs.readdirSync(snapshotDir);
      assert.deepEqual(others, []);
      assert.match(leftover!, /^\.snapshot-.*\.tmp$/);
      const bytes = fs.statSync(path.join(snapshotDir, leftover!)).size;
      assert.ok(bytes > 50_000, `the temporary file holds the snapshot (${bytes} bytes)`);

      const readOnly = await Ledger.open({ storeDir: temp.dir, readOnly: true });
      readOnly.close();
      assert.ok(fs.existsSync(path.join(snapshotDir, leftover!)), 'a read-only open removed a file');

      const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
      try {
        assert.deepEqual(fs.readdirSync(snapshotDir), []);
        const recovery = reopened.stats().recovery.join('\n');
        assert.match(recovery, new RegExp(`removed the leftover temporary file snapshots/${leftover!.replace(/\./g, '\\.')} \\(${bytes} bytes\\): its writer, process ${crash.pid}, is gone`));
        assert.equal(reopened.lastSeq, 301);
        assert.deepEqual((await reopened.verify()).problems, []);
        assert.equal(reopened.snapshot().written, true);
      } finally {
        reopened.close();
      }
      const again = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
      assert.deepEqual(again.stats().recovery, [], 'the report repeats on every open');
      again.close();
    });
  }

  it('ENOSPC while writing a lock candidate leaves no candidate file, and one left by a dead process is removed at open', async () => {
    const faulty = new FaultyFileSystem();
    const ledger = await Ledger.open({ storeDir: temp.dir, fs: faulty, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'lock' } }]);
    faulty.arm('writeSync', /locks\/\..*\.candidate$/, 'ENOSPC');
    assert.throws(() => ledger.snapshot(), /ENOSPC/);
    assert.equal(faulty.firedCount, 1, 'the fault was never injected');
    const lockDir = path.join(temp.dir, 'locks');
    assert.deepEqual(fs.readdirSync(lockDir).filter((name) => name.endsWith('.candidate')), []);
    assert.equal(ledger.snapshot().written, true, 'the lock works again once the disk has room');
    ledger.close();

    const orphan = `.maintenance.${hostTag()}-${deadPid()}.0123456789abcdef.candidate`;
    fs.writeFileSync(path.join(lockDir, orphan), '{"token":"0123456789abcdef"}');
    const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    try {
      assert.match(reopened.stats().recovery.join('\n'), new RegExp(`removed the leftover temporary file locks/${orphan.replace(/\./g, '\\.')}`));
      assert.deepEqual(fs.readdirSync(lockDir).filter((name) => name.endsWith('.candidate')), []);
    } finally {
      reopened.close();
    }
  });

  it('keeps what a live writer may still be writing; removes what no writer will finish', () => {
    const storeDir = temp.dir;
    const snapshotDir = path.join(storeDir, 'snapshots');
    fs.mkdirSync(snapshotDir);
    const nowMs = Date.now();
    const write = (name: string, ageMs: number): string => {
      const file = path.join(snapshotDir, name);
      fs.writeFileSync(file, 'partial snapshot bytes');
      const time = new Date(nowMs - ageMs);
      fs.utimesSync(file, time, time);
      return name;
    };
    const ownFresh = write(temporaryName('snapshot-000000000001-0123456789abcdef.sqlite'), 5 * 60_000);
    const ownStale = write(temporaryName('snapshot-000000000002-0123456789abcdef.sqlite'), 2 * 3_600_000);
    const dead = write(`.snapshot-000000000003-0123456789abcdef.sqlite.${hostTag()}-${deadPid()}.0123456789ab.tmp`, 0);
    const otherHostFresh = write(`.snapshot-000000000004-0123456789abcdef.sqlite.${hostTag('another-host')}-1.0123456789ab.tmp`, 10_000);
    const otherHostOld = write(`.snapshot-000000000005-0123456789abcdef.sqlite.${hostTag('another-host')}-1.0123456789ab.tmp`, 120_000);
    const oldStyleFresh = write('.snapshot-000000000006-0123456789abcdef.sqlite.0123456789ab.tmp', 10_000);
    const oldStyleOld = write('.snapshot-000000000007-0123456789abcdef.sqlite.0123456789ab.tmp', 120_000);
    const notOurs = write('notes.tmp', 10 * 3_600_000);
    const hiddenNotOurs = write('.notes.tmp', 10 * 3_600_000);
    const oldCandidate = path.join('..', 'locks', '.maintenance.0123456789abcdef.candidate');
    fs.mkdirSync(path.join(storeDir, 'locks'));
    write(oldCandidate, 120_000);

    const removed = removeLeftoverFiles(fs, storeDir, { nowMs }).map((leftover) => path.basename(leftover.file)).sort();
    assert.deepEqual(removed, [dead, otherHostOld, oldStyleOld, ownStale, path.basename(oldCandidate)].sort());
    assert.deepEqual(fs.readdirSync(snapshotDir).sort(), [ownFresh, otherHostFresh, oldStyleFresh, notOurs, hiddenNotOurs].sort());
  });
});
