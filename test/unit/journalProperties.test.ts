import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ledger } from '../../src/core/ledger';
import type { LoggedEvent } from '../../src/core/log/events';
import { Journal } from '../../src/core/log/journal';
import { encodeRecord, scanRecords } from '../../src/core/log/journalRecord';
import { makeTempDir } from '../fixtures/tempDir';

const loggedEvent: fc.Arbitrary<LoggedEvent> = fc
  .record({
    id: fc.stringMatching(/^[0-9A-Z]{1,26}$/),
    sessionId: fc.string({ minLength: 1, maxLength: 40 }),
    text: fc.string({ unit: 'binary', maxLength: 300 }),
    parentId: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: null }),
    writerId: fc.string({ minLength: 1, maxLength: 30 }),
    wallMs: fc.nat(),
    kind: fc.constantFrom('message.user' as const, 'message.assistant' as const),
    expectedVersion: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ text, expectedVersion, ...rest }) => ({
    formatVersion: 1 as const,
    ...rest,
    hlc: `${String(rest.wallMs).padStart(15, '0')}.00000`,
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    body: { text },
  }));

describe('journal records (properties)', () => {
  it('decode(encode(events)) gives the events back, for any text including separators and non-ASCII', () => {
    fc.assert(
      fc.property(fc.array(loggedEvent, { maxLength: 20 }), (events) => {
        const bytes = Buffer.concat(events.map((event) => encodeRecord(event)));
        const scan = scanRecords(bytes, 0);
        assert.equal(scan.consumed, bytes.length);
        assert.deepEqual(
          scan.records.map((record) => (record.type === 'record' ? record.payload : record)),
          events,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('any single flipped byte is detected, never decoded as a different event', () => {
    fc.assert(
      fc.property(loggedEvent, fc.nat(), fc.integer({ min: 1, max: 255 }), (event, at, xor) => {
        const bytes = encodeRecord(event);
        const index = at % bytes.length;
        bytes[index]! ^= xor;
        const scan = scanRecords(bytes, 0);
        for (const record of scan.records) {
          if (record.type === 'record') {
            assert.deepEqual(record.payload, event);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a journal cut at any byte recovers exactly the records wholly before the cut, and keeps working', async () => {
    const temp = makeTempDir();
    try {
      // Write a journal once, then try every cut point.
      const source = path.join(temp.dir, 'source');
      const writer = await Ledger.open({ storeDir: source, snapshotEveryEvents: 0 });
      await writer.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
      for (let i = 0; i < 12; i++) {
        await writer.append([{ kind: 'message.user', sessionId: 's', body: { text: `message ${i} ${'é'.repeat(i)}` } }]);
      }
      writer.close();
      const journalFile = path.join(source, 'journal', Journal.segmentFileName(1));
      const full = fs.readFileSync(journalFile);
      const boundaries = scanRecords(full, 0).records.map((record) => record.offset + record.length);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: full.length }), async (cut) => {
          const store = path.join(temp.dir, `cut-${cut}-${Math.random().toString(36).slice(2)}`);
          fs.mkdirSync(path.join(store, 'journal'), { recursive: true });
          fs.copyFileSync(path.join(source, 'store.json'), path.join(store, 'store.json'));
          fs.writeFileSync(path.join(store, 'journal', Journal.segmentFileName(1)), full.subarray(0, cut));
          const ledger = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
          try {
            const whole = boundaries.filter((end) => end <= cut).length;
            const tornBytes = cut - (boundaries.filter((end) => end <= cut).at(-1) ?? 0);
            // A torn tail is ended by a void record at open: both take a sequence number.
            assert.equal(ledger.lastSeq, whole + (tornBytes > 0 ? 2 : 0));
            assert.equal(ledger.stats().eventCount, whole);
            assert.deepEqual((await ledger.verify()).problems, []);
            if (whole > 0) {
              const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'after cut' } }]);
              assert.deepEqual([verdict?.status, verdict?.status === 'appended' ? verdict.seq : 0], ['appended', whole + (tornBytes > 0 ? 2 : 0) + 1]);
            }
            if (tornBytes > 0) {
              assert.ok(ledger.stats().recovery.some((message) => /torn|skipped/.test(message)), 'a torn tail was not reported');
            }
          } finally {
            ledger.close();
            fs.rmSync(store, { recursive: true, force: true });
          }
        }),
        { numRuns: 60 },
      );
    } finally {
      temp.remove();
    }
  });

  it('snapshot + replay of the tail equals a full replay, wherever the snapshots fall', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('snapshot' as const), fc.constant('rotate' as const), fc.string({ maxLength: 40 })), { minLength: 1, maxLength: 40 }),
        async (steps) => {
          const temp = makeTempDir();
          try {
            const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
            await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
            for (const step of steps) {
              if (step === 'snapshot') {
                ledger.snapshot();
              } else if (step === 'rotate') {
                ledger.rotate();
              } else {
                await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: step } }]);
              }
            }
            const expected = [...ledger.allEvents()];
            ledger.close();
            const fromSnapshot = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
            assert.deepEqual([...fromSnapshot.allEvents()], expected);
            fromSnapshot.close();
            fs.rmSync(path.join(temp.dir, 'snapshots'), { recursive: true, force: true });
            const fromJournal = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
            assert.deepEqual([...fromJournal.allEvents()], expected);
            fromJournal.close();
          } finally {
            temp.remove();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
