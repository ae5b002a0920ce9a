// The API key in a real VS Code, set the way a user sets it (Set API Key, typed into its password
// box), with the engine's LSP trace at its most verbose (`contextLedger.trace.server: verbose`
// and log level Trace, what a user turns on for a bug report). A chat message goes through the
// real engine to the local Messages API server, which must get the key; then every log file of
// code-server's user-data-dir (its logs, the "Context Ledger" output channel where the trace
// goes among them, settings and state) and of the store is searched for the key's bytes.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ChatPanelHandle } from '../../src/extension/chat/chatFeature';
import type { ContextLedgerApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/shared/chatPanelMessages';
import { messagesApiUrl, openChat, recordedRequests, scriptAnswers, sendResultFor, waitForPosted } from './chatHelpers';
import { activateExtension, answerInputBox, filesUnder, keyReceived, runnerEnvironment, waitFor } from './helpers';

function userDataDir(): string {
  const dir = process.env.CONTEXT_LEDGER_TEST_USER_DATA;
  if (!dir) {
    throw new Error('CONTEXT_LEDGER_TEST_USER_DATA is not set: the runner (scripts/run-integration.mjs) names the code-server user-data-dir');
  }
  return dir;
}

function isKeyStatus(message: HostMessage): message is Extract<HostMessage, { type: 'keyStatus' }> {
  return message.type === 'keyStatus';
}

describe('the API key is in no log, trace or store file', function () {
  this.timeout(120_000);
  // Recognisable, and in no other test.
  const key = `sk-ant-never-logged-${randomUUID()}`;
  let api: ContextLedgerApi;
  let handle: ChatPanelHandle;
  let logLevelBefore: string | undefined;

  before(async () => {
    api = await activateExtension();
    await fetch(`${messagesApiUrl()}/_test/reset`, { method: 'POST' });
    logLevelBefore = await vscode.commands.executeCommand<string>('_extensionTests.getLogLevel');
  });

  after(async () => {
    // Leave the window as the other suites expect it: ANTHROPIC_API_KEY, no trace.
    await vscode.commands.executeCommand('contextLedger.clearApiKey');
    await vscode.workspace.getConfiguration('contextLedger').update('trace.server', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('_extensionTests.setLogLevel', logLevelBefore ?? 'info');
  });

  it('Set API Key hands the key to the running engine; the Messages API gets it, no file does', async () => {
    // Trace every engine message with its params, as for a bug report.
    await vscode.workspace.getConfiguration('contextLedger').update('trace.server', 'verbose', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('_extensionTests.setLogLevel', 'trace');

    handle = await openChat();
    const from = handle.posted.length;
    const stored = vscode.commands.executeCommand<boolean>('contextLedger.setApiKey');
    await answerInputBox('Anthropic API Key', key);
    assert.equal(await stored, true, 'Set API Key stored the key');
    const status = await waitForPosted(handle, (message): message is Extract<HostMessage, { type: 'keyStatus' }> => isKeyStatus(message) && message.keyStatus.source === 'secret-storage', 'keyStatus from SecretStorage', 10_000, from);
    assert.equal(JSON.stringify(status).includes(key), false, 'the webview was told where the key is from, not the key');

    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'Answered with the key from SecretStorage.' }] });
    const text = `Which key do you see? ${randomUUID()}`;
    const id = `it-key-${randomUUID()}`;
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId: null, text }), true);
    const { result } = await waitForPosted(handle, sendResultFor(id), 'sendResult', 60_000, from);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));

    // The key went where it belongs: to the Messages API, in its auth header.
    const sent = (await recordedRequests()).filter((request) => request.path === '/v1/messages');
    assert.equal(keyReceived(sent[sent.length - 1]?.headers), key, 'the Messages API got the key set through Set API Key');

    // The trace is on and written: a log file has the send with its params. Without this the
    // search below could pass by looking in the wrong place.
    const logsDir = path.join(userDataDir(), 'logs');
    const traced = await waitFor(
      'a log file with the verbose trace of chat/send',
      async () => filesUnder(logsDir).find((file) => /Context Ledger/.test(path.basename(file)) && hasTracedSend(fs.readFileSync(file, 'utf8'), text)),
      20_000,
      250,
    );
    assert.ok(traced, 'the "Context Ledger" output channel has the trace');

    // Everything VS Code wrote (logs, settings, state), and the store.
    const searched = [...filesUnder(userDataDir()), ...filesUnder(api.storeDir), ...filesUnder(runnerEnvironment().storeDir)];
    assert.ok(searched.length > 5, `searched ${searched.length} files`);
    const needle = Buffer.from(key);
    const holding = searched.filter((file) => fs.readFileSync(file).includes(needle));
    assert.deepEqual(holding, [], 'files that hold the key');
  });

  it('a restarted engine gets the key again', async () => {
    const before = await api.engineInfo();
    await vscode.commands.executeCommand('contextLedger.restartEngine');
    await waitFor('a new engine after Restart Engine', async () => ((await api.engineInfo()).pid !== before.pid ? true : undefined), 15_000, 250);
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'Still the same key.' }] });
    const id = `it-key-restart-${randomUUID()}`;
    const from = handle.posted.length;
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId: null, text: 'After a restart' }), true);
    const { result } = await waitForPosted(handle, sendResultFor(id), 'sendResult after the restart', 60_000, from);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const sent = (await recordedRequests()).filter((request) => request.path === '/v1/messages');
    assert.equal(keyReceived(sent[sent.length - 1]?.headers), key);
  });
});

/** The trace line of a chat/send with its params (verbose), here the message text. */
function hasTracedSend(log: string, text: string): boolean {
  return log.includes("Sending request 'contextLedger/chat/send") && log.includes(text);
}
