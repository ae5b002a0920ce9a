import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseAppendInput } from '../../src/cli/appendInput';
import { Ledger } from '../../src/core/ledger';
import { Journal, JournalWriteError } from '../../src/core/log/journal';
import { cliScript, faultyCliScript, jsonLines, runCliProcess } from '../fixtures/cliRunner';
import { cutAfterRecords } from '../fixtures/faultyCliMain';
import { FaultyFileSystem } from '../fixtures/faultyFileSystem';
import { makeTempDir } from '../fixtures/tempDir';

// Issue 10 §2: an append that failed part-way (ENOSPC mid-batch, EIO on fdatasync after the
// bytes reached the file) is retried with the same input, and no event is stored twice.

const batchSize = 100;
const landed = 29;

function batchInput(): Buffer {
  const events: object[] = [{ kind: 'session.started', sessionId: 'retry', body: { name: 'Retry me' } }];
  for (let i = 1; i < batchSize; i++) {
    events.push({ kind: 'message.user', sessionId: 'retry', body: { text: `message ${i} of the batch, padded to a realistic length of text` } });
  }
  return Buffer.from(jsonLines(events));
}

function storedIds(ledger: Ledger): string[] {
  return [...ledger.allEvents()].map((event) => event.id);
}

function exportedIds(store: string): string[] {
  const exported = runCliProcess(store, ['export']);
  assert.equal(exported.code, 0, exported.stderr);
  return exported.stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
}

