// Compact Session… and Undo Last Compaction in a real extension host, on the engine the
// extension runs: the preview opens as a read-only document, the commit lands in the store
// (seen by the CLI's context), and the undo takes it back. Automatic compaction shows in the chat
// panel's conversation as its own row, whose Undo goes through the panel.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { HostMessage } from '../../src/shared/chatPanelMessages';
import { generateCodingSession } from '../fixtures/codingSessions';
import { messagesApiUrl, openChat, replyFor, scriptAnswers, sendResultFor, sendStartedFor, waitForPosted } from './chatHelpers';
import { activateExtension, jsonLines, runCli, runnerEnvironment } from './helpers';

describe('compaction commands', () => {
  it('Compact Session… previews, commits, and Undo Last Compaction takes it back', async () => {
    await activateExtension();
    const session = generateCodingSession(Date.now() % 100_000, 8);
    const appended = await runCli(runnerEnvironment(), ['append'], jsonLines(session.drafts));
    assert.equal(appended.code, 0, appended.stderr);
    const compactionId = await vscode.commands.executeCommand<string | undefined>('contextLedger.compactSession', session.sessionId, { tier: 'balanced', summarizer: 'offline', confirm: true });
    assert.equal(typeof compactionId, 'string', 'the command returns the committed compaction');
    const preview = vscode.workspace.textDocuments.find((document) => document.uri.scheme === 'context-ledger-compaction');
    assert.ok(preview, 'the preview is open as a document');
    assert.match(preview.getText(), /Compaction preview: turns 1–6/);
    assert.match(preview.getText(), /Artifact trail, exact, derived from the log/);

    const context = async () => (await runCli(runnerEnvironment(), ['context', session.sessionId, '--window', 'full', '--prompt', 'next', '--json'])).stdout;
    assert.match(await context(), /"kind": "compaction"/);
    const undone = await vscode.commands.executeCommand<string | undefined>('contextLedger.undoCompaction', session.sessionId);
    assert.equal(undone, compactionId);
    assert.doesNotMatch(await context(), /"kind": "compaction"/);
    // Nothing left to undo: the command shows the engine's error and returns nothing.
    assert.equal(await vscode.commands.executeCommand('contextLedger.undoCompaction', session.sessionId), undefined);
    assert.equal(await vscode.commands.executeCommand('contextLedger.setCompactionTier', session.sessionId, 'aggressive'), 'aggressive');
  });
});

describe('automatic compaction in the chat', function () {
  this.timeout(120_000);

  it('is announced in the conversation as its own row with Undo, and Undo there takes it back', async () => {
    await activateExtension();
    await fetch(`${messagesApiUrl()}/_test/reset`, { method: 'POST' });
    const settings = vscode.workspace.getConfiguration('contextLedger.compaction');
    // Every request passes this share of the budget: each complete turn compacts all but the newest 2.
    await settings.update('autoAtShare', 0.0001, vscode.ConfigurationTarget.Workspace);
    try {
      const handle = await openChat();
      let sessionId: string | null = null;
      for (let turn = 1; turn <= 3; turn++) {
        await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: `Answer ${turn}.` }] });
        const requestId = `it-auto-${turn}-${randomUUID()}`;
        const from = handle.posted.length;
        handle.receive({ type: 'send', requestId, sessionId, text: `Question ${turn} about src/auto.ts` });
        const { result } = await waitForPosted(handle, sendResultFor(requestId), `answer ${turn}`, 60_000, from);
        assert.equal(result.status, 'complete', JSON.stringify(result.error));
        sessionId ??= (await waitForPosted(handle, sendStartedFor(requestId), 'sendStarted', 30_000, from)).sessionId;
      }
      const shown = await waitForPosted(handle, compactionShown(sessionId!, false), 'the transcript with the automatic compaction', 30_000);
      const row = shown.entries.find((entry) => entry.kind === 'compaction')!;
      assert.equal(row.kind === 'compaction' && row.automatic, true);
      assert.deepEqual(row.kind === 'compaction' ? [row.firstTurn, row.lastTurn, row.tier, row.model] : [], [1, 1, 'balanced', 'offline']);
      // The Undo link of that row, as the webview posts it.
      const undoId = `it-undo-${randomUUID()}`;
      const from = handle.posted.length;
      assert.equal(handle.receive({ type: 'undoCompaction', requestId: undoId, sessionId: sessionId!, compactionId: row.eventId }), true);
      const reply = await waitForPosted(handle, replyFor(undoId), 'the undo reply', 30_000, from);
      assert.equal(reply.ok, true, reply.message ?? '');
      assert.match(reply.message ?? '', /Turns 1–1 go into requests as they were again/);
      await waitForPosted(handle, compactionShown(sessionId!, true), 'the transcript with the compaction undone', 30_000, from);
      const context = (await runCli(runnerEnvironment(), ['context', sessionId!, '--window', 'full', '--prompt', 'next', '--json'])).stdout;
      assert.doesNotMatch(context, /"kind": "compaction"/, 'undone: the turns go into requests again');
      // Undone already: the engine says so, and the reply carries it.
      const againId = `it-undo-again-${randomUUID()}`;
      handle.receive({ type: 'undoCompaction', requestId: againId, sessionId: sessionId!, compactionId: row.eventId });
      const again = await waitForPosted(handle, replyFor(againId), 'the second undo reply', 30_000, from);
      assert.equal(again.ok, false);
      assert.match(again.message ?? '', /not in force/);
    } finally {
      await settings.update('autoAtShare', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});

function compactionShown(sessionId: string, undone: boolean) {
  return (message: HostMessage): message is Extract<HostMessage, { type: 'transcript' }> =>
    message.type === 'transcript' && message.sessionId === sessionId && message.entries.some((entry) => entry.kind === 'compaction' && entry.undone === undone);
}
