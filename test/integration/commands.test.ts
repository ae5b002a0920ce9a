// The commands in a real extension host. Each command returns what it did (the wrapper shows an
// error and returns undefined instead of throwing), so every test checks the value and the store:
// a command that fails, fails its test.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LedgerStats, SessionSummary, VerifyReport } from '../../src/core/ledger';
import { activateExtension, jsonLines, runCli, runnerEnvironment, uniqueName, waitFor } from './helpers';

/** The chat (editor tab or side bar) that shows `sessionId`, if one does. */
async function chatShowing(sessionId: string | null | undefined): Promise<unknown> {
  const api = await activateExtension();
  return [api.chat.panel(), api.chat.view()].find((chat) => chat !== undefined && chat.currentSessionId === sessionId);
}

async function sessionNamed(name: string): Promise<SessionSummary | undefined> {
  const api = await activateExtension();
  return (await api.listSessions()).find((session) => session.name === name);
}

describe('commands', () => {
  it('New Session with a name creates a session that listSessions() shows, and opens it in the chat', async () => {
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
    assert.equal(session.hidden, false);
    // In the chat the user turned to last (the side bar when there is none).
    assert.ok(await chatShowing(sessionId), 'a chat shows the new session');
    assert.equal(api.chat.activeSession().sessionId, sessionId);
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

  it('counts turns as questions: a question and its answer are one turn', async () => {
    const name = uniqueName('Two questions');
    const id = `turns-${Date.now().toString(36)}`;
    const appended = await runCli(
      runnerEnvironment(),
      ['append'],
      jsonLines([
        { kind: 'session.started', sessionId: id, body: { name } },
        { kind: 'message.user', sessionId: id, body: { text: 'one?' } },
        { kind: 'message.assistant', sessionId: id, body: { text: 'one.' } },
        { kind: 'message.user', sessionId: id, body: { text: 'two?' } },
        { kind: 'message.assistant', sessionId: id, body: { text: 'two.' } },
      ]),
    );
    assert.equal(appended.code, 0, appended.stderr);
    const session = await waitFor('the engine to tail the CLI append', () => sessionNamed(name));
    assert.equal(session.turnCount, 2);
    assert.equal(session.eventCount, 5);
  });

  it('Open in Chat shows the session in the side-bar chat', async () => {
    const api = await activateExtension();
    const sessionId = await vscode.commands.executeCommand<string>('contextLedger.newSession', uniqueName('To open'));
    await vscode.commands.executeCommand('contextLedger.newSession', uniqueName('Opened after it'));
    assert.equal(await vscode.commands.executeCommand('contextLedger.openSession', sessionId), sessionId);
    assert.ok(await chatShowing(sessionId), 'a chat shows it');
    assert.equal(api.chat.activeSession().sessionId, sessionId);
    assert.equal(await vscode.commands.executeCommand('contextLedger.openSession', 'no-such-session'), undefined, 'an unknown session fails (and says so)');
  });

  it('Rename Session renames it in the store', async () => {
    const api = await activateExtension();
    const sessionId = await vscode.commands.executeCommand<string>('contextLedger.newSession', uniqueName('Before rename'));
    const name = uniqueName('After rename');
    assert.equal(await vscode.commands.executeCommand('contextLedger.renameSession', sessionId, name), name);
    assert.equal((await api.listSessions()).find((session) => session.id === sessionId)?.name, name);
    assert.equal(api.chat.activeSession().sessionId, sessionId);
  });

  it('Delete Session hides the session: gone from the views, its events kept in the log', async () => {
    const api = await activateExtension();
    const sessionId = await vscode.commands.executeCommand<string>('contextLedger.newSession', uniqueName('To delete'));
    assert.ok(await chatShowing(sessionId));
    assert.equal(await vscode.commands.executeCommand('contextLedger.deleteSession', sessionId, { confirmed: true }), sessionId);
    const session = (await api.listSessions()).find((candidate) => candidate.id === sessionId);
    assert.equal(session?.hidden, true, 'hidden, not erased');
    assert.equal(await chatShowing(sessionId), undefined, 'the chat that showed it turned to a new chat');
    const refreshed = await vscode.commands.executeCommand<readonly SessionSummary[]>('contextLedger.refreshSessions');
    assert.ok(refreshed, 'Refresh Sessions returns what the tree lists');
    assert.equal(
      refreshed.some((candidate) => candidate.id === sessionId),
      false,
      'the Sessions tree leaves it out',
    );
    const shown = await runCli(runnerEnvironment(), ['show', sessionId, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(
      (JSON.parse(shown.stdout) as { events: Array<{ kind: string }> }).events.map((event) => event.kind),
      ['session.started', 'session.hidden'],
    );
    assert.equal(await vscode.commands.executeCommand('contextLedger.deleteSession', sessionId, { confirmed: true }), undefined, 'a hidden session cannot be deleted twice');
  });

  it('Export Session writes the session as Markdown', async () => {
    const name = uniqueName('To export');
    const id = `export-${Date.now().toString(36)}`;
    const appended = await runCli(
      runnerEnvironment(),
      ['append'],
      jsonLines([
        { kind: 'session.started', sessionId: id, body: { name } },
        { kind: 'message.user', sessionId: id, body: { text: 'What does export write?' } },
        { kind: 'message.assistant', sessionId: id, body: { text: 'Markdown, one heading per message.' } },
      ]),
    );
    assert.equal(appended.code, 0, appended.stderr);
    await waitFor('the engine to tail the CLI append', () => sessionNamed(name));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-export-')), 'session.md');
    const written = await vscode.commands.executeCommand<string>('contextLedger.exportSession', id, vscode.Uri.file(file));
    assert.equal(written, vscode.Uri.file(file).toString());
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, new RegExp(`^# ${name}`));
    // Each section: its heading, the event's time (ISO, UTC), then the text.
    assert.match(text, /## User\n\n\*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\*\n\nWhat does export write\?/);
    assert.match(text, /## Assistant\n\n\*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\*\n\nMarkdown, one heading per message\./);
    assert.match(text, /1 turns, 3 events/);
  });

  it('Show Log Stats returns the counts of the store', async () => {
    const api = await activateExtension();
    const stats = await vscode.commands.executeCommand<LedgerStats>('contextLedger.showLogStats');
    const sessions = await api.listSessions();
    assert.ok(stats, 'showLogStats returns the stats');
    assert.equal(stats.sessionCount, sessions.length);
    // The prompt versions' stream (prompt:workspace) is no session, but its events are events.
    const prompt = await runCli(runnerEnvironment(), ['show', 'prompt:workspace', '--json']);
    const promptEvents = prompt.code === 0 ? (JSON.parse(prompt.stdout) as { events: unknown[] }).events.length : 0;
    assert.equal(
      stats.eventCount,
      sessions.reduce((sum, session) => sum + session.eventCount, 0) + promptEvents,
      'every event belongs to a listed session or the prompt versions stream',
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

  it('Refresh Sessions lists what the store has; Show Engine Log shows the output', async () => {
    const api = await activateExtension();
    const listed = await vscode.commands.executeCommand<readonly SessionSummary[]>('contextLedger.refreshSessions');
    assert.ok(listed, 'refreshSessions returns the sessions the tree lists');
    assert.deepEqual(
      listed.map((session) => session.id),
      (await api.listSessions()).filter((session) => !session.hidden).map((session) => session.id),
    );
    assert.equal(await vscode.commands.executeCommand('contextLedger.showEngineLog'), true);
  });
});
