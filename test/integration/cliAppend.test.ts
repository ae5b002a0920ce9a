import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { activateExtension, jsonLines, runCli, runnerEnvironment, uniqueName, waitFor } from './helpers';

describe('sessions appended with the CLI', () => {
  it('appear in listSessions() while the extension runs (the engine tails the journal)', async () => {
    const api = await activateExtension();
    const before = await api.stats();
    const sessions = [
      { id: `cli-${randomUUID()}`, name: uniqueName('From CLI one') },
      { id: `cli-${randomUUID()}`, name: uniqueName('From CLI two') },
    ];
    const events = sessions.flatMap(({ id, name }) => [
      { kind: 'session.started', sessionId: id, body: { name } },
      { kind: 'message.user', sessionId: id, body: { text: 'hi' } },
      { kind: 'message.assistant', sessionId: id, body: { text: 'hello', model: 'test-model' } },
    ]);
    const result = await runCli(runnerEnvironment(), ['append'], jsonLines(events));
    assert.equal(result.code, 0, `the CLI failed: ${result.stderr}`);
    assert.match(result.stdout, /appended 6, already stored 0, conflicts 0/);

    const listed = await waitFor(
      'the CLI sessions in listSessions()',
      async () => {
        const all = await api.listSessions();
        const found = sessions.map(({ id }) => all.find((session) => session.id === id));
        return found.every((session) => session !== undefined) ? found : undefined;
      },
      10_000,
    );
    assert.deepEqual(
      listed.map((session) => [session?.name, session?.turnCount, session?.eventCount]),
      // A question and its answer: one turn.
      sessions.map(({ name }) => [name, 1, 3]),
    );
    const after = await api.stats();
    assert.equal(after.eventCount, before.eventCount + events.length);
    assert.equal(after.sessionCount, before.sessionCount + sessions.length);
  });
});
