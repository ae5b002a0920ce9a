import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { Ledger } from '../../src/core/ledger';
import { Journal } from '../../src/core/log/journal';
import { encodeRecord, scanRecords } from '../../src/core/log/journalRecord';
import { makeTempDir } from '../fixtures/tempDir';

// Damage costs at most the bytes it touches: each case flips bytes in one kind of record, then
// checks what is still readable, how later events are numbered, and what verify says.

interface Placed {
  readonly offset: number;
  readonly length: number;
  readonly kind: string;
}

function recordsOf(file: string): Placed[] {
  return scanRecords(fs.readFileSync(file), 0, true).records.map((record) => ({
    offset: record.offset,
    length: record.length,
    kind: record.type === 'record' ? ('control' in record.payload ? `control:${record.payload.control}` : record.payload.kind) : 'damaged',
  }));
}

function segmentFile(storeDir: string, segment: number): string {
  return path.join(storeDir, 'journal', Journal.segmentFileName(segment));
}

function flip(file: string, at: number, xor = 0x01): void {
  const bytes = fs.readFileSync(file);
  bytes[at]! ^= xor;
  fs.writeFileSync(file, bytes);
}

function seqById(ledger: Ledger): Map<string, number> {
  return new Map([...ledger.allEvents()].map((event) => [event.id, event.seq]));
}

async function openFresh(storeDir: string): Promise<Ledger> {
  // Without snapshots: the journal alone decides.
  fs.rmSync(path.join(storeDir, 'snapshots'), { recursive: true, force: true });
  return Ledger.open({ storeDir, snapshotEveryEvents: 0 });
}

interface BuildOptions {
  readonly rotateEvery?: number;
  /** The first clock reading; the clock then moves 1 ms per reading, so hlc and wallMs differ per event. */
  readonly startMs?: number;
  readonly writerId?: string;
}

/** A clock that gives the same readings every run: with fixed ids and writer, the journal's bytes repeat. */
function steppingClock(startMs: number): () => number {
  let ms = startMs;
  return () => ms++;
}

// Every store here has the same bytes on every run, so a byte offset (a property's counterexample)
// always lands in the same field of the same record.
async function buildStore(storeDir: string, sessions: Array<[string, number]>, options: BuildOptions = {}): Promise<Map<string, number>> {
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0, writerId: options.writerId ?? 'engine-1', now: steppingClock(options.startMs ?? 1_764_630_000_000) });
  try {
    let written = 0;
    for (const [sessionId, messages] of sessions) {
      await ledger.append([{ kind: 'session.started', sessionId, body: { name: `session ${sessionId}` }, id: `${sessionId}-start` }]);
      const batch = Array.from({ length: messages }, (_, i) => ({ kind: 'message.user', sessionId, body: { text: `${sessionId} message ${i}` }, id: `${sessionId}-${i}` }));
      for (let i = 0; i < batch.length; i += 100) {
        await ledger.append(batch.slice(i, i + 100));
        written += Math.min(100, batch.length - i);
        if (options.rotateEvery && written % options.rotateEvery === 0) {
          ledger.rotate();
        }
      }
    }
    return seqById(ledger);
  } finally {
    ledger.close();
  }
}

