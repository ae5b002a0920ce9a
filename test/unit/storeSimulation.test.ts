import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { encodeRecord, scanRecords, sealRecord } from '../../src/core/log/journalRecord';
import { Rng, SimulatedDisk } from '../fixtures/simulatedFileSystem';
import { runSimulation, SimulationFailure } from '../fixtures/storeSimulation';

// Issue 10: thousands of seeded runs of the store over a simulated disk (crashes at any call,
// torn writes, flipped bits, ENOSPC/EIO, lost fsyncs), the invariants checked after every step:
// (a) every acknowledged event is there with its seq and text, unless a flip hit its record;
// (b) every two processes agree on the (seq, id) order of what both hold; (c) no event is stored
// twice; (d) an acknowledged event a fresh reader lacks is named by verify (segment and offset),
// and so is every flip; (e) with no damage and no lost fsync, verify is clean at the end.
// A lost fsync weakens (a): what was acknowledged after it (until the next machine crash) may
// be gone or renumbered after that crash; nothing acknowledged before it, and (b)-(d) still hold.
// SIM_SEEDS sets how many seeds, SIM_STEPS how many steps each, SIM_FIRST the first seed;
// SIM_SEED=<n> replays one seed with its step-by-step log. A seed replays the same steps.

const replay = process.env.SIM_SEED;
const seeds = Number(process.env.SIM_SEEDS ?? 1000);
const steps = Number(process.env.SIM_STEPS ?? 20);
const first = Number(process.env.SIM_FIRST ?? 1);

function replayCommand(seed: number): string {
  return `SIM_SEED=${seed}${process.env.SIM_STEPS ? ` SIM_STEPS=${steps}` : ''} node --test out/test/unit/storeSimulation.test.js`;
}

