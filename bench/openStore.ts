// Opens a store in a fresh process and prints JSON: open time, events, peak memory.
// Used by bench/log.ts so the open figure includes loading sql.js, as a real start does.
import { Ledger } from '../src/core/ledger';
import { peakRss } from './stats';

async function main(): Promise<void> {
  const started = performance.now();
  const ledger = await Ledger.open({ storeDir: process.argv[2]!, snapshotEveryEvents: 0 });
  const openMs = performance.now() - started;
  const stats = ledger.stats();
  ledger.close();
  process.stdout.write(JSON.stringify({ openMs, eventCount: stats.eventCount, tailEvents: stats.snapshot?.eventsSince ?? stats.eventCount, peakRss: peakRss() }) + '\n');
}

void main();
