import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DurableWriteError } from '../../src/core/fs/durableFile';
import type { FileSystem } from '../../src/core/fs/fileSystem';
import { Ledger } from '../../src/core/ledger';
import { Journal, JournalWriteError } from '../../src/core/log/journal';
import { encodeRecord, JournalFormatError } from '../../src/core/log/journalRecord';
import { StoreTooNewError } from '../../src/core/store/schema';
import { StoreAccessError } from '../../src/core/store/storeManifest';
import { listSnapshots, snapshotName } from '../../src/core/store/snapshots';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { FaultyFileSystem } from '../fixtures/faultyFileSystem';
import { makeTempDir } from '../fixtures/tempDir';

async function fillStore(storeDir: string, messages: number, options: { fs?: FileSystem } = {}): Promise<Ledger> {
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0, ...options });
  await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'faults' } }]);
  for (let i = 0; i < messages; i++) {
    await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: `message ${i}` } }]);
  }
  return ledger;
}

function eventIds(ledger: Ledger): string[] {
  return [...ledger.allEvents()].map((event) => event.id);
}

describe('damaged stores and failing disks', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  const damages: Array<[string, (file: string) => void]> = [
    ['flipped bytes', (file) => {
      const bytes = fs.readFileSync(file);
      for (let i = 200; i < bytes.length; i += 997) {
        bytes[i]! ^= 0x5a;
      }
      fs.writeFileSync(file, bytes);
    }],
    ['truncated', (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
    ['empty', (file) => fs.truncateSync(file, 0)],
    ['not SQLite', (file) => fs.writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(200))],
  ];

  for (const [damage, apply] of damages) {
    it(`recovers from a ${damage} snapshot: moves it aside, falls back, loses nothing`, async () => {
      const ledger = await fillStore(temp.dir, 30);
      assert.equal(ledger.snapshot().written, true);
      for (let i = 0; i < 10; i++) {
        await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: `later ${i}` } }]);
      }
      assert.equal(ledger.snapshot().written, true);
      const expected = eventIds(ledger);
      ledger.close();
      const snapshotDir = path.join(temp.dir, 'snapshots');
      const [newest, older] = listSnapshots(fs as unknown as FileSystem, snapshotDir);
      apply(path.join(snapshotDir, newest!.name));

      const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
      try {
        assert.deepEqual(eventIds(reopened), expected);
        const recovery = reopened.stats().recovery.join('\n');
        assert.match(recovery, new RegExp(`snapshot ${newest!.name} was not used`));
        assert.match(recovery, /moved to .*corrupt/);
        assert.ok(fs.existsSync(path.join(snapshotDir, older!.name)), 'the older good snapshot was removed');
        assert.equal(reopened.stats().snapshot?.file, older!.name);
        assert.deepEqual((await reopened.verify()).problems, []);
        // The next snapshot is written under a new name; the good one stays until it is durable.
        assert.equal(reopened.snapshot().written, true);
        assert.equal(listSnapshots(fs as unknown as FileSystem, snapshotDir).length, 2);
      } finally {
        reopened.close();
      }
    });
  }

  it('rebuilds from the journal when every snapshot is damaged', async () => {
    const ledger = await fillStore(temp.dir, 20);
    ledger.snapshot();
    const expected = eventIds(ledger);
    ledger.close();
    const snapshotDir = path.join(temp.dir, 'snapshots');
    for (const file of listSnapshots(fs as unknown as FileSystem, snapshotDir)) {
      fs.writeFileSync(path.join(snapshotDir, file.name), '');
    }
    const reopened = await Ledger.open({ storeDir: temp.dir });
    assert.deepEqual(eventIds(reopened), expected);
    assert.equal(reopened.stats().snapshot, null);
    reopened.close();
  });

  it('skips a garbage line in the middle of the journal, keeps it in quarantine, and reports it', async () => {
    const ledger = await fillStore(temp.dir, 10);
    const expected = eventIds(ledger);
    ledger.close();
    const segment = path.join(temp.dir, 'journal', Journal.segmentFileName(1));
    const bytes = fs.readFileSync(segment);
    const middle = bytes.indexOf(0x1e, Math.floor(bytes.length / 2));
    const garbage = Buffer.from('rm -rf / # this is not a journal record\n');
    fs.writeFileSync(segment, Buffer.concat([bytes.subarray(0, middle), garbage, bytes.subarray(middle)]));

    const reopened = await Ledger.open({ storeDir: temp.dir });
    try {
      assert.deepEqual(eventIds(reopened), expected, 'an event around the garbage was lost');
      const report = (await reopened.verify());
      assert.equal(report.ok, false);
      assert.match(report.problems.join('\n'), new RegExp(`${garbage.length} bytes at journal segment 1 offset ${middle}`));
      const quarantined = fs.readFileSync(path.join(temp.dir, 'quarantine', `segment-1-offset-${middle}.bin`));
      assert.deepEqual(quarantined, garbage);
      const [verdict] = await reopened.append([{ kind: 'message.user', sessionId: 's', body: { text: 'still writable' } }]);
      assert.equal(verdict?.status, 'appended');
    } finally {
      reopened.close();
    }
  });

  it('detects a flipped byte inside an acknowledged record as a problem, not as a torn write', async () => {
    const ledger = await fillStore(temp.dir, 5);
    ledger.close();
    const segment = path.join(temp.dir, 'journal', Journal.segmentFileName(1));
    const bytes = fs.readFileSync(segment);
    const target = bytes.indexOf('message 2');
    bytes[target]! ^= 0x01;
    fs.writeFileSync(segment, bytes);
    const reopened = await Ledger.open({ storeDir: temp.dir });
    const report = (await reopened.verify());
    assert.match(report.problems.join('\n'), /checksum mismatch/);
    // The damaged record keeps its sequence number: later events are numbered as before.
    assert.equal(reopened.lastSeq, 6);
    assert.equal(reopened.stats().eventCount, 5);
    reopened.close();
  });

  const snapshotSteps: Array<[string, keyof FileSystem, RegExp]> = [
    ['opening the temporary file', 'openSync', /snapshots\/\..*\.tmp$/],
    ['writing', 'writeSync', /snapshots\/\..*\.tmp$/],
    ['fsyncing the file', 'fsyncSync', /snapshots\/\..*\.tmp$/],
    ['closing', 'closeSync', /snapshots\/\..*\.tmp$/],
    ['renaming into place', 'renameSync', /snapshots\/snapshot-.*\.sqlite$/],
    ['fsyncing the directory', 'fsyncSync', /snapshots$/],
  ];
  for (const code of ['ENOSPC', 'EIO']) {
    for (const [step, operation, pattern] of snapshotSteps) {
      it(`${code} while ${step} a snapshot: clear error, the last good snapshot intact, nothing lost`, async () => {
        const faulty = new FaultyFileSystem();
        const ledger = await fillStore(temp.dir, 15, { fs: faulty });
        const good = ledger.snapshot();
        assert.equal(good.written, true);
        await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'after the good snapshot' } }]);
        const goodName = good.written ? good.file : '';
        const goodBytes = fs.readFileSync(path.join(temp.dir, 'snapshots', goodName));

        faulty.arm(operation, pattern, code);
        assert.throws(() => ledger.snapshot(), (error: unknown) => {
          assert.ok(error instanceof DurableWriteError, `expected DurableWriteError, got ${String(error)}`);
          assert.match(error.message, code === 'ENOSPC' ? /disk is full \(ENOSPC\)/ : /I\/O error \(EIO\)/);
          return true;
        });
        assert.equal(faulty.firedCount, 1, 'the fault was never injected: the test would prove nothing');
        assert.deepEqual(fs.readFileSync(path.join(temp.dir, 'snapshots', goodName)), goodBytes, 'the good snapshot changed');
        const leftovers = fs.readdirSync(path.join(temp.dir, 'snapshots')).filter((name) => name.endsWith('.tmp'));
        assert.deepEqual(leftovers, []);
        // The engine keeps working, and a reopen sees every acknowledged event.
        await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'after the failed snapshot' } }]);
        const expected = eventIds(ledger);
        ledger.close();
        const reopened = await Ledger.open({ storeDir: temp.dir });
        assert.deepEqual(eventIds(reopened), expected);
        assert.deepEqual((await reopened.verify()).problems, []);
        reopened.close();
      });
    }
  }

  for (const [code, operation] of [['ENOSPC', 'writeSync'], ['EIO', 'fdatasyncSync']] as const) {
    it(`${code} on a journal append (${operation}) rejects that append clearly and the store stays usable`, async () => {
      const faulty = new FaultyFileSystem();
      const ledger = await fillStore(temp.dir, 3, { fs: faulty });
      faulty.arm(operation, /journal\/\d+\.log$/, code);
      await assert.rejects(ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'doomed' }, id: 'doomed' }]), (error: unknown) => {
        assert.ok(error instanceof JournalWriteError);
        assert.match(error.message, code === 'ENOSPC' ? /disk is full/ : /I\/O error/);
        return true;
      });
      // A retry with the same id is safe either way: stored once.
      const [retry] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'doomed' }, id: 'doomed' }]);
      assert.ok(retry?.status === 'appended' || retry?.status === 'duplicate');
      assert.equal(eventIds(ledger).filter((id) => id === 'doomed').length, 1);
      ledger.close();
    });
  }

  for (const [code, operation] of [['ENOSPC', 'writeSync'], ['EIO', 'fsyncSync'], ['ENOSPC', 'linkSync']] as const) {
    it(`${code} on ${operation} while creating store.json: a clear error, no temporary file left, and the next open creates it`, async () => {
      const faulty = new FaultyFileSystem();
      faulty.arm(operation, operation === 'linkSync' ? /store\.json$/ : /\.store\.json\..*\.tmp$/, code);
      await assert.rejects(Ledger.open({ storeDir: temp.dir, fs: faulty }), (error: unknown) => {
        assert.ok(error instanceof StoreAccessError, String(error));
        assert.match(error.message, new RegExp(`cannot create .*store\\.json: .*\\(${code}\\)`));
        return true;
      });
      assert.equal(faulty.firedCount, 1, 'the fault was never injected');
      assert.deepEqual(fs.readdirSync(temp.dir).filter((name) => name.startsWith('.') || name === 'store.json'), []);
      const ledger = await Ledger.open({ storeDir: temp.dir });
      assert.match(ledger.stats().storeId, /^[0-9a-f]{16}$/);
      ledger.close();
    });
  }

  it('refuses a store whose snapshot has a newer schema, and leaves it untouched', async () => {
    const ledger = await fillStore(temp.dir, 3);
    ledger.close();
    const sql = await loadSqlJs();
    const db = new sql.Database();
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schemaVersion', '99')");
    const bytes = db.export();
    db.close();
    const snapshotDir = path.join(temp.dir, 'snapshots');
    fs.mkdirSync(snapshotDir, { recursive: true });
    const name = snapshotName(4, bytes);
    fs.writeFileSync(path.join(snapshotDir, name), bytes);
    await assert.rejects(Ledger.open({ storeDir: temp.dir }), (error: unknown) => {
      assert.ok(error instanceof StoreTooNewError);
      assert.match(error.message, /schema version 99.*understands up to \d+.*left untouched/);
      return true;
    });
    assert.deepEqual(fs.readFileSync(path.join(snapshotDir, name)), Buffer.from(bytes));
  });

  it('refuses a store folder of a newer layout and a journal record of a newer format', async () => {
    const ledger = await fillStore(temp.dir, 1);
    ledger.close();
    const manifestFile = path.join(temp.dir, 'store.json');
    const manifest = fs.readFileSync(manifestFile, 'utf8');
    fs.writeFileSync(manifestFile, manifest.replace('"layoutVersion": 1', '"layoutVersion": 7'));
    await assert.rejects(Ledger.open({ storeDir: temp.dir }), /layout version 7/);
    fs.writeFileSync(manifestFile, manifest);

    const future = encodeRecord({ formatVersion: 2, id: 'x', kind: 'message.user', sessionId: 's', body: { text: 'from the future' } } as never);
    fs.appendFileSync(path.join(temp.dir, 'journal', Journal.segmentFileName(1)), future);
    await assert.rejects(Ledger.open({ storeDir: temp.dir }), (error: unknown) => error instanceof JournalFormatError && /newer Context Ledger/.test(error.message));
  });

  it('reports a store folder without write permission clearly and changes nothing', async () => {
    const ledger = await fillStore(temp.dir, 2);
    ledger.close();
    const before = listTree(temp.dir);
    const cli = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
    // As root, permissions do not bind: hand the store to an unprivileged user and run the CLI
    // as that user, with every folder of the store read-only.
    const asUser: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const folders = [temp.dir, ...fs.readdirSync(temp.dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name))];
    if (asUser.uid !== undefined && asUser.gid !== undefined) {
      for (const entry of [temp.dir, ...fs.readdirSync(temp.dir, { recursive: true }).map((name) => path.join(temp.dir, String(name)))]) {
        fs.chownSync(entry, asUser.uid, asUser.gid);
      }
    }
    for (const folder of folders) {
      fs.chmodSync(folder, 0o555);
    }
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, '--store', temp.dir, ...args], { input: '{"kind":"message.user","sessionId":"s","body":{"text":"x"}}\n', encoding: 'utf8', ...asUser });
    try {
      const append = run('append');
      assert.equal(append.status, 1, append.stderr);
      assert.match(append.stderr, /cannot be written: permission denied \(EACCES\)/);
      assert.doesNotMatch(append.stderr, /\n\s+at /, 'a stack trace reached the user');
      // Reading needs no write access.
      const sessions = run('sessions');
      assert.equal(sessions.status, 0, sessions.stderr);
      assert.match(sessions.stdout, /faults/);
    } finally {
      for (const folder of folders) {
        fs.chmodSync(folder, 0o755);
      }
    }
    assert.deepEqual(listTree(temp.dir), before);
  });
});

function listTree(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return `${path.relative(root, file)} ${fs.statSync(file).size}`;
    })
    .sort();
}
