// The fidelity check of compaction, as a function (bench/compaction.ts is the script that prints
// it; test/unit/compactionEval.test.ts runs its model path against the local Messages API
// server). Long generated coding sessions with planted constraints, numbers, paths, identifiers,
// decisions, errors and an open task are compacted at each tier, committed to a real store, and
// the next request is assembled from the log as a chat turn would; each probe is scored exactly
// against the text that replaced the range in that request (summary + artifact trail).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commitCompaction, previewCompaction, undoCompaction, type CompactionContext, type Summarizer } from '../src/core/compaction/compactionEngine';
import { compactionMessageText } from '../src/core/compaction/compactionText';
import type { SummaryTier } from '../src/core/compaction/compactionTypes';
import { ContextIndex } from '../src/core/context/contextIndex';
import { CachedTokenCounter } from '../src/core/context/tokenCounts';
import { Ledger } from '../src/core/ledger';
import { createModelPort } from '../src/core/llm/modelPort';
import { generateCodingSession, probeAnswered, type Probe, type ProbeKind } from '../test/fixtures/codingSessions';

export const probeKinds: readonly ProbeKind[] = ['recall', 'artifact', 'continuation', 'decision'];

export interface EvalModel {
  readonly apiKey: string;
  readonly baseUrl: string | null;
  readonly model: string;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
}

export interface EvalOptions {
  readonly sessions: number;
  readonly turns: number;
  /** Also let this model write the summaries (the offline compactor always runs). */
  readonly model?: EvalModel;
}

export interface EvalRow {
  readonly label: string;
  readonly tier: SummaryTier;
  sourceTokens: number;
  replacementTokens: number;
  readonly hits: Record<ProbeKind, { asked: number; answered: number }>;
}

/** One compaction of one session: the text that went into the next request and each probe's score. */
export interface EvalSample {
  readonly label: string;
  readonly tier: SummaryTier;
  readonly sessionId: string;
  readonly summary: string;
  readonly requestText: string;
  readonly probes: ReadonlyArray<{ readonly probe: Probe; readonly answered: boolean }>;
}

export interface EvalResult {
  readonly rows: readonly EvalRow[];
  readonly samples: readonly EvalSample[];
}

export async function runCompactionEval(options: EvalOptions): Promise<EvalResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-eval-'));
  const ledger = await Ledger.open({ storeDir: dir });
  const counter = new CachedTokenCounter();
  const index = new ContextIndex(ledger, counter);
  const context: CompactionContext = { ledger, counter, inFlight: () => false, defaultTier: 'balanced' };
  const compactors: Array<{ label: string; summarizer: () => Summarizer }> = [{ label: 'offline', summarizer: () => ({ kind: 'offline' }) }];
  if (options.model) {
    const { apiKey, baseUrl, model } = options.model;
    const timeoutMs = options.model.timeoutMs ?? 300_000;
    const port = createModelPort({ apiKey, baseUrl, model, maxTokens: 8000, timeoutMs, logLevel: 'off', ...(options.model.maxRetries !== undefined ? { maxRetries: options.model.maxRetries } : {}) });
    compactors.push({ label: model, summarizer: () => ({ kind: 'model', port, model, signal: AbortSignal.timeout(timeoutMs), timeoutMs }) });
  }
  const rows: EvalRow[] = [];
  const samples: EvalSample[] = [];
  try {
    for (const compactor of compactors) {
      for (const tier of ['balanced', 'aggressive'] as const) {
        const row: EvalRow = { label: compactor.label, tier, sourceTokens: 0, replacementTokens: 0, hits: { recall: { asked: 0, answered: 0 }, artifact: { asked: 0, answered: 0 }, continuation: { asked: 0, answered: 0 }, decision: { asked: 0, answered: 0 } } };
        for (let seed = 1; seed <= options.sessions; seed++) {
          const session = generateCodingSession(seed, options.turns);
          if (!ledger.getSession(session.sessionId)) {
            await ledger.append(session.drafts);
          }
          const preview = await previewCompaction(context, { sessionId: session.sessionId, tier }, compactor.summarizer());
          const committed = await commitCompaction(context, { sessionId: session.sessionId, body: preview.body });
          // The next request, assembled from the log as a chat turn assembles it.
          const { request, receipt } = index.assemble(session.sessionId, { window: { kind: 'full' }, budgetTokens: 1_000_000, systemPrompt: 'eval', promptText: 'What next?', nowMs: Date.now() });
          const part = receipt.parts.find((candidate) => candidate.kind === 'compaction' && candidate.compactionId === committed.compactionId);
          const expected = compactionMessageText(committed.body);
          const blocks = request.messages.flatMap((message) => message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])));
          const requestText = blocks.find((text) => text === expected);
          if (!part || requestText === undefined) {
            throw new Error(`the compaction of ${session.sessionId} did not reach the request as its own text`);
          }
          row.sourceTokens += part.replacesTokens ?? 0;
          row.replacementTokens += part.tokens;
          const scored = session.probes.map((probe) => ({ probe, answered: probeAnswered(probe, requestText) }));
          for (const { probe, answered } of scored) {
            row.hits[probe.kind].asked++;
            row.hits[probe.kind].answered += answered ? 1 : 0;
          }
          samples.push({ label: compactor.label, tier, sessionId: session.sessionId, summary: committed.body.summary, requestText, probes: scored });
          await undoCompaction(context, { sessionId: session.sessionId, compactionId: committed.compactionId });
        }
        rows.push(row);
      }
    }
  } finally {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { rows, samples };
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function retention(row: EvalRow | undefined): number {
  const asked = probeKinds.reduce((sum, kind) => sum + (row?.hits[kind].asked ?? 0), 0);
  const answered = probeKinds.reduce((sum, kind) => sum + (row?.hits[kind].answered ?? 0), 0);
  return asked === 0 ? 0 : (100 * answered) / asked;
}

/** The table, a retention line per model, and last the `balanced retention: NN.N%` line of the offline compactor. */
export function evalReport(result: EvalResult, options: Pick<EvalOptions, 'sessions' | 'turns'>): string[] {
  const lines = [
    `Compaction fidelity: ${options.sessions} generated sessions of ${options.turns} turns, all but the newest 2 compacted; probes scored exactly against the next request.`,
    '',
    '| compactor | tier | raw tokens | summary + trail | size | recall | artifact trail | continuation | decision | retention |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of result.rows) {
    const cells = probeKinds.map((kind) => percent(row.hits[kind].answered, row.hits[kind].asked));
    lines.push(`| ${row.label} | ${row.tier} | ${row.sourceTokens.toLocaleString('en-US')} | ${row.replacementTokens.toLocaleString('en-US')} | ${percent(row.replacementTokens, row.sourceTokens)} | ${cells.join(' | ')} | ${retention(row).toFixed(1)}% |`);
  }
  for (const row of result.rows.filter((candidate) => candidate.label !== 'offline' && candidate.tier === 'balanced')) {
    lines.push(`${row.label} balanced retention: ${retention(row).toFixed(1)}%`);
  }
  lines.push(`balanced retention: ${retention(result.rows.find((row) => row.label === 'offline' && row.tier === 'balanced')).toFixed(1)}%`);
  return lines;
}
