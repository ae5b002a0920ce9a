// bench/log: the durable log at two store sizes (100,000 and 1,000,000 events by default), each
// figure beside a baseline measured in the same run:
//   append latency (one event, acknowledged = durable)  vs  bare write+fdatasync of the same bytes
//   append latency                                      vs  naive "export sql.js after every write"
//   open time with a recent snapshot (fresh process)    vs  open by full journal replay
//   snapshot size and time; peak memory of the opening engine process.
// Run: npm run bench:log   (EVENTS=100000,1000000 SAMPLES=2000 REPLAY_RUNS=1 to change the sizes)
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

const sizes = (process.env.EVENTS ?? '100000,1000000').split(',').map(Number);
const samples = Number(process.env.SAMPLES ?? 2000);
const naiveSamples = Number(process.env.NAIVE_SAMPLES ?? 20);
const replayRuns = Number(process.env.REPLAY_RUNS ?? 1);

interface OpenRun {
  readonly openMs: number;
  readonly eventCount: number;
  readonly tailEvents: number;
  readonly peakRss: number;
}

interface Figures {
  readonly events: number;
  readonly buildS: number;
  readonly journalBytes: number;
  readonly databaseBytes: number;
  readonly snapshotBytes: number;
  readonly snapshotMs: number;
  readonly appendP50: number;
  readonly appendP99: number;
  readonly bareP50: number;
  readonly bareP99: number;
  readonly naiveP50: number;
  readonly openAtSnapshot: readonly OpenRun[];
  readonly openWithTail: readonly OpenRun[];
  readonly openReplay: readonly OpenRun[];
}

function messageText(i: number): string {
  // ~250 bytes of prose per event, close to a short chat turn.
  return `Turn ${i}: the journal is the source of truth; projections are rebuilt from it. ${'lorem ipsum dolor sit amet '.repeat(6)}`;
}

const openScript = path.join(__dirname, 'openStore.js');
function openRuns(dir: string, runs: number): OpenRun[] {
  return Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, [openScript, dir], { encoding: 'utf8', maxBuffer: 1 << 20 })) as OpenRun);
}
const median = (runs: readonly OpenRun[]): number => percentile(runs.map((run) => run.openMs), 50);
const maxRss = (runs: readonly OpenRun[]): number => Math.max(...runs.map((run) => run.peakRss));

async function measure(root: string, eventCount: number): Promise<Figures> {
  const storeDir = path.join(root, `store-${eventCount}`);
  console.log(`\n--- ${eventCount.toLocaleString('en-US')} events ---`);
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
  const buildS = (performance.now() - started) / 1000;
  const snapshot = ledger.snapshot();
  const stats = ledger.stats();
  console.log(`store built in ${buildS.toFixed(1)} s (${Math.round(stats.eventCount / buildS)} events/s in batches of ${batch}); journal ${mib(stats.journal.bytes)}; database ${mib(stats.databaseBytes)}`);

  // 2. Append latency vs bare write+fdatasync of the same bytes, interleaved in blocks so both
  //    see the same disk conditions.
  const bareFd = fs.openSync(path.join(root, `bare-${eventCount}.log`), 'a');
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

  // 3. The naive alternative: insert the row, then export the whole database durably.
  const sql = await loadSqlJs();
  const newest = listSnapshots(nodeFileSystem, path.join(storeDir, 'snapshots'))[0]!;
  const naiveDb = new sql.Database(fs.readFileSync(path.join(storeDir, 'snapshots', newest.name)));
  const naiveMs: number[] = [];
  const naiveFile = path.join(root, 'naive.sqlite');
  for (let k = 0; k < naiveSamples; k++) {
    const t0 = performance.now();
    naiveDb.run('INSERT INTO events (seq, id, stream, kind, segment, offset, length) VALUES (?, ?, 1, 1, 0, 0, 0)', [100_000_000 + k, `naive-${k}`]);
    writeFileAtomic(nodeFileSystem, naiveFile, naiveDb.export());
    naiveMs.push(performance.now() - t0);
  }
  naiveDb.close();

  // 4. Open time in a fresh process: right after a snapshot (what a clean shutdown leaves),
  //    with a 1,000-event journal tail after the snapshot, and by full replay.
  ledger.snapshot();
  ledger.close();
  const openAtSnapshot = openRuns(storeDir, 5);
  const writer = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
  for (let i = 0; i < 1000; i += 100) {
    await writer.append(Array.from({ length: 100 }, (_, k) => ({ kind: 'message.user', sessionId: 'bench', body: { text: messageText(i + k) } })));
  }
  writer.close();
  const openWithTail = openRuns(storeDir, 5);
  const replayDir = path.join(root, `replay-${eventCount}`);
  fs.cpSync(storeDir, replayDir, { recursive: true });
  fs.rmSync(path.join(replayDir, 'snapshots'), { recursive: true });
  const openReplay = openRuns(replayDir, replayRuns);
  fs.rmSync(replayDir, { recursive: true, force: true });
  fs.rmSync(storeDir, { recursive: true, force: true });
  const figures: Figures = {
    events: eventCount,
    buildS,
    journalBytes: stats.journal.bytes,
    databaseBytes: stats.databaseBytes,
    snapshotBytes: snapshot.written ? snapshot.bytes : 0,
    snapshotMs: snapshot.written ? snapshot.ms : 0,
    appendP50: percentile(appendMs, 50),
    appendP99: percentile(appendMs, 99),
    bareP50: percentile(bareMs, 50),
    bareP99: percentile(bareMs, 99),
    naiveP50: percentile(naiveMs, 50),
    openAtSnapshot,
    openWithTail,
    openReplay,
  };
  print(figures);
  return figures;
}

