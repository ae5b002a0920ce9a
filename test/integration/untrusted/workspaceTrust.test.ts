// Run with Workspace Trust on and the workspace untrusted (scripts/run-integration.mjs, second
// run). The workspace's .vscode/settings.json sets every chat setting a workspace must not
// choose: a model, token limits, a budget, a window, a system prompt and a base URL that is no
// server. The request that reaches the local Messages API server must carry the user's values
// (User settings: the test server's base URL and model "claude-user-model") and the defaults.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { chatDefaults, defaultRetrievalBudgetTokens } from '../../../src/extension/chat/chatSettings';
import type { ContextLedgerApi } from '../../../src/extension/extension';
import { messagesApiUrl, openChat, recordedRequests, scriptAnswers, sendResultFor, waitForPosted } from '../chatHelpers';
import { activateExtension, keyReceived, runnerEnvironment } from '../helpers';

interface SentBody {
  readonly model: string;
  readonly max_tokens: number;
  readonly system?: string | ReadonlyArray<{ readonly text: string }>;
}

function workspaceSettings(): Record<string, unknown> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a folder is open');
  return JSON.parse(fs.readFileSync(path.join(folder.uri.fsPath, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
}

describe('an untrusted workspace', function () {
  this.timeout(90_000);
  let api: ContextLedgerApi;

  before(async () => {
    api = await activateExtension();
    await fetch(`${messagesApiUrl()}/_test/reset`, { method: 'POST' });
  });

  it('is untrusted, and the extension runs in it (limited support)', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the runner opened the workspace untrusted');
    assert.equal((await api.engineInfo()).openError, null);
  });

  it('keeps the store out of the folder the workspace names', () => {
    assert.equal(workspaceSettings()['contextLedger.storePath'], runnerEnvironment().storeDir);
    assert.notEqual(path.resolve(api.storeDir), path.resolve(runnerEnvironment().storeDir));
  });

  it("ignores the workspace's model, token limits, budget, window, system prompt and base URL", async () => {
    // The workspace did set them all, to values a send must not use.
    const fromWorkspace = workspaceSettings();
    for (const name of ['model', 'maxTokens', 'budgetTokens', 'systemPrompt', 'window.kind', 'baseUrl', 'retrieval.budgetTokens']) {
      assert.ok(fromWorkspace[`contextLedger.${name}`] !== undefined, `the workspace sets contextLedger.${name}`);
    }

    const { settings, problems } = api.chat.settings();
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      model: 'claude-user-model',
      maxTokens: chatDefaults.maxTokens,
      baseUrl: messagesApiUrl(),
      budgetTokens: chatDefaults.budgetTokens,
      window: { kind: 'sliding', turns: chatDefaults.window.turns },
      systemPrompt: chatDefaults.systemPrompt,
      timeoutMs: chatDefaults.requestTimeoutSeconds * 1000,
      retrievalBudgetTokens: defaultRetrievalBudgetTokens,
    });

    // And the request that reaches the Messages API server says the same.
    const handle = await openChat();
    const init = handle.posted.find((message) => message.type === 'init');
    assert.ok(init?.type === 'init' && init.snapshot.config.model === 'claude-user-model' && init.snapshot.config.budgetTokens === chatDefaults.budgetTokens, 'the panel shows the user values');
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'Answered under the user settings.' }] });
    const id = `it-untrusted-${randomUUID()}`;
    const from = handle.posted.length;
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId: null, text: 'Which settings apply here?' }), true);
    const { result } = await waitForPosted(handle, sendResultFor(id), 'sendResult', 60_000, from);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.equal(result.receipt?.budgetTokens, chatDefaults.budgetTokens);

    const sent = (await recordedRequests()).filter((request) => request.path === '/v1/messages');
    assert.equal(sent.length, 1, 'the request went to the base URL of the User settings');
    const request = sent[0]!;
    assert.equal(keyReceived(request.headers), process.env.ANTHROPIC_API_KEY);
    const body = request.body as SentBody;
    assert.equal(body.model, 'claude-user-model');
    assert.equal(body.max_tokens, chatDefaults.maxTokens);
    const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map((block) => block.text).join('\n');
    assert.ok(system.includes(chatDefaults.systemPrompt), 'the default system prompt went out');
    assert.ok(!JSON.stringify(body).includes('WORKSPACE PROMPT'), "the workspace's system prompt went out");
  });
});
