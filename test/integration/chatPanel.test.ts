// The chat panel in a real VS Code extension host, with the real engine process, the real
// Anthropic SDK and the local Messages API test server the runner started (its base URL is the
// workspace's contextLedger.baseUrl; ANTHROPIC_API_KEY is a test key). The webview's own DOM is
// driven by the browser test (test/e2e/chatPanel.test.ts); here messages are handed to the
// panel's controller exactly as the webview posts them.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { ChatPanelHandle } from '../../src/extension/chat/chatFeature';
import type { ContextReceipt } from '../../src/core/context/contextTypes';
import type { HostMessage } from '../../src/shared/chatPanelMessages';
import {
  chatTabs,
  messagesApiUrl,
  openChat,
  progressFor,
  recordedRequests,
  replyFor,
  scriptAnswers,
  sendResultFor,
  sendStartedFor,
  sessionEvents,
  waitForPosted,
} from './chatHelpers';
import { activateExtension, uniqueName, waitFor } from './helpers';
import type { ContextLedgerApi } from '../../src/extension/extension';

const streamedAnswer = 'Streaming works: **bold** text, then code.\n\n```ts\nconst answer = 42;\n```\n';

function requestId(label: string): string {
  return `it-${label}-${randomUUID()}`;
}

function isInit(message: HostMessage): message is Extract<HostMessage, { type: 'init' }> {
  return message.type === 'init';
}

