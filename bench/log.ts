// bench/log: the durable log on a 100,000-event store, each figure beside a baseline measured
// in the same run:
//   append latency (one event, acknowledged = durable)  vs  bare write+fdatasync of the same bytes
//   append latency                                      vs  naive "export sql.js after every write"
//   open time with a recent snapshot (fresh process)    vs  open by full journal replay
//   peak memory of each.
// Run: npm run bench:log   (EVENTS=100000 SAMPLES=2000 to change the sizes)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../src/core/fs/durableFile';
import { nodeFileSystem } from '../src/core/fs/fileSystem';
import { Ledger } from '../src/core/ledger';
import { encodeRecord } from '../src/core/log/journalRecord';
import { loadSqlJs } from '../src/core/store/sqlJsLoader';
import { listSnapshots } from '../src/core/store/snapshots';
import { mib, ms, peakRss, percentile } from './stats';

const eventCount = Number(process.env.EVENTS ?? 100_000);
const samples = Number(process.env.SAMPLES ?? 2000);
const naiveSamples = Number(process.env.NAIVE_SAMPLES ?? 30);

function messageText(i: number): string {
  // ~250 bytes of prose per event, close to a short chat turn.
  return `Turn ${i}: the journal is the source of truth; projections are rebuilt from it. ${'lorem ipsum dolor sit amet '.repeat(6)}`;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-bench-'));
  const storeDir = path.join(root, 'store');
  try {
    console.log(`bench/log: ${eventCount} events, ${samples} timed appends, node ${process.version}, ${os.cpus().length} CPUs`);

    // 1. Build the store (group-committed batches).
    const started = performance.now();
    const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 'bench', body: { name: 'bench' } }]);
    const batch = 1000;
    for (let i = 1; i < eventCount; i += batch) {
      const drafts = [];
      for (let j = i; j < Math.min(eventCount, i + batch); j++) {
        drafts.push({ kind: 'message.user', sessionId: 'bench', body: { text: messageText(j) } });
      }
      await ledger.append(drafts);
    }
    const loadMs = performance.now() - started;
    const snapshot = ledger.snapshot();
    const stats = ledger.stats();
    console.log(`store built: ${stats.eventCount} events in ${(loadMs / 1000).toFixed(1)} s (${Math.round(stats.eventCount / (loadMs / 1000))} events/s in batches of ${batch}); journal ${mib(stats.journal.bytes)}; database ${mib(stats.databaseBytes)}`);
    if (snapshot.written) {
      console.log(`snapshot: ${mib(snapshot.bytes)} written in ${ms(snapshot.ms)}`);
    }

    // 2. Append latency vs bare write+fdatasync of the same bytes, interleaved in blocks so
    //    both see the same disk conditions.
    const bareFile = path.join(root, 'bare.log');
    const bareFd = fs.openSync(bareFile, 'a');
    const appendMs: number[] = [];
    const bareMs: number[] = [];
    const block = 100;
    for (let done = 0; done < samples; done += block) {
      for (let k = 0; k < block; k++) {
        const text = messageText(eventCount + done + k);
        const t0 = performance.now();
        await ledger.append([{ kind: 'message.user', sessionId: 'bench', body: { text } }]);
        appendMs.push(performance.now() - t0);
      }
      const sample = encodeRecord(ledger.readSession('bench', { last: 1 })[0]! as never);
      for (let k = 0; k < block; k++) {
        const t0 = performance.now();
        fs.writeSync(bareFd, sample);
        fs.fdatasyncSync(bareFd);
        bareMs.push(performance.now() - t0);
      }
    }
    fs.closeSync(bareFd);
    const appendP50 = percentile(appendMs, 50);
    const bareP50 = percentile(bareMs, 50);
    console.log('');
    console.log('append latency (one event, durable before acknowledged)');
    console.log(`  Context Ledger append     p50 ${ms(appendP50)}   p99 ${ms(percentile(appendMs, 99))}   max ${ms(Math.max(...appendMs))}`);
    console.log(`  bare write+fdatasync      p50 ${ms(bareP50)}   p99 ${ms(percentile(bareMs, 99))}   max ${ms(Math.max(...bareMs))}`);
    console.log(`  ratio p50: ${(appendP50 / bareP50).toFixed(2)}x (target <= 2x)`);

    // 3. The naive alternative: insert the row, then export the whole database durably.
    const sql = await loadSqlJs();
    const newest = listSnapshots(nodeFileSystem, path.join(storeDir, 'snapshots'))[0]!;
    const naiveDb = new sql.Database(fs.readFileSync(path.join(storeDir, 'snapshots', newest.name)));
    const naiveMs: number[] = [];
    const naiveFile = path.join(root, 'naive.sqlite');
    for (let k = 0; k < naiveSamples; k++) {
      const t0 = performance.now();
      naiveDb.run("INSERT INTO events (seq, id, session_id, kind, parent_id, writer_id, hlc, wall_ms, body, segment, offset) VALUES (?, ?, 'bench', 'message.user', NULL, 'w', '', 0, ?, 0, 0)", [10_000_000 + k, `naive-${k}`, messageText(k)]);
      writeFileAtomic(nodeFileSystem, naiveFile, naiveDb.export());
      naiveMs.push(performance.now() - t0);
    }
    naiveDb.close();
    const naiveP50 = percentile(naiveMs, 50);
    console.log(`  naive export-per-write    p50 ${ms(naiveP50)}   p99 ${ms(percentile(naiveMs, 99))}   (${naiveSamples} samples)`);
    console.log(`  naive / Context Ledger p50: ${(naiveP50 / appendP50).toFixed(0)}x slower`);

    // 4. Open time in a fresh process: right after a snapshot (what a clean shutdown leaves),
    //    with a 1,000-event journal tail after the snapshot, and by full replay.
    ledger.snapshot();
    ledger.close();
    const openScript = path.join(__dirname, 'openStore.js');
    const openRuns = (dir: string, runs: number) =>
      Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, [openScript, dir], { encoding: 'utf8' })) as { openMs: number; eventCount: number; tailEvents: number; peakRss: number });
    const median = (runs: Array<{ openMs: number }>) => percentile(runs.map((run) => run.openMs), 50);
    const describe = (label: string, runs: Array<{ openMs: number; peakRss: number; tailEvents: number }>) =>
      console.log(`  ${label.padEnd(34)} median ${ms(median(runs))}   min ${ms(Math.min(...runs.map((run) => run.openMs)))}   peak RSS ${mib(Math.max(...runs.map((run) => run.peakRss)))}`);
    const atSnapshot = openRuns(storeDir, 5);
    const writer = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    for (let i = 0; i < 1000; i += 100) {
      await writer.append(Array.from({ length: 100 }, (_, k) => ({ kind: 'message.user', sessionId: 'bench', body: { text: messageText(i + k) } })));
    }
    writer.close();
    const withTail = openRuns(storeDir, 5);
    const replayDir = path.join(root, 'replay');
    fs.cpSync(storeDir, replayDir, { recursive: true });
    fs.rmSync(path.join(replayDir, 'snapshots'), { recursive: true });
    const fullReplay = openRuns(replayDir, 3);
    console.log('');
    console.log(`open (fresh process, includes loading sql.js), ${withTail[0]!.eventCount} events; target <= 250 ms with a recent snapshot`);
    describe('snapshot, no tail', atSnapshot);
    describe(`snapshot + ${withTail[0]!.tailEvents}-event tail`, withTail);
    describe('full journal replay (no snapshot)', fullReplay);
    console.log('');
    console.log(`peak RSS of this benchmark process: ${mib(peakRss())}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

void main();
