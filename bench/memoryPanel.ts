// The memory panel's paging on a 50,000-event session: time to the first page (overview + one
// page of rows, as the panel asks when it opens), a page deep in the session, and a scroll
// through 50 pages, beside the baseline of reading the whole session to draw it (what a panel
// without paging would do). Run: npm run bench:memory.
import * as path from 'node:path';
import { CachedTokenCounter } from '../src/core/context/tokenCounts';
import { Ledger } from '../src/core/ledger';
import type { EventDraft } from '../src/core/log/events';
import { SessionTimeline } from '../src/core/memory/sessionTimeline';
import { timelineRow } from '../src/core/memory/timelineRows';
import { makeTempDir } from '../test/fixtures/tempDir';
import { mib, ms, percentile, peakRss } from './stats';

const eventCount = Number(process.env.MEMORY_BENCH_EVENTS ?? 50_000);

function time<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const temp = makeTempDir('context-ledger-bench-memory-');
  try {
    const storeDir = path.join(temp.dir, 'store');
    const writer = await Ledger.open({ storeDir, snapshotEveryEvents: 0 });
    const drafts: EventDraft[] = [{ kind: 'session.started', sessionId: 'long', body: { name: 'Long session' } }];
    for (let i = 1; drafts.length < eventCount; i++) {
      drafts.push({ kind: 'message.user', sessionId: 'long', body: { text: `Question ${i}: what does step${i} of the build do, and which file holds it?` } });
      if (drafts.length < eventCount) {
        drafts.push({ kind: 'message.assistant', sessionId: 'long', body: { text: `Step ${i} compiles module_${i} into dist/part${i}.js; see src/build/step${i}.ts for the ${i * 7} options it reads.` } });
      }
    }
    for (let from = 0; from < drafts.length; from += 5000) {
      await writer.append(drafts.slice(from, from + 5000));
    }
    writer.snapshot();
    writer.close();

    // Fresh engines for each figure, so no cache carries over.
    const open = () => Ledger.open({ storeDir });
    const paged = await open();
    const timeline = new SessionTimeline(paged, new CachedTokenCounter());
    const first = time(() => {
      const overview = timeline.overview('long');
      return { overview, rows: timeline.page('long', overview.pageStarts[0]!).rows.length };
    });
    const overview = first.value.overview;
    const deep = time(() => timeline.page('long', overview.pageStarts[Math.floor(overview.pageStarts.length * 0.7)]!).rows.length);
    const scroll: number[] = [];
    for (let page = 0; page < Math.min(50, overview.pageStarts.length); page++) {
      scroll.push(time(() => timeline.page('long', overview.pageStarts[page * 3 % overview.pageStarts.length]!)).ms);
    }
    paged.close();

    const whole = await open();
    const counter = new CachedTokenCounter();
    const baseline = time(() => whole.readSession('long').map((event, index) => timelineRow(event, index, 0, counter, new Map())).length);
    whole.close();

    console.log(`memory panel paging, a session of ${eventCount.toLocaleString('en-US')} events (${overview.pageStarts.length} pages of ${overview.pageSize})`);
    console.log(`  time to first page (overview + ${first.value.rows} rows)   ${ms(first.ms)}`);
    console.log(`  a page at 70%                              ${ms(deep.ms)} (${deep.value} rows)`);
    console.log(`  50 pages while scrolling                   p50 ${ms(percentile(scroll, 50))}, p95 ${ms(percentile(scroll, 95))}`);
    console.log(`  baseline: read every event and make rows   ${ms(baseline.ms)} (${baseline.value} rows)`);
    console.log(`  peak RSS                                   ${mib(peakRss())}`);
  } finally {
    temp.remove();
  }
}

void main();
