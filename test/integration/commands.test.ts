import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LedgerStats, SessionSummary, VerifyReport } from '../../src/core/ledger';
import { activateExtension, runCli, runnerEnvironment, uniqueName } from './helpers';

describe('commands', () => {
  it('New Session with a name creates a session that listSessions() shows', async () => {
    const api = await activateExtension();
    const name = uniqueName('Named from a test');
    const sessionId = await vscode.commands.executeCommand<string | undefined>('contextLedger.newSession', name);
    assert.equal(typeof sessionId, 'string', 'newSession returns the new session id');
    const session = (await api.listSessions()).find((candidate) => candidate.id === sessionId);
    assert.ok(session, `session ${sessionId} is listed`);
    assert.equal(session.name, name);
    assert.equal(session.turnCount, 0);
    assert.equal(session.eventCount, 1);
    assert.equal(session.closed, false);
  });

  it('a session made by the extension is durable and visible to the CLI', async () => {
    await activateExtension();
    const name = uniqueName('Seen by the CLI');
    const sessionId = await vscode.commands.executeCommand<string>('contextLedger.newSession', name);
    const result = await runCli(runnerEnvironment(), ['sessions', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const sessions = JSON.parse(result.stdout) as SessionSummary[];
    assert.deepEqual(
      sessions.filter((session) => session.id === sessionId).map((session) => session.name),
      [name],
    );
  });

  it('Show Log Stats returns the counts of the store', async () => {
    const api = await activateExtension();
    const stats = await vscode.commands.executeCommand<LedgerStats>('contextLedger.showLogStats');
    const sessions = await api.listSessions();
    assert.ok(stats, 'showLogStats returns the stats');
    assert.equal(stats.sessionCount, sessions.length);
    assert.equal(
      stats.eventCount,
      sessions.reduce((sum, session) => sum + session.eventCount, 0),
      'every event belongs to a listed session',
    );
    assert.ok(stats.eventCount >= 2, `${stats.eventCount} events`);
    assert.equal(stats.lastSeq, stats.eventCount);
    assert.equal(stats.readOnly, false);
    assert.equal(stats.damagedRecords, 0);
    assert.ok(stats.journal.bytes > 0 && stats.journal.segments >= 1);
    assert.deepEqual(await api.stats(), stats, 'the command and the API report the same stats');
  });

  it('Verify Store finds no problems', async () => {
    const api = await activateExtension();
    const report = await vscode.commands.executeCommand<VerifyReport>('contextLedger.verifyStore');
    assert.ok(report, 'verifyStore returns a report');
    assert.equal(report.ok, true, `problems: ${report.problems.join('; ')}`);
    assert.deepEqual(report.problems, []);
    assert.equal(report.eventCount, (await api.stats()).eventCount);
    assert.ok(report.recordCount >= report.eventCount);
  });

  it('Refresh Sessions and Show Engine Log run without errors', async () => {
    await activateExtension();
    await vscode.commands.executeCommand('contextLedger.refreshSessions');
    await vscode.commands.executeCommand('contextLedger.showEngineLog');
  });
});