describe('what the simulation found', () => {
  it('seed 19: damage in two neighbouring records (a body, then the next header) still leaves two slots', () => {
    const event = { formatVersion: 1, id: 'e1', kind: 'message.user', sessionId: 's', parentId: null, writerId: 'w', hlc: 'h', wallMs: 0, body: { text: 'hello' } } as const;
    const bytes = Buffer.concat([encodeRecord(event), encodeRecord(sealRecord(2)), encodeRecord({ ...event, id: 'e2' })]);
    const second = encodeRecord(event).length;
    bytes[20]! ^= 0x08; // inside the first record's JSON: a checksum mismatch
    bytes[second + 9]! ^= 0x08; // the space after the seal's checksum: its header is damaged
    const slots = scanRecords(bytes, 0, true).records;
    // Still three slots; the seal's checksum covers only its JSON, so the damaged space costs nothing.
    assert.deepEqual(slots.map((slot) => [slot.type, slot.offset]), [['damaged', 0], ['record', second], ['record', second + encodeRecord(sealRecord(2)).length]]);
    assert.match(slots[1]?.type === 'record' ? (slots[1].repaired ?? '') : '', /header's space was damaged/);
  });


  it('seed 995: a Ledger whose disk fails closes all the same (its database and descriptors too)', async () => {
    const disk = new SimulatedDisk(new Rng(1));
    const view = disk.view('writer', () => undefined);
    const ledger = await Ledger.open({ storeDir: '/store', fs: view, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
    ledger.readSession('s');
    view.die('process'); // every call fails from now on, as on a disk gone bad
    assert.doesNotThrow(() => ledger.close());
    assert.throws(() => ledger.listSessions(), /closed/i, 'the database was left open');
  });


  it('seed 279: verify names an unfinished record that ends the journal (a torn write, or a seal hit at its LF)', async () => {
    const disk = new SimulatedDisk(new Rng(1));
    const writer = await Ledger.open({ storeDir: '/store', fs: disk.view('writer', () => undefined), snapshotEveryEvents: 0 });
    await writer.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
    const end = writer.stats().journal.position.offset;
    writer.close();
    const tearer = disk.view('tearer', () => undefined);
    const fd = tearer.openSync('/store/journal/0000000001.log', 'a');
    tearer.writeSync(fd, encodeRecord(sealRecord(2)).subarray(0, 30)); // no LF: unfinished
    const reader = await Ledger.open({ storeDir: '/store', fs: disk.view('reader', () => undefined), readOnly: true });
    try {
      const report = await reader.verify();
      assert.equal(report.ok, true, report.problems.join('\n'));
      assert.match(report.warnings.join('\n'), new RegExp(`journal segment 1 offset ${end}: 30 bytes of an unfinished record`));
    } finally {
      reader.close();
    }
  });


  it('seed 715: an event acknowledged after a seal whose fdatasync failed does not count a seal a power cut can take', async () => {
    const disk = new SimulatedDisk(new Rng(1));
    const view = disk.view('writer', () => undefined);
    const ledger = await Ledger.open({ storeDir: '/store', fs: view, snapshotEveryEvents: 0 });
    try {
      await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
      view.arm('fsync-EIO', 2); // rotate: the new segment's folder fsync, then the seal's fdatasync
      assert.throws(() => ledger.rotate(), /fdatasync failed/);
      ledger.catchUp(); // it reads its own seal back and moves on to segment 2
      const [verdict] = await ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'after the seal' } }]);
      assert.deepEqual([verdict?.status, verdict && 'seq' in verdict ? verdict.seq : 0], ['appended', 3]);
      const segment1 = disk.lookup('/store/journal/0000000001.log')!.ino;
      assert.ok(disk.durableBytes(segment1).subarray(-encodeRecord(sealRecord(2)).length).equals(encodeRecord(sealRecord(2))), 'seq 3 counts a seal that is not durable');
    } finally {
      ledger.close();
    }
  });

  it('seed 1891: a snapshot never covers journal bytes a power cut can take (the store would not open)', async () => {
    const disk = new SimulatedDisk(new Rng(1));
    const view = disk.view('writer', () => undefined);
    const ledger = await Ledger.open({ storeDir: '/store', fs: view, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
    view.arm('fsync-EIO', 1);
    await assert.rejects(ledger.append([{ kind: 'message.user', sessionId: 's', body: { text: 'written, not synced' } }]), /fdatasync failed/);
    ledger.catchUp(); // the record is readable in the page cache, so it is applied
    assert.equal(ledger.snapshot().written, true);
    // Another writer's open fsyncs the store folder, which makes snapshots/ itself durable.
    (await Ledger.open({ storeDir: '/store', fs: disk.view('other', () => undefined), snapshotEveryEvents: 0 })).close();
    disk.crash();
    ledger.close();
    const reopened = await Ledger.open({ storeDir: '/store', fs: disk.view('after', () => undefined), snapshotEveryEvents: 0 });
    reopened.close();
  });


  it('seed 3878: a seal hit at its LF and one more byte, with later segments in use, does not stop a reader there', async () => {
    const disk = new SimulatedDisk(new Rng(1));
    const writer = await Ledger.open({ storeDir: '/store', fs: disk.view('writer', () => undefined), snapshotEveryEvents: 0 });
    await writer.append([{ kind: 'session.started', sessionId: 's', body: { name: 's' } }]);
    const sealAt = writer.stats().journal.position.offset;
    writer.rotate();
    await writer.append([{ kind: 'message.user', sessionId: 's', body: { text: 'in segment 2' }, id: 'later' }]);
    writer.close();
    const segment1 = disk.lookup('/store/journal/0000000001.log')!.ino;
    const sealLength = encodeRecord(sealRecord(2)).length;
    disk.flipBit(segment1, sealAt + sealLength - 1, 4); // its LF
    disk.flipBit(segment1, sealAt + sealLength - 2, 6); // and the byte before
    const reader = await Ledger.open({ storeDir: '/store', fs: disk.view('reader', () => undefined), readOnly: true });
    try {
      assert.deepEqual([...reader.allEvents()].map((event) => [event.id, event.seq]).at(-1), ['later', 3]);
    } finally {
      reader.close();
    }
  });
});

describe('store simulation (seeded)', () => {
  if (replay !== undefined) {
    it(`replays seed ${replay}`, async () => {
      const result = await runSimulation(Number(replay), steps, (line) => console.log(line));
      console.log(JSON.stringify(result));
    });
    return;
  }

  it(`keeps every invariant over ${seeds} seeds of ${steps} steps`, { timeout: 15 * 60_000 }, async () => {
    const started = performance.now();
    let acked = 0;
    let crashes = 0;
    let faults = 0;
    for (let seed = first; seed < first + seeds; seed++) {
      try {
        const result = await runSimulation(seed, steps);
        acked += result.acked;
        crashes += result.machineCrashes;
        faults += result.faults;
      } catch (error) {
        if (error instanceof SimulationFailure) {
          assert.fail(`${error.message}\nreplay: ${replayCommand(seed)}`);
        }
        throw error;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`${seeds} seeds in ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} seeds/s): ${acked} events acknowledged, ${crashes} machine crashes, ${faults} faults armed, ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB resident`);
  });
});