describe('a failed append is safe to retry', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  const input = batchInput();
  const expectedIds = parseAppendInput(input).drafts.map((draft) => draft.id!);
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
  });
  afterEach(() => temp.remove());

  it('derives the same ids from the same input, different ones from other input or a new batch key, and an explicit id wins', () => {
    assert.deepEqual(parseAppendInput(input).drafts.map((draft) => draft.id), expectedIds);
    assert.equal(new Set(expectedIds).size, batchSize);
    const other = parseAppendInput(Buffer.concat([input, Buffer.from('{"kind":"message.user","sessionId":"retry","body":{"text":"one more"}}\n')]));
    assert.equal(other.drafts.filter((draft) => expectedIds.includes(draft.id!)).length, 0);
    const keyed = parseAppendInput(input, 'run-2');
    assert.deepEqual(keyed.drafts.map((draft) => draft.id), parseAppendInput(Buffer.from(input.toString().replace('Retry me', 'Other')), 'run-2').drafts.map((draft) => draft.id));
    assert.equal(keyed.drafts.filter((draft) => expectedIds.includes(draft.id!)).length, 0);
    const explicit = parseAppendInput(Buffer.from('{"kind":"message.user","sessionId":"s","id":"mine","body":{"text":"x"}}\n'));
    assert.equal(explicit.drafts[0]!.id, 'mine');
    assert.equal(explicit.derivedIds, 0);
  });

  for (const [variant, code] of [['throws ENOSPC', 'ENOSPC'], ['returns short', undefined]] as const) {
    it(`a journal write that lands ${landed} whole records and part of the next, then ${variant}: the retry stores every event exactly once, in input order`, async () => {
      const faulty = new FaultyFileSystem();
      const first = await Ledger.open({ storeDir: store, fs: faulty, snapshotEveryEvents: 0 });
      faulty.armShortWrite(/journal\/\d+\.log$/, (data) => cutAfterRecords(data, landed) + 17, code);
      await assert.rejects(first.append(parseAppendInput(input).drafts), (error: unknown) => error instanceof JournalWriteError);
      assert.equal(faulty.firedCount, 1, 'the fault was never injected');
      // The same engine retries: it reads the records that landed and finds them stored.
      const sameProcess = await first.append(parseAppendInput(input).drafts);
      assert.deepEqual(sameProcess.map((verdict) => verdict.status), [...Array<string>(landed).fill('duplicate'), ...Array<string>(batchSize - landed).fill('appended')]);
      assert.deepEqual(storedIds(first), expectedIds);
      first.close();
      // And a later run (a fresh engine) with the same input stores nothing more.
      const later = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
      try {
        const verdicts = await later.append(parseAppendInput(input).drafts);
        assert.ok(verdicts.every((verdict) => verdict.status === 'duplicate'));
        assert.deepEqual(storedIds(later), expectedIds);
        const report = (await later.verify());
        assert.deepEqual(report.problems, []);
        assert.match(report.warnings.join('\n'), /torn write/, 'the cut record is reported as a torn write');
      } finally {
        later.close();
      }
    });
  }

  it('a fresh engine retrying after a short write stores the missing events after the landed ones, once', async () => {
    const faulty = new FaultyFileSystem();
    const first = await Ledger.open({ storeDir: store, fs: faulty, snapshotEveryEvents: 0 });
    faulty.armShortWrite(/journal\/\d+\.log$/, (data) => cutAfterRecords(data, landed) + 5, 'ENOSPC');
    await assert.rejects(first.append(parseAppendInput(input).drafts));
    first.close();
    const retry = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      assert.deepEqual(storedIds(retry), expectedIds.slice(0, landed));
      const verdicts = await retry.append(parseAppendInput(input).drafts);
      assert.equal(verdicts.filter((verdict) => verdict.status === 'duplicate').length, landed);
      assert.equal(verdicts.filter((verdict) => verdict.status === 'appended').length, batchSize - landed);
      assert.deepEqual(storedIds(retry), expectedIds);
    } finally {
      retry.close();
    }
  });

  it('EIO on fdatasync after the write reached the file: the retry finds every event stored and stores none twice', async () => {
    const faulty = new FaultyFileSystem();
    const first = await Ledger.open({ storeDir: store, fs: faulty, snapshotEveryEvents: 0 });
    faulty.arm('fdatasyncSync', /journal\/\d+\.log$/, 'EIO');
    await assert.rejects(first.append(parseAppendInput(input).drafts), /fdatasync failed: the disk reported an I\/O error/);
    assert.equal(faulty.firedCount, 1);
    const segment = fs.readFileSync(path.join(store, 'journal', Journal.segmentFileName(1)), 'utf8');
    assert.equal(segment.split('\n').filter(Boolean).length, batchSize, 'the "failed" write did reach the file');
    const sameProcess = await first.append(parseAppendInput(input).drafts);
    assert.ok(sameProcess.every((verdict) => verdict.status === 'duplicate'));
    first.close();
    const later = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      const verdicts = await later.append(parseAppendInput(input).drafts);
      assert.ok(verdicts.every((verdict) => verdict.status === 'duplicate'));
      assert.deepEqual(storedIds(later), expectedIds);
      assert.deepEqual((await later.verify()).problems, []);
    } finally {
      later.close();
    }
  });

  it('through the CLI: ENOSPC mid-batch exits 1 and says to run again; running the same input again exits 0 and stores each event once', () => {
    const failed = runCliProcess(store, ['append'], input, { script: faultyCliScript, env: { CONTEXT_LEDGER_TEST_FAULT: `short-write:${landed}:40:ENOSPC` } });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /^context-ledger: error: journal append failed: the disk is full \(ENOSPC\)\. Part of this input may be stored; .*run append again with the same input/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /);
    assert.deepEqual(exportedIds(store), expectedIds.slice(0, landed));

    const retried = runCliProcess(store, ['append'], input);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, new RegExp(`^appended ${batchSize - landed}, already stored ${landed}, conflicts 0\\n`));
    assert.deepEqual(exportedIds(store), expectedIds);
    const again = runCliProcess(store, ['append'], input);
    assert.equal(again.code, 0);
    assert.match(again.stdout, new RegExp(`^appended 0, already stored ${batchSize}, conflicts 0\\nthis input was appended before`));
    assert.deepEqual(exportedIds(store), expectedIds);
    const verify = runCliProcess(store, ['verify']);
    assert.equal(verify.code, 0, verify.stdout);
    assert.match(verify.stdout, /warning: skipped a torn write/);
  });

  it('through the CLI: EIO on fdatasync exits 1; the retry exits 0 with everything already stored', () => {
    const failed = runCliProcess(store, ['append'], input, { script: faultyCliScript, env: { CONTEXT_LEDGER_TEST_FAULT: 'fdatasyncSync:EIO' } });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /fdatasync failed: the disk reported an I\/O error \(EIO\)\. Part of this input may be stored/);
    const retried = runCliProcess(store, ['append'], input);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, new RegExp(`^appended 0, already stored ${batchSize}, conflicts 0`));
    assert.deepEqual(exportedIds(store), expectedIds);
    assert.equal(runCliProcess(store, ['verify']).code, 0);
  });

  it('through the CLI on a real short write (a file size limit, ulimit -f): the retry completes the batch, each event once', (context) => {
    if (spawnSync('bash', ['-c', 'true']).status !== 0) {
      context.skip('needs bash for ulimit -f');
      return;
    }
    const setup = runCliProcess(store, ['append'], jsonLines([{ kind: 'session.started', sessionId: 'before', body: { name: 'Before the limit' } }]));
    assert.equal(setup.code, 0, setup.stderr);
    const segment = path.join(store, 'journal', Journal.segmentFileName(1));
    // The kernel lets the write reach the limit and returns the short count (Node ignores SIGXFSZ).
    const limitKiB = Math.ceil(fs.statSync(segment).size / 1024) + 8;
    const limited = spawnSync('bash', ['-c', `ulimit -f ${limitKiB} && exec "$0" "$@"`, process.execPath, cliScript, '--store', store, 'append'], { input, encoding: 'utf8' });
    assert.equal(limited.status, 1, limited.stderr);
    assert.match(limited.stderr, /journal append was cut short \(\d+ of \d+ bytes written\)/);
    const stored = exportedIds(store).slice(1);
    assert.ok(stored.length > 0 && stored.length < batchSize, `the limit should cut the batch in the middle, stored ${stored.length}`);
    assert.deepEqual(stored, expectedIds.slice(0, stored.length));

    const retried = runCliProcess(store, ['append'], input);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, new RegExp(`^appended ${batchSize - stored.length}, already stored ${stored.length}, conflicts 0`));
    assert.deepEqual(exportedIds(store).slice(1), expectedIds);
    assert.equal(runCliProcess(store, ['verify']).code, 0);
  });

  it('the same one line appended in two runs is stored once (and says why); a new --batch-key appends it again', () => {
    const line = jsonLines([{ kind: 'session.started', sessionId: 'twice', body: { name: 'Twice' } }]);
    assert.equal(runCliProcess(store, ['append'], line).code, 0);
    const message = jsonLines([{ kind: 'message.user', sessionId: 'twice', body: { text: 'yes' } }]);
    assert.match(runCliProcess(store, ['append'], message).stdout, /^appended 1, already stored 0/);
    const repeat = runCliProcess(store, ['append'], message);
    assert.equal(repeat.code, 0);
    assert.match(repeat.stdout, /^appended 0, already stored 1, conflicts 0\nthis input was appended before .*--batch-key/);
    const keyed = runCliProcess(store, ['append', '--batch-key', 'second yes'], message);
    assert.equal(keyed.code, 0, keyed.stderr);
    assert.match(keyed.stdout, /^appended 1, already stored 0/);
    assert.equal(runCliProcess(store, ['append', '--batch-key', 'second yes'], message).stdout.split('\n')[0], 'appended 0, already stored 1, conflicts 0');
    const bad = runCliProcess(store, ['sessions', '--batch-key', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--batch-key .* only with append/);
  });
});
