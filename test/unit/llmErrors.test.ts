import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { MessagesRequest } from '../../src/core/context/contextTypes';
import { AnthropicChatClient, createAnthropicClient } from '../../src/core/llm/anthropicClient';
import { ChatTurnError, classifyChatError, redactSecrets } from '../../src/core/llm/chatErrors';
import type { ModelClientConfig } from '../../src/core/llm/modelTypes';
import type { ChatErrorInfo, ChatErrorKind } from '../../src/core/chat/chatTypes';
import { scripts, type MessagesApiScript } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';

const apiKey = 'sk-ant-test-errors-9f8e7d6c5b4a';
const model = 'claude-sonnet-5-5';
const request: MessagesRequest = { system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Explain the journal.' }] }] };
const never = new AbortController().signal;

async function rejection(promise: Promise<unknown>): Promise<ChatTurnError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChatTurnError, `expected a ChatTurnError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

/** Every ChatErrorInfo says something, says what to do, and never carries the key. */
function assertWellFormed(info: ChatErrorInfo, kind: ChatErrorKind): void {
  assert.equal(info.kind, kind, `kind: ${JSON.stringify(info)}`);
  assert.ok(info.message.length > 10, 'no message');
  assert.ok(info.action.length > 10, 'no action');
  assert.ok(!JSON.stringify(info).includes(apiKey), 'the API key leaked into the error info');
}

describe('classifying model failures (real SDK against the local server)', () => {
  const server = useMessagesApiServer({ apiKeys: [apiKey], models: [model, 'claude-haiku-5-5'], contextWindowTokens: 5000, maxRequestBytes: 64 * 1024, whenIdle: 'error' });
  const makeClient = (overrides: Partial<ModelClientConfig> = {}): AnthropicChatClient =>
    createAnthropicClient({ apiKey, baseUrl: server().baseUrl, model, maxTokens: 512, timeoutMs: 5000, log: () => undefined, ...overrides });

  /** Scripts one answer, runs a turn that must fail, and checks the common fields. */
  async function failWith(script: MessagesApiScript | null, kind: ChatErrorKind, overrides: Partial<ModelClientConfig> = {}): Promise<{ info: ChatErrorInfo; error: ChatTurnError }> {
    if (script) {
      server().script(script);
    }
    const error = await rejection(makeClient(overrides).streamTurn(request, { signal: never }));
    const info = classifyChatError(error);
    assertWellFormed(info, kind);
    return { info, error };
  }

  it('no key: kind no-key, and nothing is sent', async () => {
    const client = makeClient({ apiKey: null });
    assert.equal(client.hasKey, false);
    const error = await rejection(client.streamTurn(request, { signal: never }));
    const info = classifyChatError(error);
    assertWellFormed(info, 'no-key');
    assert.match(info.action, /Set API Key/);
    assert.equal(info.requestId, null);
    assert.equal(info.status, null);
    assert.equal(classifyChatError(await rejection(makeClient({ apiKey: '  ' }).countTokens(request))).kind, 'no-key');
    assert.equal(server().requests.length, 0);
  });

  it('401 from a rejected key (the server checks keys), not retried', async () => {
    const { info } = await failWith(null, 'auth', { apiKey: 'sk-ant-wrong-key-000000' });
    assert.equal(info.status, 401);
    assert.match(info.message, /key was rejected/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
    assert.equal(server().messageRequests().length, 1);
    assert.ok(!JSON.stringify(info).includes('sk-ant-wrong-key-000000'));
  });

  it('403 permission', async () => {
    const { info } = await failWith(scripts.forbidden(), 'permission');
    assert.equal(info.status, 403);
    assert.match(info.action, /model access/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('404 for a model that does not exist names the model', async () => {
    const { info } = await failWith(null, 'model-not-found', { model: 'claude-nonexistent-9' });
    assert.equal(info.status, 404);
    assert.match(info.message, /The model "claude-nonexistent-9" was not found/);
    assert.match(info.action, /"Model" setting/);
    assert.equal(server().messageRequests().length, 1, 'a 404 was retried');
  });

  it('400 prompt too long, scripted and from the context window', async () => {
    const scripted = await failWith(scripts.promptTooLong(210_000, 200_000), 'prompt-too-long');
    assert.match(scripted.info.message, /210000 tokens > 200000 maximum/);
    assert.equal(scripted.info.status, 400);
    server().reset();
    const long: MessagesRequest = { system: '', messages: [{ role: 'user', content: [{ type: 'text', text: 'word '.repeat(6000) }] }] };
    const error = await rejection(makeClient().streamTurn(long, { signal: never }));
    const info = classifyChatError(error);
    assertWellFormed(info, 'prompt-too-long');
    assert.match(info.message, /prompt is too long: \d+ tokens > 5000 maximum/);
    assert.match(info.action, /window|budget/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('413 request too large, scripted and from the body size', async () => {
    const scripted = await failWith(scripts.requestTooLarge(), 'request-too-large');
    assert.equal(scripted.info.status, 413);
    server().reset();
    const huge: MessagesRequest = { system: '', messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(100 * 1024) }] }] };
    const info = classifyChatError(await rejection(makeClient().streamTurn(huge, { signal: never })));
    assertWellFormed(info, 'request-too-large');
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('429 rate limited after the retries, with the retry-after the API asked for', async () => {
    const { info } = await failWith(scripts.rateLimited(0.05), 'rate-limited', { maxRetries: 0 });
    assert.equal(info.status, 429);
    assert.match(info.message, /wait 0\.05 s/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('529 overloaded', async () => {
    const { info } = await failWith(scripts.overloaded(), 'overloaded', { maxRetries: 0 });
    assert.equal(info.status, 529);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('500 internal server error, retried by the SDK first', async () => {
    server().script(scripts.httpError(500, 'api_error', 'Internal server error', { retryAfterSeconds: 0.02 }), scripts.httpError(500, 'api_error', 'Internal server error', { retryAfterSeconds: 0.02 }));
    const { info } = await failWith(null, 'server', { maxRetries: 1 });
    assert.equal(info.status, 500);
    assert.equal(server().messageRequests().length, 2);
    assert.equal(info.requestId, server().messageRequests()[1]?.requestId);
  });

  it('an invalid request that is our bug says so', async () => {
    const { info } = await failWith(scripts.invalidRequest('messages.0.content.0.text: Field required'), 'invalid-request');
    assert.match(info.action, /bug/);
  });

  it('network: connection refused (ECONNREFUSED)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await rejection(makeClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 }).streamTurn(request, { signal: never }));
    const info = classifyChatError(error);
    assertWellFormed(info, 'network');
    assert.match(info.message, /ECONNREFUSED/);
    assert.match(info.action, /Base URL/);
    assert.equal(info.requestId, null);
    assert.equal(info.status, null);
  });

  it('network: the connection is reset before an answer, and the SDK retried it', async () => {
    server().script(scripts.drop(), scripts.drop());
    const { info } = await failWith(null, 'network', { maxRetries: 1 });
    assert.equal(server().messageRequests().length, 2);
    assert.equal(info.status, null);
  });

  it('timeout: no response at all within the cap', { timeout: 10_000 }, async () => {
    const { info, error } = await failWith(scripts.hang(), 'timeout', { timeoutMs: 300 });
    assert.equal(error.abortReason, 'timeout');
    assert.equal(error.partialText, '');
    assert.match(info.message, /0\.3 s/);
  });

  it('an error event inside the 200 stream keeps the partial text and the request id', async () => {
    const { info, error } = await failWith(scripts.streamError('Alpha beta gamma delta', { chunks: 4, afterDeltas: 2 }), 'stream-error');
    // 22 characters in 4 deltas of 6: two deltas sent before the error event.
    assert.equal(error.partialText, 'Alpha beta g');
    assert.equal(error.phase, 'stream');
    assert.equal(info.status, 200);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
    assert.match(info.message, /overloaded_error: Overloaded/);
    assert.match(info.message, /12 characters received so far are kept, marked incomplete/);
    assert.equal(server().messageRequests().length, 1, 'a failure mid-stream was retried');
  });

  it('a stream torn mid-answer (socket destroyed) is a cut, with the partial text and the request id', async () => {
    const { info, error } = await failWith(scripts.tornStream('One two three four five six', { chunks: 6, afterDeltas: 3, delayMs: 2 }), 'stream-cut');
    // 27 characters in 6 deltas of 5: three sent before the socket was destroyed.
    assert.equal(error.partialText, 'One two three f');
    assert.equal(info.status, 200);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
    assert.match(info.message, /dropped in the middle of the answer/);
    assert.equal(server().messageRequests().length, 1);
  });

  it('a stream that ends without message_stop is a cut too', async () => {
    const { error, info } = await failWith(scripts.tornStream('Half of an answer here', { chunks: 4, afterDeltas: 2, clean: true }), 'stream-cut');
    assert.equal(error.partialText, 'Half of an a');
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('a torn stream keeps the tool calls that completed before the cut', async () => {
    server().script(scripts.answer([{ type: 'tool_use', id: 'toolu_done', name: 'list_files', input: { dir: 'src' } }, { type: 'text', text: 'and then some more text' }], { chunks: 2, fault: { kind: 'tear', afterDeltas: 4 } }));
    const error = await rejection(makeClient().streamTurn(request, { signal: never }));
    assert.deepEqual(error.partialToolUses, [{ type: 'tool_use', id: 'toolu_done', name: 'list_files', input: { dir: 'src' } }]);
    // Deltas: '' and two halves of the tool input JSON, then one half of the text.
    assert.equal(error.partialText, 'and then som');
    assert.equal(classifyChatError(error).kind, 'stream-cut');
  });

  it('cancelled before any answer (while the request hangs)', { timeout: 10_000 }, async () => {
    server().script(scripts.hang());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(makeClient().streamTurn(request, { signal: controller.signal }));
    const info = classifyChatError(error);
    assertWellFormed(info, 'cancelled');
    assert.equal(info.message, 'Stopped before an answer arrived.');
  });

  it('cancelled while the SDK waits to retry', { timeout: 10_000 }, async () => {
    server().script(scripts.rateLimited(20));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await rejection(makeClient().streamTurn(request, { signal: controller.signal }));
    // Long before the 20 s retry-after the SDK was waiting out.
    assert.ok(Date.now() - started < 5000);
    const info = classifyChatError(error);
    assert.equal(info.kind, 'cancelled');
    assert.equal(server().messageRequests().length, 1);
    // The 429 that made it wait is named, with its request id.
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
    assert.match(info.message, /429, rate limited.*asked to wait 20 s/);
  });

  it('a throwing onText handler is reported as our failure, not as a cut stream', async () => {
    server().script(scripts.text('some text to stream', { chunks: 4 }));
    const error = await rejection(
      makeClient().streamTurn(request, {
        signal: never,
        onText: () => {
          throw new Error('panel went away');
        },
      }),
    );
    assert.equal(error.phase, 'handler');
    const info = classifyChatError(error);
    assertWellFormed(info, 'unknown');
    assert.match(info.message, /panel went away/);
  });

  it('never shows the key, even when an API message echoes it', async () => {
    server().script(scripts.invalidRequest(`bad header x-api-key: ${apiKey}`), scripts.httpError(400, 'invalid_request_error', `key ${apiKey.slice(0, 12)}… and raw ${apiKey}`));
    const first = await rejection(makeClient().streamTurn(request, { signal: never }));
    const second = await rejection(makeClient().streamTurn(request, { signal: never }));
    for (const error of [first, second]) {
      const info = classifyChatError(error);
      assertWellFormed(info, 'invalid-request');
      assert.ok(!error.message.includes(apiKey));
      assert.match(info.message, /\[redacted\]/);
    }
  });

  it('classifies raw SDK errors too, and takes the partial text from the caller', () => {
    const headers = new Headers({ 'request-id': 'req_raw_1', 'retry-after': '7' });
    const rateLimit = classifyChatError(Anthropic.APIError.generate(429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, undefined, headers));
    assert.deepEqual([rateLimit.kind, rateLimit.status, rateLimit.requestId], ['rate-limited', 429, 'req_raw_1']);
    assert.match(rateLimit.message, /wait 7 s/);
    const aborted = classifyChatError(new Anthropic.APIUserAbortError(), 'partial words');
    assert.equal(aborted.kind, 'cancelled');
    assert.match(aborted.message, /13 characters/);
    const cut = classifyChatError(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), 'abc');
    assert.equal(cut.kind, 'stream-cut');
    assert.equal(classifyChatError(new Error('something else')).kind, 'unknown');
  });

  it('redactSecrets removes keys, bearer tokens and given secrets', () => {
    assert.equal(redactSecrets('key sk-ant-api03-abcDEF_123-xyz here'), 'key sk-ant-[redacted] here');
    assert.equal(redactSecrets('Authorization: Bearer abc.def-123'), 'Authorization: Bearer [redacted]');
    assert.equal(redactSecrets('{"x-api-key": "plainkey123"}'), '{"x-api-key": "[redacted]"}');
    assert.equal(redactSecrets('my own-secret-value!', ['own-secret-value']), 'my [redacted]!');
  });
});
