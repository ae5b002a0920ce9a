import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evalReport, runCompactionEval } from '../../bench/compactionEval';
import { modelCompactionSystemPrompt } from '../../src/core/compaction/modelCompactor';
import { generateCodingSession, probeAnswered } from '../fixtures/codingSessions';
import { scripts } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';

// The fidelity check (npm run eval:compaction) on its model path: with a key and a base URL the
// script lets the model write the summaries too. Here the model is the local Messages API server
// with scripted summaries, so the scores can be checked against what those summaries hold.

describe('the compaction fidelity check', () => {
  const server = useMessagesApiServer();

  it('runs the model compactor when a key is given, and scores each probe exactly against the text that went into the next request', async () => {
    const session = generateCodingSession(1, 24);
    const recall = session.probes.filter((probe) => probe.kind === 'recall');
    assert.ok(recall.length >= 4, 'the generated session plants recall items');
    // Balanced: a summary that keeps the first two recall items; aggressive: one that keeps none.
    const kept = recall.slice(0, 2).map((probe) => probe.answer);
    server().script(scripts.text(`Kept: ${kept.join('; ')}.`), scripts.text('Work went on.'));
    const result = await runCompactionEval({ sessions: 1, turns: 24, model: { apiKey: 'test-key', baseUrl: server().baseUrl, model: 'claude-eval', timeoutMs: 20_000, maxRetries: 0 } });

    assert.deepEqual(result.rows.map((row) => `${row.label}/${row.tier}`), ['offline/balanced', 'offline/aggressive', 'claude-eval/balanced', 'claude-eval/aggressive']);
    const requests = server().messageRequests();
    assert.equal(requests.length, 2, 'one summary request per tier');
    const systems = requests.map((request) => JSON.stringify((request.body as { system?: unknown }).system));
    assert.ok(systems[0]!.includes(JSON.stringify(modelCompactionSystemPrompt('balanced')).slice(1, -1)), 'balanced instructions');
    assert.ok(systems[1]!.includes(JSON.stringify(modelCompactionSystemPrompt('aggressive')).slice(1, -1)), 'aggressive instructions');
    assert.ok(requests[0]!.rawBody.includes(JSON.stringify(recall[2]!.answer).slice(1, -1)), 'the model saw the planted items');

    for (const sample of result.samples) {
      // What was scored is the compaction's own text in the next request: the summary and the trail.
      assert.ok(sample.requestText.includes(sample.summary), `${sample.label}/${sample.tier}: the summary is in the request`);
      assert.match(sample.requestText, /Artifact trail, exact, derived from the log/);
      for (const { probe, answered } of sample.probes) {
        assert.equal(answered, probeAnswered(probe, sample.requestText));
      }
    }
    const model = (tier: string) => result.samples.find((sample) => sample.label === 'claude-eval' && sample.tier === tier)!;
    const answered = (tier: string, answer: string) => model(tier).probes.find(({ probe }) => probe.answer === answer)!.answered;
    assert.equal(model('balanced').summary, `Kept: ${kept.join('; ')}.`);
    for (const answer of kept) {
      assert.equal(answered('balanced', answer), true, `balanced keeps ${answer}`);
    }
    // What the summary dropped is lost unless the trail (derived from the events) has it.
    for (const probe of recall.slice(2).filter((candidate) => !model('balanced').requestText.replace(model('balanced').summary, '').includes(candidate.answer))) {
      assert.equal(answered('balanced', probe.answer), false);
    }
    const row = (label: string, tier: string) => result.rows.find((candidate) => candidate.label === label && candidate.tier === tier)!;
    assert.equal(row('claude-eval', 'balanced').hits.artifact.answered, row('claude-eval', 'balanced').hits.artifact.asked, 'the trail keeps every artifact whatever the model wrote');
    assert.ok(row('claude-eval', 'aggressive').hits.recall.answered < row('claude-eval', 'balanced').hits.recall.answered);

    const report = evalReport(result, { sessions: 1, turns: 24 });
    assert.ok(report.some((line) => line.startsWith('| claude-eval | balanced |')));
    assert.match(report.at(-2)!, /^claude-eval balanced retention: \d+\.\d%$/);
    assert.match(report.at(-1)!, /^balanced retention: \d+\.\d%$/);
  });
});
