// Compact Session… and Undo Last Compaction in a real extension host, on the engine the
// extension runs: the preview opens as a read-only document, the commit lands in the store
// (seen by the CLI's context), and the undo takes it back.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { generateCodingSession } from '../fixtures/codingSessions';
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
