import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChatProgress, ChatSettings } from '../../src/core/chat/chatTypes';
import { Ledger } from '../../src/core/ledger';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { ChatService } from '../../src/server/chatService';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { scripts } from '../fixtures/messagesApiScripts';
import { createTestChatService } from '../fixtures/chatService';
import { makeTempDir } from '../fixtures/tempDir';

// A chat turn end to end in Node: the real log (sql.js + journal), the real context assembly,
// the real @anthropic-ai/sdk against the local Messages API server, the real workspace tools.
describe('chat turns through the engine', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  let progress: ChatProgress[];
  let chat: ChatService;
  let settings: ChatSettings;
  beforeEach(async () => {
    temp = makeTempDir();
    const workspaceDir = path.join(temp.dir, 'workspace');
    fs.mkdirSync(workspaceDir);
    fs.writeFileSync(path.join(workspaceDir, 'notes.md'), 'The launch code word is PELICAN.\n');
    fs.writeFileSync(path.join(workspaceDir, '.env'), 'ANTHROPIC_API_KEY=sk-do-not-leak\n');
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'chat' } }]);
    progress = [];
    const workspace = new WorkspaceFiles(workspaceDir);
    chat = createTestChatService(ledger, { workspace, apiKey: () => sendKey, onProgress: (_requestId, item) => progress.push(item) });
    settings = { model: 'claude-test', maxTokens: 512, baseUrl: server().baseUrl, budgetTokens: 20_000, window: { kind: 'full' }, systemPrompt: 'You are a test assistant.', timeoutMs: 10_000 };
  });
  afterEach(() => {
    ledger.close();
    temp.remove();
  });

  // The key the engine holds for the send (it reaches the engine beside chat/send, not in it).
  let sendKey: string | null = 'test-key';
  const send = (text: string, overrides: Partial<{ apiKey: string | null; requestId: string; settings: ChatSettings; retryOfEventId: string }> = {}) => {
    sendKey = overrides.apiKey === undefined ? 'test-key' : overrides.apiKey;
    return chat.send(ledger, {
      requestId: overrides.requestId ?? `r-${Math.random()}`,
      sessionId: 's',
      text,
      keyVersion: 1,
      settings: overrides.settings ?? settings,
      ...(overrides.retryOfEventId ? { retryOfEventId: overrides.retryOfEventId } : {}),
    });
  };
  const kinds = () => ledger.readSession('s').map((event) => event.kind);
  const assistantEvents = () => ledger.readSession('s').filter((event) => event.kind === 'message.assistant');

  it('streams an answer, logs the user message, the receipt and one assistant message', async () => {
    server().script(scripts.text('Hello from the test server, in pieces.', { chunks: 5 }));
    const result = await send('Hi there');
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.deepEqual(kinds(), ['session.started', 'message.user', 'context.receipt', 'message.assistant']);
    const deltas = progress.filter((item) => item.type === 'text').map((item) => (item.type === 'text' ? item.delta : ''));
    assert.ok(deltas.length >= 2, 'the answer streamed in several deltas');
    assert.equal(deltas.join(''), 'Hello from the test server, in pieces.');
    const [assistant] = assistantEvents();
    assert.equal(assistant?.kind === 'message.assistant' && assistant.body.text, 'Hello from the test server, in pieces.');
    assert.equal(result.assistantEventId, assistant?.id);
    assert.ok(result.receipt && result.receipt.totalTokens <= settings.budgetTokens);
    // The request sent is what the log holds: system prompt and the user's words.
    const sent = server().messageRequests()[0]!.body as { system: unknown; messages: Array<{ role: string }> };
    assert.match(JSON.stringify(sent.system), /You are a test assistant/);
    assert.deepEqual(sent.messages.map((message) => message.role), ['user']);
    assert.match(JSON.stringify(sent.messages), /Hi there/);
  });

  it("states the user's budget in the receipt, also when the exact count made it re-assemble smaller", async () => {
    // Digits: the offline estimate is far below the test server's exact count (one per digit),
    // so the exact count is over the budget and the engine re-assembles aiming lower.
    server().script(scripts.text('Short.'));
    const result = await send('Hi', { settings: { ...settings, budgetTokens: 1000, systemPrompt: '1234567890 '.repeat(90) } });
    assert.ok(result.receipt && result.receipt.totalTokens > 1000, `exact total ${result.receipt?.totalTokens} is over the budget`);
    assert.ok(result.receipt, JSON.stringify(result.error));
    assert.equal(result.receipt.budgetTokens, 1000, 'the budget shown is the one set, not the one re-assembly aimed at');
  });

  it('runs a tool call round trip, with the file fenced as data and secrets refused', async () => {
    server().script(scripts.toolUse('read_file', { path: 'notes.md' }, { id: 'toolu_1', text: 'Let me look.' }), scripts.toolUse('read_file', { path: '.env' }, { id: 'toolu_2' }), scripts.text('The code word is PELICAN.'));
    const result = await send('What is the code word?');
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.deepEqual(kinds().slice(1), [
      'message.user',
      'context.receipt',
      'message.assistant',
      'tool.use',
      'tool.result',
      'context.receipt',
      'message.assistant',
      'tool.use',
      'tool.result',
      'context.receipt',
      'message.assistant',
    ]);
    const results = ledger.readSession('s').filter((event) => event.kind === 'tool.result');
    assert.match(JSON.stringify(results[0]?.body), /PELICAN/);
    assert.match(JSON.stringify(results[0]?.body), /provided as data/);
    assert.equal(results[1]?.kind === 'tool.result' && results[1].body.isError, true);
    assert.doesNotMatch(JSON.stringify(server().requests.map((request) => request.body)), /sk-do-not-leak/);
    // Each follow-up request answered every tool_use with its tool_result.
    const third = server().messageRequests()[2]!.body as { messages: Array<{ role: string; content: Array<{ type: string; tool_use_id?: string }> }> };
    const resultIds = third.messages.flatMap((message) => message.content.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id));
    assert.deepEqual(resultIds, ['toolu_1', 'toolu_2']);
    assert.equal(progress.filter((item) => item.type === 'toolResult').length, 2);
  });

  it('keeps a cut answer once, marked incomplete, when the stream is torn', async () => {
    server().script(scripts.tornStream('This answer will be cut somewhere in the middle.', { chunks: 6, afterDeltas: 3 }));
    const result = await send('Tell me something long');
    assert.equal(result.status, 'incomplete');
    assert.equal(result.error?.kind, 'stream-cut');
    assert.ok(result.error?.requestId, 'the request id reaches the user');
    const answers = assistantEvents();
    assert.equal(answers.length, 1, 'exactly one assistant event for the turn');
    assert.equal(answers[0]?.kind === 'message.assistant' && answers[0].body.incomplete, true);
    assert.ok(answers[0]?.kind === 'message.assistant' && answers[0].body.text.length > 0);
    assert.ok('This answer will be cut somewhere in the middle.'.startsWith(answers[0]?.kind === 'message.assistant' ? answers[0].body.text : 'x'));
  });

  it('stops on cancel mid-stream, keeping what arrived', async () => {
    server().script(scripts.stall('A slow answer that never finishes.', { chunks: 4, afterDeltas: 1 }));
    const requestId = 'cancel-me';
    const pending = send('Go slowly', { requestId });
    while (!progress.some((item) => item.type === 'text')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(chat.cancel(requestId), true);
    const result = await pending;
    assert.equal(result.status, 'cancelled');
    assert.equal(result.error?.kind, 'cancelled');
    assert.equal(assistantEvents().length, 1);
    assert.equal(assistantEvents()[0]?.kind === 'message.assistant' && assistantEvents()[0]?.body.incomplete, true);
  });

  it('caps the wall time of a turn', async () => {
    server().script(scripts.hang());
    const result = await send('Anyone there?', { settings: { ...settings, timeoutMs: 400 } });
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.kind, 'timeout');
    assert.equal(assistantEvents().length, 0);
  });

  const httpFailures = [
    ['auth', scripts.unauthorized()],
    ['permission', scripts.forbidden()],
    ['model-not-found', scripts.modelNotFound('claude-test')],
    ['prompt-too-long', scripts.promptTooLong()],
    ['request-too-large', scripts.requestTooLarge()],
    ['invalid-request', scripts.invalidRequest('messages: roles must alternate')],
  ] as const;
  for (const [kind, script] of httpFailures) {
    it(`reports ${kind} clearly and loses no logged turn`, async () => {
      server().script(script);
      const result = await send(`trigger ${kind}`);
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.kind, kind);
      assert.ok(result.error?.message && result.error.action, 'a message and what to do');
      assert.ok(result.error?.requestId, 'the request id');
      assert.doesNotMatch(`${result.error?.message} ${result.error?.action}`, /test-key/);
      assert.deepEqual(kinds(), ['session.started', 'message.user', 'context.receipt', 'turn.failed']);
      const logged = ledger.readSession('s').at(-1);
      assert.equal(logged?.kind === 'turn.failed' && logged.body.error.requestId, result.error?.requestId, 'the failure is logged with its request id');
      assert.equal(result.failureEventId, logged?.id);
    });
  }

  it('lets the SDK retry 429 and 529 (honouring retry-after) without retries of its own', async () => {
    // 1.2 s is longer than the SDK's own first backoff (at most 0.5 s): a retry sooner ignored it.
    server().script(scripts.rateLimited(1.2), scripts.overloaded(0.05), scripts.text('Third time lucky.'));
    const result = await send('Busy?');
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const attempts = server().messageRequests();
    assert.deepEqual(attempts.map((attempt) => attempt.retryCount), [0, 1, 2], 'one attempt and two SDK retries, no more, and none of our own');
    const waitedMs = attempts[1]!.receivedMs - attempts[0]!.receivedMs;
    assert.ok(waitedMs >= 1150, `the retry came ${waitedMs} ms after the 429 that asked for 1.2 s`);
  });

  it('reports an error event inside a 200 stream', async () => {
    server().script(scripts.streamError('Partial before the overload', { chunks: 4, afterDeltas: 2 }));
    const result = await send('Overload me');
    assert.equal(result.error?.kind, 'stream-error');
    assert.match(result.error?.message ?? '', /overload/i);
    assert.equal(result.status, 'incomplete');
    assert.equal(assistantEvents().length, 1, 'the partial answer is logged once');
  });

  it('retries a failed question without logging it twice', async () => {
    server().script(scripts.unauthorized(), scripts.text('Now it works.'));
    const failedTurn = await send('Will this fail?');
    assert.equal(failedTurn.status, 'failed');
    assert.ok(failedTurn.userEventId);
    const retried = await send('Will this fail?', { retryOfEventId: failedTurn.userEventId });
    assert.equal(retried.status, 'complete', JSON.stringify(retried.error));
    assert.equal(retried.userEventId, failedTurn.userEventId);
    assert.equal(ledger.readSession('s').filter((event) => event.kind === 'message.user').length, 1);
    const sent = JSON.stringify(server().messageRequests()[1]!.body);
    assert.equal(sent.split('Will this fail?').length - 1, 1, 'the question went out once');
    const bogus = await send('x', { retryOfEventId: 'not-an-event' });
    assert.equal(bogus.error?.kind, 'invalid-request');
  });

  it('says what is missing without a key, and logs nothing', async () => {
    const result = await send('No key', { apiKey: null });
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.kind, 'no-key');
    assert.match(result.error?.action ?? '', /Set API Key/);
    assert.deepEqual(kinds(), ['session.started']);
    assert.equal(server().requests.length, 0);
  });

  it('refuses a second send on a session that is still answering', async () => {
    server().script(scripts.stall('slow', { afterDeltas: 1 }));
    const first = send('first', { requestId: 'first' });
    while (!progress.some((item) => item.type === 'text')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await assert.rejects(send('second'), /already answering/);
    chat.cancel('first');
    await first;
  });
});
