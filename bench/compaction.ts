// The fidelity check of compaction (npm run eval:compaction). Long generated coding sessions
// with planted constraints, numbers, paths, identifiers, decisions, errors and an open task are
// compacted at each tier, committed to a real store, and the next request is assembled from
// the log; each probe is scored exactly against the text that replaced the range in that
// request (summary + artifact trail). With ANTHROPIC_API_KEY set (ANTHROPIC_BASE_URL and
// COMPACTION_MODEL optional) the model compactor runs on the same sessions too.
//
// Env: SESSIONS (default 6), TURNS (default 120).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContextIndex } from '../src/core/context/contextIndex';
import { CachedTokenCounter } from '../src/core/context/tokenCounts';
import { commitCompaction, previewCompaction, undoCompaction, type CompactionContext, type Summarizer } from '../src/core/compaction/compactionEngine';
import type { SummaryTier } from '../src/core/compaction/compactionTypes';
import { createModelPort } from '../src/core/llm/modelPort';
import { Ledger } from '../src/core/ledger';
import { generateCodingSession, probeAnswered, type ProbeKind } from '../test/fixtures/codingSessions';

const sessions = Number(process.env.SESSIONS ?? 6);
const turns = Number(process.env.TURNS ?? 120);
const kinds: readonly ProbeKind[] = ['recall', 'artifact', 'continuation', 'decision'];

interface Row {
  readonly label: string;
  readonly tier: SummaryTier;
  sourceTokens: number;
  replacementTokens: number;
  readonly hits: Record<ProbeKind, { asked: number; answered: number }>;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-eval-'));
  const ledger = await Ledger.open({ storeDir: dir });
  const counter = new CachedTokenCounter();
  const index = new ContextIndex(ledger, counter);
  const context: CompactionContext = { ledger, counter, inFlight: () => false, defaultTier: 'balanced' };
  const apiKey = process.env.ANTHROPIC_API_KEY;
  const compactors: Array<{ label: string; summarizer: () => Summarizer }> = [{ label: 'offline', summarizer: () => ({ kind: 'offline' }) }];
  if (apiKey) {
    const model = process.env.COMPACTION_MODEL ?? 'claude-sonnet-4-5';
    const port = createModelPort({ apiKey, baseUrl: process.env.ANTHROPIC_BASE_URL ?? null, model, maxTokens: 8000, timeoutMs: 300_000, logLevel: 'off' });
    compactors.push({ label: model, summarizer: () => ({ kind: 'model', port, model, signal: AbortSignal.timeout(300_000), timeoutMs: 300_000 }) });
  }
  const rows: Row[] = [];
  try {
    for (const compactor of compactors) {
      for (const tier of ['balanced', 'aggressive'] as const) {
        const row: Row = { label: compactor.label, tier, sourceTokens: 0, replacementTokens: 0, hits: { recall: { asked: 0, answered: 0 }, artifact: { asked: 0, answered: 0 }, continuation: { asked: 0, answered: 0 }, decision: { asked: 0, answered: 0 } } };
        for (let seed = 1; seed <= sessions; seed++) {
          const session = generateCodingSession(seed, turns);
          if (!ledger.getSession(session.sessionId)) {
            await ledger.append(session.drafts);
          }
          const preview = await previewCompaction(context, { sessionId: session.sessionId, tier }, compactor.summarizer());
          const committed = await commitCompaction(context, { sessionId: session.sessionId, body: preview.body });
          // What the next request holds in place of the range.
          const { request, receipt } = index.assemble(session.sessionId, { window: { kind: 'full' }, budgetTokens: 1_000_000, systemPrompt: 'eval', promptText: 'What next?', nowMs: Date.now() });
          const part = receipt.parts.find((candidate) => candidate.kind === 'compaction');
          const first = request.messages[0]?.content[0];
          if (!part || first?.type !== 'text') {
            throw new Error(`the compaction of ${session.sessionId} did not reach the request`);
          }
          row.sourceTokens += part.replacesTokens ?? 0;
          row.replacementTokens += part.tokens;
          for (const probe of session.probes) {
            row.hits[probe.kind].asked++;
            row.hits[probe.kind].answered += probeAnswered(probe, first.text) ? 1 : 0;
          }
          await undoCompaction(context, { sessionId: session.sessionId, compactionId: committed.compactionId });
        }
        rows.push(row);
      }
    }
  } finally {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Compaction fidelity: ${sessions} generated sessions of ${turns} turns, all but the newest 2 compacted; probes scored exactly against the next request.`);
  console.log('');
  console.log('| compactor | tier | raw tokens | summary + trail | size | recall | artifact trail | continuation | decision | retention |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const asked = kinds.reduce((sum, kind) => sum + row.hits[kind].asked, 0);
    const answered = kinds.reduce((sum, kind) => sum + row.hits[kind].answered, 0);
    const cells = kinds.map((kind) => percent(row.hits[kind].answered, row.hits[kind].asked));
    console.log(`| ${row.label} | ${row.tier} | ${row.sourceTokens.toLocaleString('en-US')} | ${row.replacementTokens.toLocaleString('en-US')} | ${percent(row.replacementTokens, row.sourceTokens)} | ${cells.join(' | ')} | ${percent(answered, asked)} |`);
  }
  const retention = (row: Row | undefined): number => {
    const asked = kinds.reduce((sum, kind) => sum + (row?.hits[kind].asked ?? 0), 0);
    const answered = kinds.reduce((sum, kind) => sum + (row?.hits[kind].answered ?? 0), 0);
    return asked === 0 ? 0 : (100 * answered) / asked;
  };
  for (const row of rows.filter((candidate) => candidate.label !== 'offline' && candidate.tier === 'balanced')) {
    console.log(`${row.label} balanced retention: ${retention(row).toFixed(1)}%`);
  }
  console.log(`balanced retention: ${retention(rows.find((row) => row.label === 'offline' && row.tier === 'balanced')).toFixed(1)}%`);
}

run().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
