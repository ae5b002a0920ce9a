// bench/context: context assembly on a 100,000-event session in a real store, each figure beside
// a baseline measured in the same run:
//   assembly for a 200,000-token budget, warm p50/p99, per window kind, through ContextIndex
//       vs  reading the same events from the store (readSession over the ranges assembly reads)
//       vs  reading the whole session (what assembly without the index needs first)
//   the index's cold catch-up and its memory; assembly right after a new turn
//   the pure function on the whole session already in memory
//   estimator throughput (MB/s)  vs  @anthropic-ai/tokenizer's
//   estimator error              vs  chars/4, both against @anthropic-ai/tokenizer
// Run: npm run bench:context   (EVENTS=100000 RUNS=200 to change the sizes)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { assembleContext, type ContextOptions } from '../src/core/context/assembleContext';
import { ContextIndex } from '../src/core/context/contextIndex';
import type { WindowSpec } from '../src/core/context/contextTypes';
import { CachedTokenCounter } from '../src/core/context/tokenCounts';
import { estimateTextTokens } from '../src/core/context/tokenEstimator';
import { describeWindow } from '../src/core/context/windows';
import { Ledger } from '../src/core/ledger';
import type { EventDraft } from '../src/core/log/events';
import { measureEstimator, typeScriptFiles } from '../test/fixtures/estimatorError';
import { mib, ms, peakRss, percentile, seededRandom } from './stats';

const eventCount = Number(process.env.EVENTS ?? 100_000);
const runs = Number(process.env.RUNS ?? 200);
const budgetTokens = 200_000;
const sessionId = 'bench';
const root = path.resolve(__dirname, '..', '..');


// The session's text comes from this repository: prose lines from its Markdown and comments,
// code from its sources, so the estimator sees what a coding chat holds.
const codeFiles = [...typeScriptFiles(path.join(root, 'src')), ...typeScriptFiles(path.join(root, 'test'))].map((file) => fs.readFileSync(file, 'utf8'));
const codeLines = codeFiles.flatMap((source) => source.split('\n')).filter((line) => line.trim().length > 0);
const proseLines = [
  ...['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md'].flatMap((file) => (fs.existsSync(path.join(root, file)) ? fs.readFileSync(path.join(root, file), 'utf8').split('\n') : [])),
  ...codeLines.flatMap((line) => {
    const match = /^\s*(?:\/\/+|\*)\s?(.{30,})$/.exec(line);
    return match ? [match[1]!] : [];
  }),
].filter((line) => line.trim().length > 20);