function print(f: Figures): void {
  console.log(`append (one event, durable before acknowledged)  p50 ${ms(f.appendP50)}   p99 ${ms(f.appendP99)}`);
  console.log(`bare write+fdatasync of the same bytes           p50 ${ms(f.bareP50)}   p99 ${ms(f.bareP99)}   ratio p50 ${(f.appendP50 / f.bareP50).toFixed(2)}x (target <= 2x)`);
  console.log(`naive: insert + export the database per write    p50 ${ms(f.naiveP50)}   (${(f.naiveP50 / f.appendP50).toFixed(0)}x slower)`);
  console.log(`snapshot ${mib(f.snapshotBytes)} written in ${ms(f.snapshotMs)}`);
  console.log(`open at a snapshot (fresh process, sql.js load included)  median ${ms(median(f.openAtSnapshot))}   peak RSS ${mib(maxRss(f.openAtSnapshot))}   (targets <= 250 ms, <= 250 MB)`);
  console.log(`open at a snapshot + ${f.openWithTail[0]!.tailEvents}-event tail                    median ${ms(median(f.openWithTail))}   peak RSS ${mib(maxRss(f.openWithTail))}`);
  console.log(`open by full journal replay                                median ${ms(median(f.openReplay))}   peak RSS ${mib(maxRss(f.openReplay))}`);
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-bench-'));
  try {
    console.log(`bench/log: sizes ${sizes.join(', ')}, ${samples} timed appends each, node ${process.version}, ${os.cpus().length} CPUs`);
    const all: Figures[] = [];
    for (const size of sizes) {
      all.push(await measure(root, size));
    }
    console.log('\nsummary');
    const row = (label: string, value: (f: Figures) => string) => console.log(`  ${label.padEnd(34)}${all.map((f) => value(f).padStart(16)).join('')}`);
    row('events', (f) => f.events.toLocaleString('en-US'));
    row('journal', (f) => mib(f.journalBytes));
    row('database in memory', (f) => mib(f.databaseBytes));
    row('snapshot size', (f) => mib(f.snapshotBytes));
    row('snapshot time', (f) => ms(f.snapshotMs));
    row('append p50', (f) => ms(f.appendP50));
    row('bare write+fdatasync p50', (f) => ms(f.bareP50));
    row('append / bare', (f) => `${(f.appendP50 / f.bareP50).toFixed(2)}x`);
    row('open at snapshot (median)', (f) => ms(median(f.openAtSnapshot)));
    row('engine peak RSS at snapshot open', (f) => mib(maxRss(f.openAtSnapshot)));
    row('open with 1,000-event tail', (f) => ms(median(f.openWithTail)));
    row('open by full replay', (f) => ms(median(f.openReplay)));
    row('replay peak RSS', (f) => mib(maxRss(f.openReplay)));
    console.log(`\npeak RSS of this benchmark process: ${mib(peakRss())}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

void main();
