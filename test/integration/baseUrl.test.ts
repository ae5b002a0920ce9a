// contextLedger.baseUrl in a remote window (code-server is one: the extension host runs on the
// server). The runner puts the test server's URL in User settings and a decoy, a port nothing
// listens on, in the workspace's settings: an application-scoped setting takes the User value
// and never the workspace's, even in a trusted workspace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { messagesApiUrl } from './chatHelpers';
import { activateExtension } from './helpers';

describe('contextLedger.baseUrl', () => {
  it('is read from User settings in a remote window; the workspace value is not used', async () => {
    const api = await activateExtension();
    assert.ok(vscode.env.remoteName, `a remote window (remoteName ${vscode.env.remoteName}, appHost ${vscode.env.appHost})`);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const workspaceValue = (JSON.parse(fs.readFileSync(path.join(folder.uri.fsPath, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>)['contextLedger.baseUrl'];
    assert.ok(typeof workspaceValue === 'string' && workspaceValue !== messagesApiUrl(), 'the workspace sets a base URL of its own');
    assert.equal(vscode.workspace.getConfiguration('contextLedger').inspect('baseUrl')?.globalValue, messagesApiUrl());
    assert.equal(api.chat.settings().settings.baseUrl, messagesApiUrl());
  });

  it('refuses plain http off this machine: not used, and said', async () => {
    const api = await activateExtension();
    const configuration = vscode.workspace.getConfiguration('contextLedger');
    try {
      await configuration.update('baseUrl', 'http://gateway.example:8080', vscode.ConfigurationTarget.Global);
      const { settings, problems } = api.chat.settings();
      assert.equal(settings.baseUrl, null, 'the refused URL is not used');
      assert.deepEqual(problems, [
        'contextLedger.baseUrl is not used: plain http is allowed only to this machine (127.0.0.1, localhost, [::1]), not to gateway.example; use https; requests go to the Anthropic API',
      ]);
    } finally {
      await configuration.update('baseUrl', messagesApiUrl(), vscode.ConfigurationTarget.Global);
    }
    assert.equal(api.chat.settings().settings.baseUrl, messagesApiUrl());
  });
});