describe('damage costs at most the bytes it touches', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('a flipped LF in the middle of a segment: the record is read by its checksum, nothing lost, verify says so', async () => {
    const before = await buildStore(temp.dir, [['s', 20]]);
    const file = segmentFile(temp.dir, 1);
    const target = recordsOf(file)[8]!;
    flip(file, target.offset + target.length - 1, 0x08);
    const ledger = await openFresh(temp.dir);
    try {
      assert.deepEqual(seqById(ledger), before, 'an event was lost or renumbered');
      const report = await ledger.verify();
      assert.deepEqual(report.problems, []);
      assert.match(report.warnings.join('\n'), /closing LF was damaged; the checksum proved the record whole; nothing lost/);
    } finally {
      ledger.close();
    }
  });

  it('a flipped record separator: the record is read by its checksum', async () => {
    const before = await buildStore(temp.dir, [['s', 20]]);
    const file = segmentFile(temp.dir, 1);
    for (const index of [0, 9]) {
      flip(file, recordsOf(file)[index]!.offset, index === 0 ? 0x1e : 0x0a ^ 0x1e); // to NUL, and to an LF
    }
    const ledger = await openFresh(temp.dir);
    try {
      assert.deepEqual(seqById(ledger), before);
      assert.deepEqual((await ledger.verify()).problems, []);
    } finally {
      ledger.close();
    }
  });

  it('a bit flipped in session.started: the session is recovered with its 1,000 later events, still appendable, and verify names the loss', async () => {
    const before = await buildStore(temp.dir, [['a', 5], ['s', 1000]]);
    const file = segmentFile(temp.dir, 1);
    const start = recordsOf(file).find((record) => record.kind === 'session.started' && fs.readFileSync(file).toString('utf8', record.offset, record.offset + record.length).includes('"s-start"'))!;
    flip(file, start.offset + Math.floor(start.length / 2), 0x04);
    const ledger = await openFresh(temp.dir);
    try {
      const after = seqById(ledger);
      before.delete('s-start');
      assert.deepEqual(after, before, 'later events were lost or renumbered');
      const session = ledger.getSession('s');
      assert.ok(session, 'the session disappeared');
      assert.equal(session.recovered, true);
      assert.equal(session.eventCount, 1000);
      assert.equal(ledger.readSession('s').length, 1000);
      const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'still appendable' }, expectedVersion: session.version }]);
      assert.equal(verdict?.status, 'appended', JSON.stringify(verdict));
      const report = await ledger.verify();
      assert.equal(report.ok, false);
      const problems = report.problems.join('\n');
      assert.match(problems, /session s lost its start record .* its 1001 later events were kept/);
      assert.match(problems, /damaged journal record .*checksum mismatch: one record lost \(probably a session\.started event of session s/);
    } finally {
      ledger.close();
    }
  });

  it("a byte flipped in a segment's seal: every later segment is still read", async () => {
    const before = await buildStore(temp.dir, [['s', 3000]], { rotateEvery: 500 });
    const segments = fs.readdirSync(path.join(temp.dir, 'journal')).length;
    assert.ok(segments >= 5, `expected several segments, got ${segments}`);
    const file = segmentFile(temp.dir, 1);
    const seal = recordsOf(file).find((record) => record.kind === 'control:seal')!;
    flip(file, seal.offset + 20, 0x02);
    const ledger = await openFresh(temp.dir);
    try {
      assert.deepEqual(seqById(ledger), before);
      const report = await ledger.verify();
      assert.deepEqual(report.problems, []);
      assert.match(report.warnings.join('\n'), /the seal of segment 1 was damaged .*recognised by its exact shape/);
    } finally {
      ledger.close();
    }
  });

  it('a seal destroyed beyond recognition: later segments are found by listing the folder, and verify names the loss', async () => {
    const before = await buildStore(temp.dir, [['s', 2000]], { rotateEvery: 500 });
    const file = segmentFile(temp.dir, 2);
    const seal = recordsOf(file).find((record) => record.kind === 'control:seal')!;
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, seal.offset)); // the seal is gone
    const ledger = await openFresh(temp.dir);
    try {
      assert.deepEqual([...seqById(ledger).keys()], [...before.keys()], 'events after the lost seal disappeared');
      const report = await ledger.verify();
      assert.match(report.problems.join('\n'), /segment 2 ended without a readable seal; reading went on with segment 3/);
    } finally {
      ledger.close();
    }
  });

  it('damage inside what the snapshot covers: engines with and without the snapshot number later events alike, and verify finds it', async () => {
    await buildStore(temp.dir, [['s', 200]]);
    const writer = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    assert.equal(writer.snapshot().written, true);
    writer.close();
    const file = segmentFile(temp.dir, 1);
    flip(file, recordsOf(file)[50]!.offset + 30, 0x01);
    const fromSnapshot = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    const later = Array.from({ length: 10 }, (_, i) => ({ kind: 'message.user', sessionId: 's', body: { text: `later ${i}` }, id: `later-${i}` }));
    const verdicts = await fromSnapshot.append(later);
    assert.ok(verdicts.every((verdict) => verdict.status === 'appended'));
    const report = await fromSnapshot.verify();
    assert.match(report.problems.join('\n'), /checksum mismatch/);
    fromSnapshot.close();
    const fromJournal = await openFresh(temp.dir);
    try {
      const replayed = seqById(fromJournal);
      for (const verdict of verdicts) {
        assert.equal(replayed.get(verdict.id), verdict.status === 'appended' ? verdict.seq : -1, `event ${verdict.id} is numbered differently`);
      }
    } finally {
      fromJournal.close();
    }
  });

  it('a journal shorter than the snapshot: open refuses and says what to do; nothing is written', async () => {
    await buildStore(temp.dir, [['s', 100]]);
    const writer = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    writer.snapshot();
    writer.close();
    const file = segmentFile(temp.dir, 1);
    const bytes = fs.readFileSync(file);
    const older = bytes.subarray(0, recordsOf(file)[60]!.offset); // as restored from an older backup
    fs.writeFileSync(file, older);
    await assert.rejects(Ledger.open({ storeDir: temp.dir }), /journal is shorter than snapshot .* repair/);
    assert.deepEqual(fs.readFileSync(file), older, 'the journal was written to');
    // The way out it names: repair sets the snapshots aside; the store opens from the journal.
    const cli = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
    const repaired = spawnSync(process.execPath, [cli, '--store', temp.dir, 'repair'], { encoding: 'utf8' });
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stdout, /journal is shorter than the snapshots say .* moved 1 snapshot\(s\) aside/);
    const reopened = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    try {
      assert.equal(reopened.stats().eventCount, 60);
      assert.deepEqual((await reopened.verify()).problems, []);
    } finally {
      reopened.close();
    }
  });

  it('an unknown kind from another version is stored, counted and numbered, and shown as foreign', async () => {
    const before = await buildStore(temp.dir, [['s', 5]]);
    // Append a record of a kind this version does not know, as a newer version would.
    const file = segmentFile(temp.dir, 1);
    const future = { formatVersion: 1 as const, id: 'future-1', kind: 'fact.asserted', sessionId: 's', parentId: null, writerId: 'w-newer', hlc: '999999999999999.00000', wallMs: Date.now(), body: { fact: 'x' } };
    fs.appendFileSync(file, encodeRecord(future));
    const ledger = await openFresh(temp.dir);
    try {
      const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'after it' }, id: 'after' }]);
      const seqs = seqById(ledger);
      assert.equal(seqs.get('future-1'), Math.max(...before.values()) + 1);
      assert.equal(verdict?.status === 'appended' ? verdict.seq : 0, Math.max(...before.values()) + 2);
      const stored = ledger.readSession('s').find((event) => event.id === 'future-1');
      assert.equal(stored?.kind, 'foreign');
      assert.deepEqual(stored?.kind === 'foreign' ? [stored.body.kind, stored.body.body] : [], ['fact.asserted', { fact: 'x' }]);
      assert.equal(ledger.getSession('s')?.eventCount, 8); // the start, 5 messages, the foreign event and the one after
      assert.deepEqual((await ledger.verify()).problems, []);
    } finally {
      ledger.close();
    }
  });

  // The property's first counterexample (seed -1272757534, [8978, 46]): '0' ^ 46 is an RS, so the
  // first zero of b-12's hlc became an RS with eight digits after it, which read as a record
  // header and split the record into two slots: 17 later events were renumbered.
  it('a zero of an hlc damaged into a record separator (the property store, offset 8978 ^ 46): the record is still one slot and read whole', async () => {
    const before = await buildStore(temp.dir, [['a', 30], ['b', 30]], { rotateEvery: 20 });
    const file = segmentFile(temp.dir, 1);
    const target = recordsOf(file).find((record) => record.offset <= 8978 && 8978 < record.offset + record.length)!;
    const text = fs.readFileSync(file).toString('latin1', target.offset, target.offset + target.length);
    assert.equal(text.indexOf('"hlc":"0') + '"hlc":"'.length, 8978 - target.offset, 'offset 8978 is no longer the first digit of an hlc: the deterministic store changed');
    assert.match(text, /"id":"b-12"/);
    const hlcBefore = (JSON.parse(text.slice(10, -1)) as { hlc: string }).hlc;
    flip(file, 8978, 46);
    const ledger = await openFresh(temp.dir);
    try {
      assert.deepEqual(seqById(ledger), before, 'an event was lost or renumbered');
      const stored = ledger.readSession('b').find((event) => event.id === 'b-12');
      assert.deepEqual([stored?.kind, stored?.hlc, stored?.kind === 'message.user' ? stored.body.text : undefined], ['message.user', hlcBefore, 'b message 12']);
      const report = await ledger.verify();
      assert.deepEqual(report.problems, []);
      assert.match(report.warnings.join('\n'), /offset 8854: its byte at offset 8978 was damaged into a record separator; the checksum proved the record whole with that byte restored; nothing lost/);
    } finally {
      ledger.close();
    }
  });

  // The same damage in the other fields where eight hex digits follow (the quote before the hlc,
  // the colon before wallMs), at the first and last record of a segment: none splits its record.
  for (const [name, segment, pick, field, xor] of [
    ['the quote before the hlc of the first record of a segment', 2, 'first', '"hlc":', 0x22 ^ 0x1e],
    ['the colon before wallMs of the last record before a seal', 1, 'last', '"wallMs"', 0x3a ^ 0x1e],
    ['the fourth digit of an hlc in the last record of the journal', 2, 'last', '"hlc":"001', 0x37 ^ 0x1e],
  ] as const) {
    it(`an RS made of ${name}: nothing lost or renumbered, verify warns`, async () => {
      const before = await buildStore(temp.dir, [['a', 20], ['b', 20]], { rotateEvery: 20 });
      const file = segmentFile(temp.dir, segment);
      const events = recordsOf(file).filter((record) => !record.kind.startsWith('control:'));
      const target = pick === 'first' ? events[0]! : events.at(-1)!;
      const at = target.offset + fs.readFileSync(file).toString('latin1', target.offset, target.offset + target.length).indexOf(field) + field.length;
      flip(file, at, xor);
      assert.equal(fs.readFileSync(file)[at], 0x1e);
      const ledger = await openFresh(temp.dir);
      try {
        assert.deepEqual(seqById(ledger), before, 'an event was lost or renumbered');
        const report = await ledger.verify();
        assert.deepEqual(report.problems, []);
        assert.match(report.warnings.join('\n'), new RegExp(`journal segment ${segment} offset ${target.offset}: its byte at offset ${at} was damaged into a record separator`));
      } finally {
        ledger.close();
      }
    });
  }

  // LF ^ 0x14 is an RS: at the end of a segment it is too near the end to be a header, and the
  // record was cut one byte short of its damaged LF, so a seal split into two slots.
  for (const [name, sessions, rotateEvery] of [
    ["a seal's closing LF", [['a', 20], ['b', 20]], 20],
    ["the journal's last LF", [['s', 3]], undefined],
  ] as const) {
    it(`${name} damaged into an RS: the record is read by its checksum, later events keep their numbers`, async () => {
      const before = await buildStore(temp.dir, sessions.map(([id, count]) => [id, count]), rotateEvery ? { rotateEvery } : {});
      const file = segmentFile(temp.dir, 1);
      const last = recordsOf(file).at(-1)!;
      assert.equal(last.kind, rotateEvery ? 'control:seal' : 'message.user');
      flip(file, last.offset + last.length - 1, 0x0a ^ 0x1e);
      const ledger = await openFresh(temp.dir);
      try {
        assert.deepEqual(seqById(ledger), before, 'an event was lost or renumbered');
        const report = await ledger.verify();
        assert.deepEqual(report.problems, []);
        assert.match(report.warnings.join('\n'), new RegExp(`journal segment 1 offset ${last.offset}: its closing LF was damaged; the checksum proved the record whole; nothing lost`));
      } finally {
        ledger.close();
      }
    });
  }

  it('an RS damaged into a record, read in pieces: the scanner waits for its LF instead of splitting it', async () => {
    await buildStore(temp.dir, [['s', 3]]);
    const bytes = fs.readFileSync(segmentFile(temp.dir, 1));
    const [first, second] = recordsOf(segmentFile(temp.dir, 1));
    const at = first!.offset + bytes.toString('latin1', first!.offset, first!.offset + first!.length).indexOf('"hlc":"') + '"hlc":"'.length;
    bytes[at]! ^= 0x30 ^ 0x1e;
    const piece = bytes.subarray(0, first!.offset + first!.length - 5); // the split header is in it, the LF is not
    assert.deepEqual(scanRecords(piece, 0, false), { records: [], consumed: 0 });
    const whole = scanRecords(bytes, 0, true).records;
    assert.deepEqual(
      whole.map((record) => [record.offset, record.length, record.type]),
      recordsOf(segmentFile(temp.dir, 1)).map((record) => [record.offset, record.length, 'record']),
    );
    assert.equal(whole[1]!.offset, second!.offset);
  });

  it('a torn write followed by a whole record: still two slots (the restoring does not swallow a real record)', async () => {
    await buildStore(temp.dir, [['s', 3]]);
    const file = segmentFile(temp.dir, 1);
    const bytes = fs.readFileSync(file);
    const [first, second] = recordsOf(file);
    // The first record cut short, as a writer that died mid-write leaves it; another writer's
    // record follows right after the fragment.
    const torn = Buffer.concat([bytes.subarray(0, first!.offset + 120), bytes.subarray(second!.offset)]);
    const slots = scanRecords(torn, 0, true).records;
    assert.deepEqual(slots.slice(0, 2).map((record) => [record.offset, record.type]), [[0, 'damaged'], [120, 'record']]);
    assert.equal(slots.length, recordsOf(file).length);
  });

  it('(property) one flipped byte anywhere in the journal renumbers nothing and loses at most one event, which verify names', async () => {
    const source = path.join(temp.dir, 'source');
    const before = await buildStore(source, [['a', 30], ['b', 30]], { rotateEvery: 20 });
    const segments = fs.readdirSync(path.join(source, 'journal')).map((name) => Number(name.slice(0, 10)));
    const sizes = segments.map((segment) => fs.statSync(segmentFile(source, segment)).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: total - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const store = path.join(temp.dir, `flip-${at}-${xor}`);
        fs.cpSync(source, store, { recursive: true });
        let segmentIndex = 0;
        let offset = at;
        while (offset >= sizes[segmentIndex]!) {
          offset -= sizes[segmentIndex]!;
          segmentIndex++;
        }
        flip(segmentFile(store, segments[segmentIndex]!), offset, xor);
        const ledger = await openFresh(store);
        try {
          const after = seqById(ledger);
          let lost = 0;
          for (const [id, seq] of before) {
            if (!after.has(id)) {
              lost++;
            } else {
              assert.equal(after.get(id), seq, `event ${id} renumbered after a flip at ${at}`);
            }
          }
          assert.ok(lost <= 1, `${lost} events lost to one flipped byte`);
          const report = await ledger.verify();
          if (lost > 0) {
            assert.equal(report.ok, false, 'an event was lost but verify found no problem');
          }
        } finally {
          ledger.close();
          fs.rmSync(store, { recursive: true, force: true });
        }
      }),
      { numRuns: 150 },
    );
  });
});
