import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { makeTempDir } from '../fixtures/tempDir';
import { assistantMessage, startSession, userMessage } from '../fixtures/sampleEvents';

describe('Ledger', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('appends, assigns sequence numbers in order, and reads a session back', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    const verdicts = await ledger.append([startSession('s1', 'First'), userMessage('s1', 'hello'), assistantMessage('s1', 'hi')]);
    assert.deepEqual(
      verdicts.map((verdict) => [verdict.status, 'seq' in verdict ? verdict.seq : -1]),
      [
        ['appended', 1],
        ['appended', 2],
        ['appended', 3],
      ],
    );
    const [session] = ledger.listSessions();
    assert.equal(session?.name, 'First');
    assert.equal(session?.turnCount, 1, 'a turn is a question: its answer belongs to it');
    assert.equal(session?.version, 3);
    assert.deepEqual(
      ledger.readSession('s1').map((event) => event.kind),
      ['session.started', 'message.user', 'message.assistant'],
    );
    assert.deepEqual(
      ledger.readSession('s1', { last: 2 }).map((event) => event.seq),
      [2, 3],
    );
    ledger.close();
  });

  it('keeps one copy of an event re-sent with the same id', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    await ledger.append([startSession('s1')]);
    const first = await ledger.append([userMessage('s1', 'once', { id: 'fixed-id' })]);
    const second = await ledger.append([userMessage('s1', 'once', { id: 'fixed-id' })]);
    assert.equal(first[0]?.status, 'appended');
    assert.deepEqual(second[0], { status: 'duplicate', id: 'fixed-id', seq: 2 });
    assert.equal(ledger.readSession('s1').length, 2);
    ledger.close();
  });

  it('refuses an append whose expected session version is stale', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    await ledger.append([startSession('s1')]);
    const ok = await ledger.append([userMessage('s1', 'a', { expectedVersion: 1 })]);
    const stale = await ledger.append([userMessage('s1', 'b', { expectedVersion: 1 })]);
    assert.equal(ok[0]?.status, 'appended');
    assert.equal(stale[0]?.status, 'conflict');
    assert.match(stale[0]?.status === 'conflict' ? stale[0].reason : '', /version 2, the append expected 1/);
    assert.equal(ledger.stats().rejectedAppendCount, 1);
    ledger.close();
  });

  it('rejects invalid drafts before writing anything', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    await assert.rejects(ledger.append([{ kind: 'message.user', sessionId: 's1', body: { text: 42 } }]), /"text" must be a string/);
    await assert.rejects(ledger.append([{ kind: 'nope', sessionId: 's1', body: {} }]), /unknown event kind/);
    assert.equal(ledger.stats().journal.bytes, 0);
    ledger.close();
  });

  it('reopens from the journal alone and from a snapshot plus tail with the same result', async () => {
    const first = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await first.append([startSession('s1')]);
    for (let i = 0; i < 50; i++) {
      await first.append([userMessage('s1', `m${i}`)]);
    }
    const snapshot = first.snapshot();
    assert.equal(snapshot.written, true);
    for (let i = 50; i < 80; i++) {
      await first.append([userMessage('s1', `m${i}`)]);
    }
    const expected = first.readSession('s1');
    first.close();

    const reopened = await Ledger.open({ storeDir: temp.dir });
    assert.deepEqual(reopened.readSession('s1'), expected);
    assert.equal(reopened.stats().snapshot?.eventsSince, 30);
    assert.equal((await reopened.verify()).ok, true);
    reopened.close();

    fs.rmSync(path.join(temp.dir, 'snapshots'), { recursive: true });
    const replayed = await Ledger.open({ storeDir: temp.dir });
    assert.deepEqual(replayed.readSession('s1'), expected);
    replayed.close();
  });

  it('names a snapshot by its CRC-32, still reads one named by a SHA-256 prefix, and refuses either when a byte is flipped', async () => {
    const first = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await first.append([startSession('s1'), userMessage('s1', 'kept')]);
    const written = first.snapshot();
    first.close();
    assert.ok(written.written);
    assert.match(written.file, /^snapshot-\d{12}-crc[0-9a-f]{8}\.layout\d+\.sqlite$/);
    const folder = path.join(temp.dir, 'snapshots');
    const bytes = fs.readFileSync(path.join(folder, written.file));
    const legacyName = written.file.replace(/crc[0-9a-f]{8}/, createHash('sha256').update(bytes).digest('hex').slice(0, 16));
    for (const name of [written.file, legacyName]) {
      fs.rmSync(folder, { recursive: true, force: true });
      fs.mkdirSync(folder);
      fs.writeFileSync(path.join(folder, name), bytes);
      const reopened = await Ledger.open({ storeDir: temp.dir });
      assert.equal(reopened.stats().snapshot?.file, name, `opened from ${name}`);
      reopened.close();
      const flipped = Buffer.from(bytes);
      flipped[flipped.length - 100]! ^= 0x01;
      fs.writeFileSync(path.join(folder, name), flipped);
      const damaged = await Ledger.open({ storeDir: temp.dir });
      assert.equal(damaged.stats().snapshot?.file ?? null, null, `a flipped byte in ${name} went unnoticed`);
      assert.equal(damaged.readSession('s1').length, 2, 'replayed from the journal instead');
      damaged.close();
    }
  });

  it('follows the seal into the next segment after rotation', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir, segmentMaxBytes: 2000 });
    await ledger.append([startSession('s1')]);
    for (let i = 0; i < 40; i++) {
      await ledger.append([userMessage('s1', `message ${i} `.repeat(5))]);
    }
    const stats = ledger.stats();
    assert.ok(stats.journal.segments > 3, `expected rotation, got ${stats.journal.segments} segments`);
    ledger.close();
    const reopened = await Ledger.open({ storeDir: temp.dir });
    assert.equal(reopened.readSession('s1').length, 41);
    assert.equal((await reopened.verify()).ok, true);
    reopened.close();
  });
});