function buildDrafts(count: number): EventDraft[] {
  const next = seededRandom(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const prose = (lines: number): string => Array.from({ length: lines }, () => pick(proseLines)).join(' ');
  const code = (lines: number): string => {
    const start = Math.floor(next() * (codeLines.length - lines));
    return codeLines.slice(start, start + lines).join('\n');
  };
  const drafts: EventDraft[] = [{ kind: 'session.started', sessionId, body: { name: 'bench' } }];
  let turn = 0;
  let tool = 0;
  const userIds: string[] = [];
  while (drafts.length < count) {
    turn++;
    const userId = `u${turn}`;
    userIds.push(userId);
    drafts.push({ kind: 'message.user', sessionId, id: userId, body: { text: prose(1 + Math.floor(next() * 3)) } });
    if (turn % 4 === 0) {
      const toolUseId = `toolu_${tool++}`;
      drafts.push({ kind: 'message.assistant', sessionId, body: { text: prose(1) } });
      drafts.push({ kind: 'tool.use', sessionId, body: { toolUseId, name: 'readFile', input: { path: `src/file${tool}.ts` } } });
      drafts.push({ kind: 'tool.result', sessionId, body: { toolUseId, content: code(20 + Math.floor(next() * 60)) } });
    }
    drafts.push({ kind: 'message.assistant', sessionId, body: { text: `${prose(2 + Math.floor(next() * 4))}\n\n\`\`\`ts\n${code(5 + Math.floor(next() * 20))}\n\`\`\`` } });
    if (turn % 500 === 0) {
      drafts.push({ kind: 'topic.boundary', sessionId, body: {} });
    }
    if (turn % 3000 === 0) {
      drafts.push({ kind: 'context.pinned', sessionId, body: { eventId: pick(userIds) } });
    }
  }
  return drafts.slice(0, count);
}

function stats(samples: readonly number[]): string {
  return `p50 ${ms(percentile(samples, 50)).padStart(9)}   p99 ${ms(percentile(samples, 99)).padStart(9)}`;
}

function time<T>(run: () => T): [T, number] {
  const started = performance.now();
  const result = run();
  return [result, performance.now() - started];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-bench-context-'));
  try {
    console.log(`bench/context: ${eventCount} events in one session, budget ${budgetTokens} tokens, ${runs} warm runs, node ${process.version}, ${os.cpus().length} CPUs`);

    // 1. The store, built by appends in batches.
    const drafts = buildDrafts(eventCount);
    const ledger = await Ledger.open({ storeDir: path.join(dir, 'store'), snapshotEveryEvents: 0 });
    const [, buildMs] = await (async (): Promise<[void, number]> => {
      const started = performance.now();
      for (let i = 0; i < drafts.length; i += 1000) {
        await ledger.append(drafts.slice(i, i + 1000));
      }
      return [undefined, performance.now() - started];
    })();
    const sessionChars = drafts.reduce((sum, draft) => sum + JSON.stringify(draft.body).length, 0);
    console.log(`store built in ${(buildMs / 1000).toFixed(1)} s: ${ledger.stats().eventCount} events, ${mib(sessionChars)} of event bodies`);

    // 2. Reading the whole session: the baseline, and what the pure function needs first.
    const readAll: number[] = [];
    let sessionEvents = 0;
    for (let i = 0; i < 3; i++) {
      const [events, took] = time(() => ledger.readSession(sessionId));
      sessionEvents = events.length;
      readAll.push(took);
    }
    console.log(`read the whole session (${sessionEvents} events)        ${stats(readAll)}`);

    // 3. The index: cold (reads every event once), then warm.
    const counter = new CachedTokenCounter();
    const index = new ContextIndex(ledger, counter);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const [, coldMs] = time(() => index.catchUp(sessionId));
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    console.log(`context index, cold catch-up of ${index.digestCount(sessionId)} digests: ${ms(coldMs)}; heap +${mib(Math.max(0, heapAfter - heapBefore))}${global.gc ? '' : ' (run node --expose-gc for a settled figure)'}`);

    const systemPrompt = "You are a coding assistant inside the user's VS Code workspace. Answer concisely and use Markdown, with fenced code blocks for code.";
    const promptText = 'What should I change next in the journal code?';
    const nowMs = Date.now();
    const windows: WindowSpec[] = [
      { kind: 'full' },
      { kind: 'sliding', turns: 50 },
      { kind: 'sliding', tokens: 100_000 },
      { kind: 'tumbling', blockTurns: 100 },
      { kind: 'session', idleGapMinutes: 30, detectShift: true },
    ];
    console.log('');
    console.log(`assembly, warm (index: plan on digests + read the units that go in + build), budget ${budgetTokens}; target p50 <= 20 ms`);
    for (const window of windows) {
      const options: Omit<ContextOptions, 'counter'> = { window, budgetTokens, systemPrompt, promptText, nowMs };
      const total: number[] = [];
      const plan: number[] = [];
      const read: number[] = [];
      const build: number[] = [];
      let last = index.assemble(sessionId, options);
      for (let i = 0; i < runs; i++) {
        const [assembled, took] = time(() => index.assemble(sessionId, options));
        last = assembled;
        total.push(took);
        plan.push(assembled.timings.planMs);
        read.push(assembled.timings.readMs);
        build.push(assembled.timings.buildMs);
      }
      // Baseline: just reading the same seq ranges from the store.
      const ranges = last.timings.readRanges;
      const readOnly: number[] = [];
      for (let i = 0; i < runs; i++) {
        readOnly.push(time(() => ranges.reduce((count, range) => count + ledger.readSession(sessionId, range).length, 0))[1]);
      }
      const receipt = last.receipt;
      console.log(`  ${describeWindow(window)}: ${receipt.parts.length - 2} units in, ${last.timings.readEvents} events read, ${receipt.totalTokens} tokens`);
      console.log(`    assemble (index)                  ${stats(total)}   [plan ${ms(percentile(plan, 50))}, read ${ms(percentile(read, 50))}, build ${ms(percentile(build, 50))}]`);
      console.log(`    read the same events only         ${stats(readOnly)}   (${ranges.length} seq ranges)`);
    }

    // 4. The usual case: a turn was logged since the last request, and exact counts of the turn
    //    before it arrived from count_tokens; the index reads and re-sums only those.
    const afterAppend: number[] = [];
    for (let i = 0; i < 50; i++) {
      const verdicts = await ledger.append([
        { kind: 'message.user', sessionId, body: { text: `new question ${i}` } },
        { kind: 'message.assistant', sessionId, body: { text: `new answer ${i}` } },
      ]);
      afterAppend.push(time(() => index.assemble(sessionId, { window: { kind: 'full' }, budgetTokens, systemPrompt, promptText, nowMs }))[1]);
      for (const verdict of verdicts) {
        counter.setExact(verdict.id, 5);
      }
    }
    console.log(`  full buffer, a new turn and exact counts of the previous one before each run   ${stats(afterAppend)}`);

    // 5. Without the index: the pure function on the whole session in memory (read once).
    const allEvents = ledger.readSession(sessionId);
    console.log('');
    console.log(`the pure assembleContext on all ${allEvents.length} events in memory (no index; reading them is the baseline above)`);
    for (const window of [windows[0]!, windows[1]!]) {
      const pure: number[] = [];
      for (let i = 0; i < 10; i++) {
        pure.push(time(() => assembleContext(allEvents, { window, budgetTokens, systemPrompt, promptText, nowMs, counter }))[1]);
      }
      console.log(`  ${describeWindow(window).padEnd(34)} ${stats(pure)}`);
    }

    // 5. The estimator: throughput and error against the tokenizer, beside chars/4.
    console.log('');
    const tokenizer = getTokenizer();
    try {
      const count = (text: string): number => tokenizer.encode(text.normalize('NFKC'), 'all').length;
      const texts = drafts.flatMap((draft) => {
        switch (draft.kind) {
          case 'message.user':
          case 'message.assistant':
            return [draft.body.text];
          case 'tool.result':
            return [draft.body.content];
          default:
            return [];
        }
      });
      const chars = texts.reduce((sum, text) => sum + text.length, 0);
      const megabytes = chars / 1024 / 1024;
      const [, estimatorMs] = time(() => texts.reduce((sum, text) => sum + estimateTextTokens(text), 0));
      const sample = texts.slice(0, Math.max(1, Math.floor(texts.length / 10)));
      const sampleMb = sample.reduce((sum, text) => sum + text.length, 0) / 1024 / 1024;
      const [, tokenizerMs] = time(() => sample.reduce((sum, text) => sum + count(text), 0));
      console.log('estimator throughput');
      console.log(`  estimateTextTokens          ${(megabytes / (estimatorMs / 1000)).toFixed(0).padStart(5)} MB/s (${megabytes.toFixed(1)} MB of session text)`);
      console.log(`  @anthropic-ai/tokenizer     ${(sampleMb / (tokenizerMs / 1000)).toFixed(1).padStart(5)} MB/s (${sampleMb.toFixed(1)} MB sample, tokenizer built once)`);

      const report = (label: string, samples: readonly string[]): void => {
        const measured = measureEstimator(samples, count);
        const pct = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
        console.log(
          `  ${label.padEnd(44)} estimator ${pct(measured.aggregate).padStart(6)} total, ${((measured.meanAbs * 100).toFixed(1) + '%').padStart(5)} mean |err|   chars/4 ${pct(measured.charsOverFourAggregate).padStart(6)}, ${((measured.charsOverFourMeanAbs * 100).toFixed(1) + '%').padStart(5)}`,
        );
      };
      console.log('estimator error against @anthropic-ai/tokenizer (per sample; total = summed tokens)');
      report(`src/ .ts files (${codeFiles.length} incl. test/)`, codeFiles.filter((text) => text.length >= 200));
      const markdown = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md'].map((file) => path.join(root, file)).filter((file) => fs.existsSync(file)).map((file) => fs.readFileSync(file, 'utf8'));
      report(`Markdown (${markdown.length} files)`, markdown);
      report('prose lines from Markdown and comments', chunk(proseLines, 10));
      const messages = drafts.filter((draft) => draft.kind === 'message.user').slice(0, 2000).map((draft) => (draft.kind === 'message.user' ? draft.body.text : ''));
      report('bench user messages (2,000)', messages);
      report('bench tool results (code, 500)', drafts.filter((draft) => draft.kind === 'tool.result').slice(0, 500).map((draft) => (draft.kind === 'tool.result' ? draft.body.content : '')));
    } finally {
      tokenizer.free();
    }
    console.log('');
    console.log(`peak RSS of this benchmark process: ${mib(peakRss())}`);
    ledger.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function chunk(lines: readonly string[], size: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < lines.length; i += size) {
    chunks.push(lines.slice(i, i + size).join('\n'));
  }
  return chunks;
}

void main();
