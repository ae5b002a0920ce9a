// `npm run eval:facts`: generated histories of facts updated in order and concurrently by three
// writers (two windows and the CLI) on one real store, scored against what was written.
//   ordered: a chain of updates, each writer seeing the one before (random writers, lengths);
//            correct when the current value is the last one written and the history holds the
//            earlier values in order, each ended as superseded.
//   concurrent: two or three writers write a key having seen the same version (neither saw
//            the other), sometimes after an ordered prefix; surfaced when every value is kept
//            as a conflict. Then the user merges, and a later update must be ordered again.
// The same concurrent histories under last-writer-wins are scored too: one value stays, and
// every value it replaced is recorded as overwritten. Seed with EVAL_SEED, size with EVAL_HISTORIES.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FactsStore } from '../src/core/facts/factsStore';
import { Ledger } from '../src/core/ledger';
import { Rng } from '../test/fixtures/storeSimulationRng';

/** A seeded uniform source in [0, 1): the store simulation's generator. */
function rng(seed: number): () => number {
  const source = new Rng(seed);
  return () => source.next();
}

async function main(): Promise<void> {
  const seed = Number(process.env.EVAL_SEED ?? 14);
  const histories = Number(process.env.EVAL_HISTORIES ?? 200);
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facts-eval-'));
  const ledgers = await Promise.all(['vscode-1', 'vscode-2', 'cli-1'].map((writerId) => Ledger.open({ storeDir: dir, writerId, snapshotEveryEvents: 0 })));
  const surface = ledgers.map((ledger) => new FactsStore(ledger));
  const lww = ledgers.map((ledger) => new FactsStore(ledger, { conflictPolicy: () => 'lastWriterWins' }));
  const started = performance.now();
  try {
    await surface[0]!.add({ key: 'eval.seed', value: 'x' });
    let orderedRight = 0;
    let ordered = 0;
    let concurrentSurfaced = 0;
    let concurrent = 0;
    let afterMergeRight = 0;
    let lwwRecorded = 0;
    let lwwCases = 0;
    let writes = 0;
    for (let history = 0; history < histories; history++) {
      // Ordered updates.
      {
        const key = `ordered.${history}`;
        const values: string[] = [];
        const length = 2 + Math.floor(random() * 9);
        for (let step = 0; step < length; step++) {
          const value = `v${step}-${Math.floor(random() * 1e6)}`;
          await pick(surface).add({ key, value });
          values.push(value);
          writes++;
        }
        const fact = surface[0]!.get(key)!;
        const past = surface[1]!.queries.history(key);
        const right =
          fact.state === 'active' &&
          fact.heads.length === 1 &&
          fact.heads[0]!.value === values.at(-1) &&
          past.length === values.length - 1 &&
          past.every((entry, index) => entry.value === values[index] && entry.ended === 'superseded');
        ordered++;
        orderedRight += right ? 1 : 0;
      }
      // Concurrent writes, after an ordered prefix or on a new key.
      for (const policy of ['surface', 'lastWriterWins'] as const) {
        const stores = policy === 'surface' ? surface : lww;
        const key = `concurrent.${policy}.${history}`;
        const prefix = Math.floor(random() * 3);
        for (let step = 0; step < prefix; step++) {
          await pick(stores).add({ key, value: `p${step}` });
          writes++;
        }
        const width = 2 + Math.floor(random() * 2);
        const values = Array.from({ length: width }, (_, index) => `c${index}-${Math.floor(random() * 1e6)}`);
        // Each writer reads the same version, then all write before any sees another's write.
        // Writers are drawn at random: two sessions of one window write concurrently too.
        await Promise.all(values.map((value) => pick(stores).add({ key, value })));
        writes += width;
        const fact = surface[2]!.get(key)!;
        if (policy === 'surface') {
          concurrent++;
          const kept = fact.heads.map((head) => head.value).sort();
          const surfaced = fact.state === 'conflicted' && JSON.stringify(kept) === JSON.stringify([...values].sort());
          concurrentSurfaced += surfaced ? 1 : 0;
          // The user merges from what they saw; an update after it is ordered again.
          const chosen = Math.floor(random() * width) + 1;
          await pick(surface).merge(key, { pick: chosen }, fact.vector);
          await pick(surface).add({ key, value: 'after-merge' });
          writes += 2;
          const after = surface[0]!.get(key)!;
          afterMergeRight += after.state === 'active' && after.heads[0]!.value === 'after-merge' ? 1 : 0;
        } else {
          lwwCases++;
          const past = surface[0]!.queries.history(key);
          const overwritten = past.filter((entry) => entry.ended === 'overwritten').map((entry) => entry.value);
          const keptOne = fact.state === 'active' && fact.heads.length === 1 && values.includes(fact.heads[0]!.value!);
          const rest = values.filter((value) => value !== fact.heads[0]?.value);
          lwwRecorded += keptOne && rest.every((value) => overwritten.includes(value)) ? 1 : 0;
        }
      }
    }
    const percent = (part: number, whole: number): string => `${whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10}%`;
    const seconds = (performance.now() - started) / 1000;
    console.log(`facts eval: seed ${seed}, ${histories} histories per kind, ${writes} writes by 3 writers on one store in ${seconds.toFixed(1)} s`);
    console.log(`merge then update is ordered again: ${percent(afterMergeRight, concurrent)}`);
    console.log(`lastWriterWins keeps one value and records the overwritten ones: ${percent(lwwRecorded, lwwCases)}`);
    console.log(`ordered updates correct: ${percent(orderedRight, ordered)}`);
    console.log(`concurrent conflicts surfaced: ${percent(concurrentSurfaced, concurrent)}`);
    process.exitCode = orderedRight === ordered && concurrentSurfaced === concurrent ? 0 : 1;
  } finally {
    ledgers.forEach((ledger) => ledger.close());
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
