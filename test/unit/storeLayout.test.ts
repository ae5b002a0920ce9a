import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { Ledger } from '../../src/core/ledger';
import { UlidGenerator, ulidFromBytes, ulidToBytes } from '../../src/core/log/ulid';
import { latestSchemaVersion } from '../../src/core/store/schema';
import { listSnapshots } from '../../src/core/store/snapshots';
import { decodeStoredId, encodeStoredId } from '../../src/core/store/storedIds';
import { makeTempDir } from '../fixtures/tempDir';

// The events table's compact layout (schema version 3) and what it means for stores written by
// layout 2: the fixture test/fixtures/stores/layout2 was written by the build before it (two
// sessions, ULID and writer-given ids, a duplicate, two conflicts, a snapshot at seq 18 and six
// events after it).
const fixture = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'stores', 'layout2');
/** The snapshot name pattern of the versions before layout 3 (what they list and read). */
const layout2Pattern = /^snapshot-(\d{12})-([0-9a-f]{16}|crc[0-9a-f]{8})\.sqlite$/;

interface JournalLine {
  readonly id: string;
  readonly sessionId: string;
  readonly kind: string;
}

/** The events the fixture's journal holds, read from its bytes (not through the Ledger). */
function journalEvents(storeDir: string): JournalLine[] {
  const text = fs.readFileSync(path.join(storeDir, 'journal', '0000000001.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.includes('{'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>)
    .filter((record) => typeof record.id === 'string')
    .map((record) => ({ id: record.id as string, sessionId: record.sessionId as string, kind: record.kind as string }));
}

describe('ids as stored', () => {
  it('keeps a ULID as its 16 bytes and gives it back, and every other id as its text', () => {
    const ids = new UlidGenerator();
    for (let i = 0; i < 2000; i++) {
      const id = ids.next();
      const bytes = ulidToBytes(id);
      assert.equal(bytes?.length, 16);
      assert.equal(ulidFromBytes(bytes), id);
      assert.equal(decodeStoredId(encodeStoredId(id)), id);
    }
    assert.equal(ulidFromBytes(new Uint8Array(16).fill(0xff)), '7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
    // Not ULIDs as the spec writes them: lower case, over 128 bits, too short, writer-given.
    for (const id of ['01arz3ndektsv4rrffq69g5fav', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ', '01ARZ3NDEKTSV4RRFFQ69G5FA', 'in-3f2a-1', 'beta:start', '']) {
      assert.equal(encodeStoredId(id), id);
      assert.equal(decodeStoredId(encodeStoredId(id)), id);
    }
  });
});

describe('a store written by layout 2', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let storeDir: string;
  beforeEach(() => {
    temp = makeTempDir();
    storeDir = path.join(temp.dir, 'store');
    fs.cpSync(fixture, storeDir, { recursive: true });
  });
  afterEach(() => temp.remove());

  it('opens with the same numbers, ids and verdicts, and verify finds nothing wrong', async () => {
    const written = journalEvents(storeDir);
    const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    try {
      assert.equal(ledger.stats().schemaVersion, latestSchemaVersion);
      assert.equal(ledger.lastSeq, 24);
      assert.equal(ledger.stats().eventCount, 21);
      const read = ledger.listSessions().flatMap((session) => ledger.readSession(session.id));
      const readIds = new Set(read.map((event) => event.id));
      for (const event of read) {
        assert.ok(written.some((line) => line.id === event.id && line.sessionId === event.sessionId && line.kind === event.kind), `read ${event.id}, which the journal does not hold`);
      }
      assert.equal(read.length, 21);
      assert.ok(readIds.has('in-custom-id-1') && readIds.has('beta:start'));
      const alpha = ledger.readSession('alpha');
      assert.deepEqual(
        alpha.map((event) => event.seq),
        [1, 4, 5, 7, 8, 10, 11, 13, 14, 15, 19, 20, 21, 22, 23],
      );
      // The acceptance rules still find what layout 2 stored: a ULID id and a writer-given one.
      const ulidEvent = alpha.find((event) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(event.id))!;
      const verdicts = await ledger.append([
        { kind: 'message.user', sessionId: 'alpha', id: ulidEvent.id, body: { text: 'again' } },
        { kind: 'message.user', sessionId: 'alpha', id: 'in-custom-id-1', body: { text: 'again' } },
        { kind: 'message.user', sessionId: 'beta-0d1f9a3c-5b2e-4c1a-9f00-123456789abc', body: { text: 'closed' } },
        { kind: 'message.user', sessionId: 'alpha', body: { text: 'new' } },
      ]);
      assert.deepEqual(
        verdicts.map((verdict) => [verdict.status, 'seq' in verdict ? verdict.seq : undefined]),
        [
          ['duplicate', ulidEvent.seq],
          ['duplicate', 15],
          ['conflict', undefined],
          ['appended', 28], // every journal slot takes a number: the duplicates and the conflict took 25–27
        ],
      );
      const report = await ledger.verify();
      assert.deepEqual(report.problems, []);
      assert.equal(report.eventCount, 22);
    } finally {
      ledger.close();
    }
  });

  it('writes its next snapshot in layout 3, keeps the layout 2 one for an older window, and reads its own next time', async () => {
    const [old] = listSnapshots(nodeFileSystem, path.join(storeDir, 'snapshots'));
    assert.equal(old?.layout, 2);
    const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    const before = ledger.listSessions().map((session) => ledger.readSession(session.id));
    const outcome = ledger.snapshot();
    ledger.close();
    assert.ok(outcome.written, 'a store opened from an older layout is snapshotted even with no new event');
    assert.match(outcome.file, /\.layout3\.sqlite$/);
    assert.doesNotMatch(outcome.file, layout2Pattern, 'a version before layout 3 would try to read it');
    const names = fs.readdirSync(path.join(storeDir, 'snapshots')).sort();
    assert.deepEqual(names, [old.name, outcome.file].sort());
    assert.ok(names.filter((name) => layout2Pattern.test(name)).length === 1, 'the older version still finds its own snapshot');

    const again = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    try {
      assert.equal(again.stats().snapshot?.file, outcome.file);
      assert.deepEqual(
        again.listSessions().map((session) => again.readSession(session.id)),
        before,
      );
    } finally {
      again.close();
    }
  });

  it('leaves a snapshot of a newer layout alone and opens from its own', async () => {
    const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    const own = ledger.snapshot();
    ledger.close();
    assert.ok(own.written);
    const newer = `snapshot-000000000999-crc00000000.layout${latestSchemaVersion + 1}.sqlite`;
    fs.writeFileSync(path.join(storeDir, 'snapshots', newer), 'a future layout this version cannot read');
    const reopened = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    try {
      assert.equal(reopened.stats().snapshot?.file, own.file);
      assert.equal(reopened.lastSeq, 24);
      await reopened.append([{ kind: 'message.user', sessionId: 'alpha', body: { text: 'after' } }]);
      assert.ok(reopened.snapshot().written);
      assert.ok(fs.existsSync(path.join(storeDir, 'snapshots', newer)), 'another version’s snapshot was removed');
    } finally {
      reopened.close();
    }
  });
});
