// Open Memory Panel in a real extension host, on the engine the extension runs: the command opens
// the panel's webview on the session it names, the webview's messages are checked (malformed
// ones dropped, never passed on), and a request from the webview is answered from the engine.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { MemoryPanel } from '../../src/extension/memory/memoryPanel';
import { generateCodingSession } from '../fixtures/codingSessions';
import { activateExtension, jsonLines, runCli, runnerEnvironment } from './helpers';

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('memory panel', () => {
  it('opens on a session, drops malformed messages and answers the webview from the engine', async () => {
    await activateExtension();
    const session = generateCodingSession(Date.now() % 100_000, 6);
    const appended = await runCli(runnerEnvironment(), ['append'], jsonLines(session.drafts));
    assert.equal(appended.code, 0, appended.stderr);
    const panel = await vscode.commands.executeCommand<MemoryPanel>('contextLedger.openMemoryPanel', { id: session.sessionId });
    assert.ok(panel, 'the command returns the panel');
    const memoryTab = () => vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((candidate) => candidate.input instanceof vscode.TabInputWebview && candidate.input.viewType.includes('contextLedger.memory'));
    await until(() => memoryTab() !== undefined, 'the memory panel tab');
    assert.equal(memoryTab()?.label, 'Context Ledger Memory');
    // The webview says ready; the extension answers with init on the session named.
    await until(() => panel.posted.some((message) => message.type === 'init'), 'init');
    const init = panel.posted.find((message) => message.type === 'init');
    assert.equal(init?.type === 'init' ? init.sessionId : null, session.sessionId);

    assert.equal(panel.receive({ type: 'runCommand', requestId: 'r1', command: 'workbench.action.terminal.new' }), false);
    assert.equal(panel.receive({ type: 'commit', requestId: 'r2', previewId: 'p', body: { summary: 'made up' } }), false);
    assert.equal(panel.rejectedCount, 2);

    assert.equal(panel.receive({ type: 'overview', requestId: 'r3', sessionId: session.sessionId }), true);
    await until(() => panel.posted.some((message) => message.type === 'reply' && message.requestId === 'r3'), 'the overview reply');
    const reply = panel.posted.find((message) => message.type === 'reply' && message.requestId === 'r3');
    assert.ok(reply?.type === 'reply' && reply.ok);
    assert.equal((reply.value as { eventCount: number }).eventCount, session.drafts.length);
    // A commit of a preview the extension does not hold is refused in words.
    panel.receive({ type: 'commit', requestId: 'r4', previewId: 'not-a-preview' });
    await until(() => panel.posted.some((message) => message.type === 'reply' && message.requestId === 'r4'), 'the commit reply');
    const refused = panel.posted.find((message) => message.type === 'reply' && message.requestId === 'r4');
    assert.ok(refused?.type === 'reply' && !refused.ok);
    assert.match(refused.error.message, /this preview is gone/);
    panel.dispose();
  });
});
