// A session deleted from the Sessions view is a `session.hidden` event: the projection marks it
// hidden, its events stay, it survives a reopen (replay and snapshot), and turns count questions.
import * as assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { markdownTranscript, transcriptLines } from '../../src/core/report/transcriptReport';
import { Ledger } from '../../src/core/ledger';
import { assistantMessage, startSession, userMessage } from '../fixtures/sampleEvents';
import { makeTempDir } from '../fixtures/tempDir';

describe('hidden sessions and turn counts', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  it('hides a session without erasing it, across a reopen', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    await ledger.append([startSession('kept'), startSession('gone'), userMessage('gone', 'first question'), assistantMessage('gone', 'an answer')]);
    const [verdict] = await ledger.append([{ kind: 'session.hidden', sessionId: 'gone', body: {} }]);
    assert.equal(verdict?.status, 'appended');
    const hidden = (): Array<[string, boolean]> => ledger.listSessions().map((session) => [session.id, session.hidden]);
    assert.deepEqual(hidden().sort(), [
      ['gone', true],
      ['kept', false],
    ]);
    assert.deepEqual(
      ledger.readSession('gone').map((event) => event.kind),
      ['session.started', 'message.user', 'message.assistant', 'session.hidden'],
      'the events stay in the log',
    );
    const session = ledger.getSession('gone');
    assert.ok(session);
    assert.match(transcriptLines(session, ledger.readSession('gone')).join('\n'), /session hidden/);
    assert.match(markdownTranscript(session, ledger.readSession('gone')), /first question/);
    ledger.close();

    const reopened = await Ledger.open({ storeDir: temp.dir });
    assert.equal(reopened.getSession('gone')?.hidden, true, 'replayed from the journal');
    assert.equal(reopened.getSession('kept')?.hidden, false);
    reopened.close();
  });

  it('counts a question and its answer as one turn', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir });
    await ledger.append([startSession('s'), userMessage('s', 'one'), assistantMessage('s', 'a'), userMessage('s', 'two'), assistantMessage('s', 'b')]);
    assert.equal(ledger.getSession('s')?.turnCount, 2);
    ledger.close();
  });
});
