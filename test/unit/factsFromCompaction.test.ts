import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { deriveTrail } from '../../src/core/compaction/artifactTrail';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { trailFactCandidates } from '../../src/core/facts/trailFacts';
import { Ledger } from '../../src/core/ledger';
import { CompactionService } from '../../src/server/compactionService';
import { FactsEngineService } from '../../src/server/factsService';
import { ContextLog } from '../fixtures/contextLog';
import { makeTempDir } from '../fixtures/tempDir';

// Extraction during compaction: a real store, the real compaction service committing an offline
// compaction, and the facts service proposing what the trail's succeeding commands say. The
// proposals change no fact until the user confirms one.

function codingLog(): ContextLog {
  const log = new ContextLog('s');
  log.user('Fix the build, then run the tests and the linter.');
  log.assistant('Building.');
  log.toolUse('t1', 'Bash', { command: 'pnpm run build' });
  log.toolResult('t1', 'tsc: error TS2322\nexit code 2', true);
  log.toolUse('t2', 'Bash', { command: 'pnpm  run build -- --force' });
  log.toolResult('t2', 'built in 2.1 s\nexit code 0');
  log.toolUse('t3', 'Bash', { command: 'pnpm test' });
  log.toolResult('t3', '12 passing');
  log.toolUse('t4', 'Bash', { command: 'npm run lint' });
  log.toolResult('t4', '3 problems\nexit code 1', true);
  log.toolUse('t5', 'Bash', { command: 'git push' });
  log.toolResult('t5', 'ok');
  log.assistant('The build and the tests pass; the linter still complains.');
  log.turn('Thanks. Anything else?', 'No.');
  log.turn('And the docs?', 'Up to date.');
  return log;
}

describe('facts proposed during compaction', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;

  beforeEach(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
  });
  afterEach(() => {
    ledger.close();
    temp.remove();
  });

  it('picks the last succeeding build, test, lint, format or typecheck command of the trail', () => {
    assert.deepEqual(trailFactCandidates(deriveTrail(codingLog().events)), [
      { key: 'build.command', value: 'pnpm run build -- --force', toolUseId: 't2' },
      { key: 'test.command', value: 'pnpm test', toolUseId: 't3' },
    ]);
  });

  it('a commit proposes them (trust extracted-tool), never writes a fact, and does not propose what is known', async () => {
    const log = codingLog();
    await ledger.append(log.drafts());
    const facts = new FactsEngineService({ ledger: () => ledger, workspace: () => undefined, log: () => undefined });
    await facts.add({ key: 'test.command', value: 'pnpm test' });
    const proposals: Array<Promise<unknown>> = [];
    const service = new CompactionService({
      counter: new CachedTokenCounter(),
      inFlight: () => false,
      apiKey: async () => null,
      createModel: () => assert.fail('offline'),
      afterCommit: (_store, sessionId, committed) => proposals.push(facts.proposeFromCompaction(sessionId, committed)),
    });
    const preview = await service.preview(ledger, { sessionId: 's', keepTurns: 1 });
    const committed = await service.commit(ledger, { sessionId: 's', body: preview.body });
    await Promise.all(proposals);
    const listed = facts.list();
    // test.command is a fact with that value already: only build.command is proposed.
    assert.deepEqual(listed.proposals.map((proposal) => [proposal.key, proposal.value, proposal.trust, proposal.status]), [['build.command', 'pnpm run build -- --force', 'extracted-tool', 'pending']]);
    const proposal = listed.proposals[0]!;
    assert.deepEqual(proposal.provenance, { sessionId: 's', eventId: committed.compactionId, path: null, line: null });
    assert.match(proposal.reason ?? '', /extracted during compaction: the command succeeded in session s \(tool call t2\)/);
    assert.equal(facts.get({ key: 'build.command' }).fact, null, 'no fact written');
    // The same trail again (another compaction over those commands) proposes nothing twice.
    assert.deepEqual(await facts.proposeFromCompaction('s', committed), []);
    assert.equal(facts.list().proposals.length, 1);
    // Confirmed by the user, it becomes the fact.
    assert.equal((await facts.confirm({ proposalId: proposal.proposalId })).heads[0]!.value, 'pnpm run build -- --force');
  });
});
