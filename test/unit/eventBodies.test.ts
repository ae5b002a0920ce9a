import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { Journal } from '../../src/core/log/journal';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { scanRecords } from '../../src/core/log/journalRecord';
import { EventReader, type EventLocation } from '../../src/core/store/eventReader';
import { makeTempDir } from '../fixtures/tempDir';

// Bodies stay in the journal: sql.js holds what queries need, bodies are read by position.
describe('event bodies in the journal', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('the projection database holds no body; reads return every body intact', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    const marker = 'zebra-marker-in-the-body';
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'bodies' } }]);
    const texts = Array.from({ length: 500 }, (_, i) => `${marker} ${i} ${'é'.repeat(i % 7)}`);
    await ledger.append(texts.map((text) => ({ kind: 'message.user', sessionId: 's', body: { text } })));
    const snapshot = ledger.snapshot();
    assert.equal(snapshot.written, true);
    ledger.close();
    const file = path.join(temp.dir, 'snapshots', snapshot.written ? snapshot.file : '');
    assert.equal(fs.readFileSync(file).includes(marker), false, 'a body was found in the projection database');

    const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    try {
      const read = reopened.readSession('s').filter((event) => event.kind === 'message.user');
      assert.deepEqual(
        read.map((event) => (event.kind === 'message.user' ? event.body.text : '')),
        texts,
      );
    } finally {
      reopened.close();
    }
  });

  it('a bounded cache: reading far more than the cache holds gives every body, in the order asked', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'big' } }]);
    for (let i = 0; i < 20; i++) {
      await ledger.append(Array.from({ length: 100 }, (_, j) => ({ kind: 'message.user', sessionId: 's', body: { text: `${i * 100 + j} ${'x'.repeat(500)}` } })));
    }
    ledger.close();
    const segment = path.join(temp.dir, 'journal', Journal.segmentFileName(1));
    const records = scanRecords(fs.readFileSync(segment), 0, true).records;
    const locations: EventLocation[] = records.map((record, index) => {
      const payload = record.type === 'record' && !('control' in record.payload) ? record.payload : undefined;
      return { seq: index + 1, id: payload?.id ?? '', sessionId: 's', kind: payload?.kind ?? '', segment: 1, offset: record.offset, length: record.length };
    });
    const reader = new EventReader(new Journal(nodeFileSystem, path.join(temp.dir, 'journal')), 64 * 1024);
    const shuffled = [...locations].sort((a, b) => ((a.seq * 7919) % 2003) - ((b.seq * 7919) % 2003));
    for (let pass = 0; pass < 2; pass++) {
      const read = reader.read(shuffled);
      assert.deepEqual(read.map((event) => event.id), shuffled.map((location) => location.id));
      assert.ok(read.every((event) => event.kind !== 'foreign'), 'a body could not be read');
      assert.ok(reader.cachedByteCount <= 64 * 1024, `the cache holds ${reader.cachedByteCount} bytes`);
    }
  });

  it('a record damaged after it was stored reads back as unreadable, named, not as a crash', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'rot' } }]);
    const verdicts = await ledger.append(Array.from({ length: 10 }, (_, i) => ({ kind: 'message.user', sessionId: 's', body: { text: `message ${i}` }, id: `m-${i}` })));
    ledger.snapshot();
    ledger.close();
    // Bit rot inside message 4, after the snapshot covered it.
    const segment = path.join(temp.dir, 'journal', Journal.segmentFileName(1));
    const bytes = fs.readFileSync(segment);
    bytes[bytes.indexOf('message 4') + 2]! ^= 0x01;
    fs.writeFileSync(segment, bytes);
    const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    try {
      const events = reopened.readSession('s');
      assert.equal(events.length, 11);
      const rotten = events.find((event) => event.id === 'm-4');
      assert.equal(rotten?.kind, 'foreign');
      assert.match(rotten?.kind === 'foreign' ? rotten.body.problem : '', /can no longer be read: it was damaged after it was stored/);
      assert.equal(rotten?.seq, verdicts[4]?.status === 'appended' ? verdicts[4].seq : -1);
      const others = events.filter((event) => event.id !== 'm-4' && event.kind === 'message.user');
      assert.equal(others.length, 9);
      assert.match((await reopened.verify()).problems.join('\n'), /checksum mismatch/);
    } finally {
      reopened.close();
    }
  });
});
