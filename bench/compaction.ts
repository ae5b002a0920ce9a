// The fidelity check of compaction (npm run eval:compaction): the table of bench/compactionEval.ts.
// With ANTHROPIC_API_KEY set (ANTHROPIC_BASE_URL and COMPACTION_MODEL optional) the model
// compactor runs on the same sessions too, beside the offline one.
//
// Env: SESSIONS (default 6), TURNS (default 120).

import { evalReport, runCompactionEval, type EvalOptions } from './compactionEval';

async function run(): Promise<void> {
  const apiKey = process.env.ANTHROPIC_API_KEY;
  const options: EvalOptions = {
    sessions: Number(process.env.SESSIONS ?? 6),
    turns: Number(process.env.TURNS ?? 120),
    ...(apiKey ? { model: { apiKey, baseUrl: process.env.ANTHROPIC_BASE_URL ?? null, model: process.env.COMPACTION_MODEL ?? 'claude-sonnet-4-5' } } : {}),
  };
  for (const line of evalReport(await runCompactionEval(options), options)) {
    console.log(line);
  }
}

run().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