// Each test opens (or reveals) the panel and starts the session it works in, so any one of them
// can run alone or in any order.
describe('chat panel', function () {
  this.timeout(90_000);
  let api: ContextLedgerApi;
  let handle: ChatPanelHandle;

  before(async () => {
    api = await activateExtension();
    await fetch(`${messagesApiUrl()}/_test/reset`, { method: 'POST' });
  });
  beforeEach(async () => {
    handle = await openChat();
  });

  /** A new chat with one answered turn, shown in the panel; its session id. */
  async function startSession(label: string): Promise<string> {
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: `Session for ${label}.` }] });
    const id = requestId(`start-${label}`);
    const from = handle.posted.length;
    handle.receive({ type: 'send', requestId: id, sessionId: null, text: `Start: ${label}` });
    const { result } = await waitForPosted(handle, sendResultFor(id), `the first answer of ${label}`, 60_000, from);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    return (await waitForPosted(handle, sendStartedFor(id), 'sendStarted', 30_000, from)).sessionId;
  }

  it('Open Chat opens the panel; its webview script runs under the CSP and says ready', async () => {
    handle = await openChat();
    assert.equal(chatTabs().length, 1, 'one chat tab');
    assert.equal(handle.isReady, true);
    const init = handle.posted.find(isInit);
    assert.ok(init, 'the panel answered ready with init');
    assert.equal(init.snapshot.keyStatus.source, 'environment', 'the key comes from ANTHROPIC_API_KEY');
    assert.equal(init.snapshot.config.model, 'claude-sonnet-5-5');
    assert.equal(init.snapshot.config.budgetTokens, 100_000);
    assert.deepEqual(init.snapshot.config.problems, []);
    assert.deepEqual(
      init.snapshot.sessions.map((session) => session.id),
      (await api.listSessions()).filter((session) => !session.hidden).map((session) => session.id),
      'the picker lists the sessions of the store',
    );
    assert.equal(api.chat.settings().settings.baseUrl, messagesApiUrl(), 'the settings point the SDK at the test server');

    // A second Open Chat reveals the same panel.
    const again = await openChat();
    assert.equal(again, handle);
    assert.equal(chatTabs().length, 1);
  });

  it('a message goes through the engine to the test server: progress streams to the webview, the log has the turn', async () => {
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: streamedAnswer }], chunks: 6, delayMs: 15 });
    const id = requestId('send');
    const from = handle.posted.length;
    const text = 'Hello from the integration test: how do I stream?';
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId: null, text }), true);

    const started = await waitForPosted(handle, sendStartedFor(id), 'sendStarted', 30_000, from);
    const sessionId = started.sessionId;
    const { result } = await waitForPosted(handle, sendResultFor(id), 'sendResult', 60_000, from);
    assert.equal(result.status, 'complete', `error: ${JSON.stringify(result.error)}`);
    assert.equal(result.error, null);
    assert.ok(result.userEventId && result.assistantEventId);
    assert.ok(result.receipt, 'the result has its receipt');

    // Streamed: a receipt first, then the answer in several text deltas.
    const progress = progressFor(handle, id);
    assert.equal(progress[0]?.type, 'receipt');
    const deltas = progress.filter((item): item is Extract<typeof item, { type: 'text' }> => item.type === 'text').map((item) => item.delta);
    assert.ok(deltas.length >= 3, `${deltas.length} text deltas`);
    assert.equal(deltas.join(''), streamedAnswer);

    // The log (read by another process) has the session, the user message, the receipt and the answer.
    const { session, events } = await sessionEvents(sessionId);
    assert.equal(session.name, text, 'a new chat is named after its first message');
    assert.deepEqual(
      events.map((event) => event.kind),
      ['session.started', 'message.user', 'context.receipt', 'message.assistant'],
    );
    const user = events[1];
    const assistant = events[3];
    assert.ok(user?.kind === 'message.user' && user.body.text === text && user.id === result.userEventId);
    assert.ok(assistant?.kind === 'message.assistant' && assistant.id === result.assistantEventId);
    assert.equal(assistant.body.text, streamedAnswer);
    assert.equal(assistant.body.incomplete, undefined);
    assert.equal(assistant.body.model, 'claude-sonnet-5-5');

    // What reached the Messages API: the test key, the model, and the user's text as the last turn.
    const sent = (await recordedRequests()).filter((request) => request.path === '/v1/messages');
    const last = sent[sent.length - 1];
    assert.ok(last, 'the test server got a /v1/messages request');
    const sentKey = last.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(last.headers.authorization ?? '')?.[1];
    assert.equal(sentKey, process.env.ANTHROPIC_API_KEY, 'the key from ANTHROPIC_API_KEY was sent');
    const body = last.body as { model: string; stream: boolean; messages: Array<{ role: string; content: unknown }> };
    assert.equal(body.model, 'claude-sonnet-5-5');
    assert.equal(body.stream, true);
    assert.match(JSON.stringify(body.messages[body.messages.length - 1]), /Hello from the integration test/);

    // The gauge shows the receipt's share of the budget.
    const receipt = result.receipt;
    const percent = Math.round((receipt.totalTokens / receipt.budgetTokens) * 100);
    const label = percent === 0 ? '<1%' : `${percent}%`;
    await waitFor('the gauge to show the receipt', async () => (api.chat.gauge().text === `$(database) ${label}` ? true : undefined), 5_000, 100);
    assert.equal(api.chat.gauge().warning, false);
    assert.equal(api.chat.activeSession().sessionId, sessionId);
  });

  it('a tool call round trip streams toolUse and toolResult, and both are logged', async () => {
    const sessionId = await startSession('tool');
    await scriptAnswers(
      { kind: 'answer', content: [{ type: 'text', text: 'Let me read it.' }, { type: 'tool_use', id: 'toolu_it_readme', name: 'read_file', input: { path: 'README.md' } }] },
      { kind: 'answer', content: [{ type: 'text', text: 'The README describes the sample workspace.' }] },
    );
    const id = requestId('tool');
    handle.receive({ type: 'send', requestId: id, sessionId, text: 'What does the README say?' });
    const { result } = await waitForPosted(handle, sendResultFor(id), 'the result of the tool turn', 60_000);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const progress = progressFor(handle, id);
    assert.deepEqual(
      progress.map((item) => item.type).filter((type, index, all) => type !== 'text' || all[index - 1] !== 'text'),
      ['receipt', 'text', 'toolUse', 'toolResult', 'receipt', 'text'],
    );
    const toolResult = progress.find((item) => item.type === 'toolResult');
    assert.ok(toolResult?.type === 'toolResult' && toolResult.toolUseId === 'toolu_it_readme' && !toolResult.isError);
    assert.match(toolResult.content, /Sample workspace/);
    const { events } = await sessionEvents(sessionId);
    const turn = events.slice(events.findIndex((event) => event.id === result.userEventId));
    assert.deepEqual(
      turn.map((event) => event.kind),
      ['message.user', 'context.receipt', 'message.assistant', 'tool.use', 'tool.result', 'context.receipt', 'message.assistant'],
    );
  });

  it('drops malformed webview messages (logged, ignored): nothing reaches the engine or the API', async () => {
    const sessionId = randomUUID();
    const eventsBefore = (await api.stats()).eventCount;
    const requestsBefore = (await recordedRequests()).length;
    const rejectedBefore = handle.rejectedCount;
    const malformed: unknown[] = [
      null,
      'send',
      42,
      [],
      { type: 'send' },
      { type: 'send', requestId: 'x', sessionId, text: 42 },
      { type: 'send', requestId: 'x', sessionId, text: '   ' },
      { type: 'send', requestId: 'x', sessionId, text: 'hi', apiKey: 'sk-ant-stolen' },
      { type: 'send', requestId: 'x\n', sessionId, text: 'hi' },
      { type: 'send', requestId: 'x', sessionId: { id: sessionId }, text: 'hi' },
      { type: 'renameSession', requestId: 'x', sessionId, name: '' },
      { type: 'runCommand', requestId: 'x', command: 'workbench.action.terminal.new' },
      { type: 'insertCode', requestId: 'x', code: { toString: 'evil' } },
      { type: '__proto__' },
      { type: 'toString' },
    ];
    for (const message of malformed) {
      assert.equal(handle.receive(message), false, `accepted ${JSON.stringify(message)}`);
    }
    assert.equal(handle.rejectedCount, rejectedBefore + malformed.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await api.stats()).eventCount, eventsBefore, 'no event was logged');
    assert.equal((await recordedRequests()).length, requestsBefore, 'no request reached the Messages API');
    assert.ok(!handle.posted.some((message) => message.type === 'sendStarted' && message.requestId === 'x'));

    // The panel still works.
    const id = requestId('refresh');
    assert.equal(handle.receive({ type: 'refreshSessions', requestId: id }), true);
    const reply = await waitForPosted(handle, replyFor(id), 'the refresh reply');
    assert.equal(reply.ok, true);
  });

  it('Stop cancels a streaming answer; what arrived is logged once, marked incomplete', async () => {
    const sessionId = await startSession('stop');
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'The first part arrives, and then nothing more comes.' }], chunks: 4, fault: { kind: 'stall', afterDeltas: 2 } });
    const id = requestId('stop');
    const from = handle.posted.length;
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId, text: 'Tell me a long story' }), true);
    await waitFor('two streamed deltas', async () => (progressFor(handle, id).filter((item) => item.type === 'text').length >= 2 ? true : undefined), 30_000, 50);
    const partial = progressFor(handle, id)
      .map((item) => (item.type === 'text' ? item.delta : ''))
      .join('');
    assert.equal(handle.receive({ type: 'cancel', requestId: id }), true);
    const { result } = await waitForPosted(handle, sendResultFor(id), 'the result of the stopped send', 30_000, from);
    assert.equal(result.status, 'cancelled');
    assert.equal(result.error?.kind, 'cancelled');
    const { events } = await sessionEvents(sessionId);
    const turn = events.slice(events.findIndex((event) => event.id === result.userEventId));
    assert.equal(turn[0]?.kind, 'message.user');
    const answers = turn.filter((event) => event.kind === 'message.assistant');
    assert.equal(answers.length, 1, 'one assistant event for the stopped turn');
    const answer = answers[0];
    assert.equal(answer?.id, result.assistantEventId);
    assert.ok(answer?.kind === 'message.assistant');
    assert.equal(answer.body.incomplete, true);
    assert.equal(answer.body.text, partial);
  });

  it('an API error reaches the panel with its message, action, status and request id, from the log after a reload; Retry answers the logged question', async () => {
    const sessionId = await startSession('error');
    await scriptAnswers({ kind: 'http-error', status: 401, errorType: 'authentication_error', message: 'invalid x-api-key' });
    const id = requestId('error');
    const text = 'This one fails first';
    const from = handle.posted.length;
    handle.receive({ type: 'send', requestId: id, sessionId, text });
    const { result } = await waitForPosted(handle, sendResultFor(id), 'the failed result', 60_000, from);
    assert.equal(result.status, 'failed');
    const error = result.error;
    assert.ok(error, 'the result carries the error');
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.match(error.requestId ?? '', /\S/, 'the API request id is shown');
    const served = (await recordedRequests()).find((request) => request.requestId === error.requestId);
    assert.ok(served, `request id ${error.requestId} is one the test server answered`);
    assert.ok(error.message.length > 0 && error.action.length > 0);
    const logged = (await sessionEvents(sessionId)).events.find((event) => event.kind === 'turn.failed');
    assert.ok(logged?.kind === 'turn.failed' && logged.body.requestId === id && logged.body.error.requestId === error.requestId, 'the failure is a turn.failed event');

    // A webview reloaded now shows the error again, once, after its turn, with its Retry.
    const errors = (await reloadAndInit()).snapshot.transcript.filter((entry) => entry.kind === 'error');
    assert.deepEqual(
      errors.filter((entry) => entry.kind === 'error' && entry.requestId === id).map((entry) => entry.kind === 'error' && entry.retryText),
      [text],
      'the error is shown once from the log, with its Retry',
    );

    // Retry, as the webview's button sends it: the logged question is answered, not asked again.
    const retryId = requestId('retry');
    handle.receive({ type: 'send', requestId: retryId, sessionId, text, retryOfRequestId: id });
    const retried = await waitForPosted(handle, sendResultFor(retryId), 'the retried result', 60_000);
    assert.equal(retried.result.status, 'complete', JSON.stringify(retried.result.error));
    assert.equal(retried.result.userEventId, result.userEventId, 'the same question was answered');
    const echoed = progressFor(handle, retryId)
      .map((item) => (item.type === 'text' ? item.delta : ''))
      .join('');
    assert.match(echoed, /This one fails first/);
    const { events } = await sessionEvents(sessionId);
    assert.equal(events.filter((event) => event.kind === 'message.user' && event.body.text === text).length, 1, 'the question is logged once');
    // Answered now: after a reload the old error box has no Retry any more.
    const after = (await reloadAndInit()).snapshot.transcript.filter((entry) => entry.kind === 'error' && entry.requestId === id);
    assert.deepEqual(after.map((entry) => entry.kind === 'error' && entry.retryText), [null]);
  });

  it('a second send while one runs is refused at once, and the panel sends again after the first ends', async () => {
    const sessionId = await startSession('busy');
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'Slow and steady.' }], chunks: 4, delayMs: 200 });
    const first = requestId('busy-first');
    const second = requestId('busy-second');
    const from = handle.posted.length;
    handle.receive({ type: 'send', requestId: first, sessionId, text: 'first' });
    handle.receive({ type: 'send', requestId: second, sessionId, text: 'second' });
    const refused = await waitForPosted(handle, sendResultFor(second), 'the refused second send', 30_000, from);
    assert.equal(refused.result.error?.kind, 'invalid-request');
    assert.match(refused.result.error?.message ?? '', /still streaming/);
    const done = await waitForPosted(handle, sendResultFor(first), 'the first send', 60_000, from);
    assert.equal(done.result.status, 'complete', JSON.stringify(done.result.error));
    const third = requestId('busy-third');
    handle.receive({ type: 'send', requestId: third, sessionId, text: 'third' });
    assert.equal((await waitForPosted(handle, sendResultFor(third), 'the send after', 60_000, from)).result.status, 'complete');
    const { events } = await sessionEvents(sessionId);
    assert.deepEqual(events.filter((event) => event.kind === 'message.user').map((event) => event.kind === 'message.user' && event.body.text), ['Start: busy', 'first', 'third']);
  });

  it('New Topic appends a topic boundary; Rename appends session.renamed', async () => {
    const sessionId = await startSession('topic');
    const from = handle.posted.length;
    const topicId = await vscode.commands.executeCommand<string>('contextLedger.newTopic', 'Integration topic');
    assert.equal(typeof topicId, 'string');
    const appended = await waitForPosted(handle, (message): message is Extract<HostMessage, { type: 'appendEntries' }> => message.type === 'appendEntries', 'the topic row', 10_000, from);
    assert.deepEqual(appended.entries, [{ kind: 'topic', eventId: topicId, label: 'Integration topic' }]);

    const name = uniqueName('Renamed in the panel');
    const renameId = requestId('rename');
    handle.receive({ type: 'renameSession', requestId: renameId, sessionId, name });
    const reply = await waitForPosted(handle, replyFor(renameId), 'the rename reply');
    assert.equal(reply.ok, true, reply.message ?? '');
    const { session, events } = await sessionEvents(sessionId);
    assert.equal(session.name, name);
    const kinds = events.map((event) => event.kind);
    assert.deepEqual(kinds.slice(-2), ['topic.boundary', 'session.renamed']);
  });

  it('Show Context Receipt reveals the newest receipt in the panel', async () => {
    const sessionId = await startSession('receipt');
    const from = handle.posted.length;
    const receipt = await vscode.commands.executeCommand<ContextReceipt | undefined>('contextLedger.showContextReceipt');
    assert.ok(receipt, 'the command returns the receipt it shows');
    assert.equal(receipt.sessionId, sessionId);
    assert.ok(receipt.parts.some((part) => part.kind === 'prompt'), 'the receipt lists the new message');
    await waitForPosted(handle, (message): message is Extract<HostMessage, { type: 'revealReceipt' }> => message.type === 'revealReceipt', 'revealReceipt', 10_000, from);
  });

  it('a hidden panel comes back with its session (state kept outside the webview)', async () => {
    const sessionId = await startSession('hidden');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the runner opens a workspace folder');
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'README.md'));
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Active, preview: false });
    await waitFor('the panel to notice it is hidden', async () => (!handle.isReady ? true : undefined), 10_000, 50);
    const from = handle.posted.length;
    await vscode.commands.executeCommand('contextLedger.openChat');
    const init = await waitForPosted(handle, isInit, 'init after the panel was shown again', 30_000, from);
    assert.equal(init.snapshot.activeSessionId, sessionId);
    assert.ok(init.snapshot.transcript.some((entry) => entry.kind === 'user' && entry.text === 'Start: hidden'));
    assert.ok(init.snapshot.transcript.some((entry) => entry.kind === 'assistant' && entry.receipt !== null), 'answers carry their receipts');
  });

  it('without an API key the panel says what is missing and offers Set API Key; nothing is sent', async () => {
    const sessionId = await startSession('no-key');
    const saved = process.env.ANTHROPIC_API_KEY;
    // The extension host is this process: without the variable (and with no stored key) there is no key.
    delete process.env.ANTHROPIC_API_KEY;
    try {
      await vscode.commands.executeCommand('contextLedger.clearApiKey');
      const eventsBefore = (await api.stats()).eventCount;
      const requestsBefore = (await recordedRequests()).length;
      const id = requestId('no-key');
      handle.receive({ type: 'send', requestId: id, sessionId, text: 'Is there a key?' });
      const { result } = await waitForPosted(handle, sendResultFor(id), 'the no-key result');
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.kind, 'no-key');
      assert.match(result.error?.message ?? '', /No Anthropic API key/);
      assert.match(result.error?.action ?? '', /Set API Key/);
      assert.equal((await api.stats()).eventCount, eventsBefore, 'nothing was logged');
      assert.equal((await recordedRequests()).length, requestsBefore, 'nothing was sent');
      const init = (await reloadAndInit()).snapshot;
      assert.equal(init.keyStatus.source, null, 'the panel is told there is no key (it shows Set API Key)');
    } finally {
      process.env.ANTHROPIC_API_KEY = saved;
    }
  });

  it('Clear API Key keeps using ANTHROPIC_API_KEY', async () => {
    const sessionId = await startSession('clear-key');
    assert.equal(await vscode.commands.executeCommand('contextLedger.clearApiKey'), true);
    const id = requestId('send-after-clear');
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'still here' }] });
    handle.receive({ type: 'send', requestId: id, sessionId, text: 'still there?' });
    const { result } = await waitForPosted(handle, sendResultFor(id), 'the result after Clear API Key', 60_000);
    assert.equal(result.status, 'complete');
  });

  async function reloadAndInit(): Promise<Extract<HostMessage, { type: 'init' }>> {
    const from = handle.posted.length;
    await vscode.commands.executeCommand('contextLedger.openChat');
    await vscode.commands.executeCommand('workbench.action.webview.reloadWebviewAction');
    return waitForPosted(handle, isInit, 'init after the webview reloaded', 30_000, from);
  }
});
