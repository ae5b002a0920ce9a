import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonLines, runCliProcess } from '../fixtures/cliRunner';
import { generateCodingSession } from '../fixtures/codingSessions';
import { makeTempDir } from '../fixtures/tempDir';

// The compact and undo verbs as a user runs them: real processes, real exit statuses.
describe('context-ledger compact and undo', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  const session = generateCodingSession(12, 8);

  before(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
    assert.equal(runCliProcess(store, ['append'], jsonLines(session.drafts)).code, 0);
  });
  after(() => temp.remove());

  it('previews without --yes, commits with it, refuses an overlap, and undoes', () => {
    const preview = runCliProcess(store, ['compact', session.sessionId, '--range', '1..3', '--tier', 'aggressive']);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /^Preview: turns 1–3 .*aggressive, by offline/m);
    assert.match(preview.stdout, /Artifact trail, exact, derived from the log/);
    assert.match(preview.stdout, /Nothing was committed/);
    const listed = () => JSON.parse(runCliProcess(store, ['show', session.sessionId, '--json']).stdout) as { events: Array<{ kind: string }> };
    assert.ok(!listed().events.some((event) => event.kind === 'compaction.committed'), 'a preview writes nothing');

    const commit = runCliProcess(store, ['compact', session.sessionId, '--yes', '--json']);
    assert.equal(commit.code, 0, commit.stderr);
    const committed = JSON.parse(commit.stdout) as { committed: boolean; compactionId: string; body: { range: { firstTurn: number; lastTurn: number } } };
    assert.equal(committed.committed, true);
    assert.deepEqual([committed.body.range.firstTurn, committed.body.range.lastTurn], [1, 6]);

    const context = runCliProcess(store, ['context', session.sessionId, '--window', 'full', '--prompt', 'next', '--json']);
    assert.match(context.stdout, /"kind": "compaction"/);

    const overlap = runCliProcess(store, ['compact', session.sessionId, '--range', '2..4', '--yes']);
    assert.equal(overlap.code, 2);
    assert.match(overlap.stderr, /overlaps compaction/);
    const badRange = runCliProcess(store, ['compact', session.sessionId, '--range', 'two']);
    assert.equal(badRange.code, 2);
    assert.match(badRange.stderr, /not a range of turns/);

    const undo = runCliProcess(store, ['undo', session.sessionId]);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, new RegExp(`undid compaction ${committed.compactionId} of turns 1–6`));
    const again = runCliProcess(store, ['undo', session.sessionId]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no compaction in force/);
    assert.doesNotMatch(runCliProcess(store, ['context', session.sessionId, '--window', 'full', '--prompt', 'next', '--json']).stdout, /"kind": "compaction"/);
  });
});
