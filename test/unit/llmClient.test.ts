import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MessagesRequest, ToolUseBlock } from '../../src/core/context/contextTypes';
import { AnthropicChatClient, createAnthropicClient } from '../../src/core/llm/anthropicClient';
import { ChatTurnError, classifyChatError } from '../../src/core/llm/chatErrors';
import { createModelPort } from '../../src/core/llm/modelPort';
import type { ModelClientConfig, ToolDefinition } from '../../src/core/llm/modelTypes';
import { countRequestTokens } from '../fixtures/messagesApiRules';
import { scripts } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';

const apiKey = 'sk-ant-test-0123456789abcdef';
const model = 'claude-sonnet-5-5';

const readFileTool: ToolDefinition = {
  name: 'read_file',
  description: 'Read a file of the workspace.',
  input_schema: { type: 'object', properties: { path: { type: 'string' }, lines: { type: 'array', items: { type: 'integer' } } }, required: ['path'] },
};

function userText(text: string): MessagesRequest['messages'][number] {
  return { role: 'user', content: [{ type: 'text', text }] };
}

/** Rejection of `promise` as a ChatTurnError, and how long it took to settle. */
async function failure(promise: Promise<unknown>): Promise<{ error: ChatTurnError; elapsedMs: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChatTurnError, `expected a ChatTurnError, got ${String(error)}`);
    return { error, elapsedMs: Date.now() - started };
  }
  assert.fail('the call succeeded');
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) {
      assert.fail('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('model client against the local Messages API server', () => {
  const server = useMessagesApiServer({ whenIdle: 'error' });
  const logLines: string[] = [];
  const makeClient = (overrides: Partial<ModelClientConfig> = {}): AnthropicChatClient =>
    createAnthropicClient({
      apiKey,
      baseUrl: server().baseUrl,
      model,
      maxTokens: 1024,
      timeoutMs: 10_000,
      logLevel: 'debug',
      log: (level, message) => logLines.push(`${level} ${message}`),
      ...overrides,
    });
  const never = new AbortController().signal;
  after(() => {
    // The SDK logged at debug level throughout: the key never reached a log line.
    assert.ok(logLines.length > 0, 'the SDK logged nothing at debug level');
    assert.ok(!logLines.some((line) => line.includes(apiKey)), 'the API key appeared in a log line');
  });

  it('streams a text answer in order and completely', async () => {
    const text = 'The journal is the source of truth; projections are rebuilt from it.';
    server().script(scripts.text(text, { chunks: 6, delayMs: 5 }));
    const deltas: string[] = [];
    const result = await makeClient().streamTurn({ system: 'Be brief.', messages: [userText('What is the journal?')] }, { signal: never, onText: (delta) => deltas.push(delta) });
    assert.equal(deltas.length, 6);
    assert.equal(deltas.join(''), text);
    assert.equal(result.text, text);
    assert.deepEqual(result.content, [{ type: 'text', text }]);
    assert.deepEqual(result.toolUses, []);
    assert.equal(result.stopReason, 'end_turn');
    const [record] = server().messageRequests();
    assert.ok(record);
    assert.equal(result.requestId, record.requestId);
    assert.equal(result.usage.inputTokens, countRequestTokens(record.body));
    assert.ok(result.usage.outputTokens > 0);
    assert.equal(result.model, model);
  });

  it('sends exactly the assembled request: the recorded body equals what was sent', async () => {
    server().script(scripts.text('Done.'));
    const request: MessagesRequest = {
      system: 'You answer about this workspace.',
      messages: [
        userText('Open the README.'),
        { role: 'assistant', content: [{ type: 'text', text: 'Reading it.' }, { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'README.md' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '# Context Ledger' }, { type: 'text', text: 'Summarize it.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'It is a ledger.' }] },
        userText('And the license?'),
      ],
    };
    await makeClient({ maxTokens: 333 }).streamTurn(request, { signal: never, tools: [readFileTool] });
    const [record] = server().messageRequests();
    assert.ok(record);
    assert.deepEqual(record.body, {
      model,
      max_tokens: 333,
      system: 'You answer about this workspace.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Open the README.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Reading it.' }, { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'README.md' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '# Context Ledger' }, { type: 'text', text: 'Summarize it.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'It is a ledger.' }] },
        { role: 'user', content: [{ type: 'text', text: 'And the license?' }] },
      ],
      tools: [readFileTool],
      stream: true,
    });
    assert.equal(record.headers.authorization, `Bearer ${apiKey}`);
    assert.ok(record.headers['anthropic-version']);
    assert.equal(record.retryCount, 0);
  });

  it('leaves out an empty system prompt and an empty tool list', async () => {
    server().script(scripts.text('Hi.'));
    await makeClient().streamTurn({ system: '', messages: [userText('Hello')] }, { signal: never, tools: [] });
    const [record] = server().messageRequests();
    assert.deepEqual(record?.body, { model, max_tokens: 1024, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }], stream: true });
  });

  it('runs a tool round: streams the tool_use, sends the tool_result, gets the final answer', async () => {
    const input = { path: 'src/core/ledger.ts', lines: [1, 40] };
    server().script(scripts.toolUse('read_file', input, { id: 'toolu_read_1', text: 'Let me read it.', chunks: 4, delayMs: 2 }), scripts.text('It opens the store and replays the journal.', { chunks: 3 }));
    const client = makeClient();
    const calls: ToolUseBlock[] = [];
    const texts: string[] = [];
    const first = await client.streamTurn({ system: '', messages: [userText('What does ledger.ts do?')] }, { signal: never, tools: [readFileTool], onText: (delta) => texts.push(delta), onToolUse: (block) => calls.push(block) });
    assert.equal(first.stopReason, 'tool_use');
    assert.deepEqual(calls, [{ type: 'tool_use', id: 'toolu_read_1', name: 'read_file', input }]);
    assert.deepEqual(first.toolUses, calls);
    assert.equal(texts.join(''), 'Let me read it.');
    assert.deepEqual(first.content, [{ type: 'text', text: 'Let me read it.' }, { type: 'tool_use', id: 'toolu_read_1', name: 'read_file', input }]);

    const second = await client.streamTurn(
      {
        system: '',
        messages: [
          userText('What does ledger.ts do?'),
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_read_1', content: 'export class Ledger { open() {} }' }] },
        ],
      },
      { signal: never, tools: [readFileTool] },
    );
    assert.equal(second.stopReason, 'end_turn');
    assert.equal(second.text, 'It opens the store and replays the journal.');
    const records = server().messageRequests();
    assert.equal(records.length, 2);
    assert.deepEqual(records.map((record) => record.status), [200, 200], 'the server accepted both requests (every tool_use answered)');
    assert.notEqual(first.requestId, second.requestId);
  });

  it('is rejected like the real API when a tool_use is left unanswered, and does not retry the 400', async () => {
    const { error } = await failure(
      makeClient().streamTurn(
        {
          system: '',
          messages: [userText('Read it.'), { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_open', name: 'read_file', input: { path: 'a' } }] }, userText('Never mind.')],
        },
        { signal: never },
      ),
    );
    const info = classifyChatError(error);
    assert.equal(info.kind, 'invalid-request');
    assert.match(info.message, /tool_use.*without.*tool_result.*toolu_open/);
    assert.equal(server().messageRequests().length, 1);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it('stops promptly when cancelled mid-stream and keeps the partial text', { timeout: 10_000 }, async () => {
    const words = Array.from({ length: 60 }, (_, index) => `word${index} `).join('');
    server().script(scripts.text(words, { chunks: 60, delayMs: 20 }));
    const controller = new AbortController();
    const received: string[] = [];
    let abortedAt = 0;
    const { error } = await failure(
      makeClient().streamTurn(
        { system: '', messages: [userText('Count.')] },
        {
          signal: controller.signal,
          onText: (delta) => {
            received.push(delta);
            if (received.length === 3) {
              abortedAt = Date.now();
              controller.abort();
            }
          },
        },
      ),
    );
    const settledMs = Date.now() - abortedAt;
    // Not a timing window: without the cancel the stalled stream would wait for the 10 s cap.
    assert.ok(settledMs < 5000, `the call settled ${settledMs} ms after the cancel`);
    assert.equal(received.length, 3, 'no delta arrived after the cancel');
    assert.equal(error.partialText, received.join(''));
    assert.equal(error.abortReason, 'cancelled');
    const info = classifyChatError(error);
    assert.equal(info.kind, 'cancelled');
    assert.match(info.message, /kept, marked incomplete/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
    await waitFor(() => server().messageRequests()[0]?.clientClosedEarly === true);
  });

  it('caps the wall time of a stalled stream and keeps what arrived', { timeout: 10_000 }, async () => {
    server().script(scripts.stall('First part. Second part. Third part.', { chunks: 3, afterDeltas: 1 }));
    const { error, elapsedMs } = await failure(makeClient({ timeoutMs: 400 }).streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never }));
    // Not before the cap; and the stall would otherwise last until the server closes.
    assert.ok(elapsedMs >= 380 && elapsedMs < 8000, `settled after ${elapsedMs} ms`);
    assert.equal(error.abortReason, 'timeout');
    assert.equal(error.partialText, 'First part. ');
    const info = classifyChatError(error);
    assert.equal(info.kind, 'timeout');
    assert.match(info.message, /0\.4 s/);
    assert.equal(info.requestId, server().messageRequests()[0]?.requestId);
  });

  it("caps the wall time across the SDK's retry waits (a long retry-after)", { timeout: 10_000 }, async () => {
    server().script(scripts.rateLimited(30), scripts.text('too late'));
    const { error, elapsedMs } = await failure(makeClient({ timeoutMs: 500 }).streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never }));
    // Not before the cap, and long before the 30 s retry-after.
    assert.ok(elapsedMs >= 480 && elapsedMs < 8000, `settled after ${elapsedMs} ms`);
    assert.equal(classifyChatError(error).kind, 'timeout');
    assert.equal(server().messageRequests().length, 1, 'the retry after 30 s never started');
    assert.equal(server().pendingScripts(), 1);
  });

  it('a per-call timeoutMs overrides the client default', { timeout: 10_000 }, async () => {
    server().script(scripts.stall('x y z', { afterDeltas: 0 }));
    const { elapsedMs, error } = await failure(makeClient({ timeoutMs: 10_000 }).streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never, timeoutMs: 200 }));
    // The client's 10 s default would have held it far longer.
    assert.ok(elapsedMs < 5000, `settled after ${elapsedMs} ms`);
    assert.equal(error.timeoutMs, 200);
  });

  it('honours retry-after on 429: the SDK waits, retries once, and the answer arrives', async () => {
    server().script(scripts.rateLimited(1), scripts.text('after the wait'));
    const started = Date.now();
    const result = await makeClient().streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never });
    const elapsedMs = Date.now() - started;
    assert.equal(result.text, 'after the wait');
    assert.ok(elapsedMs >= 950, `retried after ${elapsedMs} ms, before the 1 s retry-after`);
    const records = server().messageRequests();
    assert.deepEqual(records.map((record) => [record.status, record.retryCount]), [[429, 0], [200, 1]]);
    assert.equal(result.requestId, records[1]?.requestId);
  });

  it('makes 1 + maxRetries attempts on a persistent 429, never more, and reports the last request id', async () => {
    server().script(scripts.rateLimited(0.1), scripts.rateLimited(0.1), scripts.rateLimited(0.1), scripts.text('not reached'));
    const { error, elapsedMs } = await failure(makeClient({ maxRetries: 2 }).streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never }));
    const records = server().messageRequests();
    assert.equal(records.length, 3);
    assert.deepEqual(records.map((record) => record.retryCount), [0, 1, 2]);
    assert.equal(server().pendingScripts(), 1, 'an attempt beyond 1 + maxRetries was made');
    assert.ok(elapsedMs >= 190, `two retry-after waits of 0.1 s took only ${elapsedMs} ms`);
    const info = classifyChatError(error);
    assert.equal(info.kind, 'rate-limited');
    assert.equal(info.status, 429);
    assert.equal(info.requestId, records[2]?.requestId);
  });

  it('retries 529 overloaded with the default backoff and succeeds', async () => {
    server().script(scripts.overloaded(), scripts.text('back again'));
    const result = await makeClient().streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never });
    assert.equal(result.text, 'back again');
    assert.deepEqual(server().messageRequests().map((record) => record.status), [529, 200]);
  });

  it('gives up on a persistent 529 after 1 + maxRetries attempts', async () => {
    server().script(scripts.overloaded(0.05), scripts.overloaded(0.05), scripts.overloaded(0.05));
    const { error } = await failure(makeClient().streamTurn({ system: '', messages: [userText('Go.')] }, { signal: never }));
    assert.equal(server().messageRequests().length, 3);
    const info = classifyChatError(error);
    assert.equal(info.kind, 'overloaded');
    assert.equal(info.status, 529);
    assert.equal(info.requestId, server().messageRequests()[2]?.requestId);
  });

  it('counts tokens with the API (count_tokens) without max_tokens', async () => {
    const request: MessagesRequest = { system: 'Be brief.', messages: [userText('Hello, world!')] };
    const count = await makeClient().countTokens(request, { tools: [readFileTool] });
    const [record] = server().requests;
    assert.ok(record);
    assert.equal(record.path, '/v1/messages/count_tokens');
    assert.deepEqual(record.body, { model, system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, world!' }] }], tools: [readFileTool] });
    assert.equal(count.inputTokens, countRequestTokens(record.body));
    assert.equal(count.requestId, record.requestId);
    const plain = await makeClient().countTokens(request);
    // 3 (request) + 3 (Be brief .) + 4 (message) + 4 (Hello , world !)
    assert.equal(plain.inputTokens, 14);
  });

  it('serves the chat turn as its ModelPort', async () => {
    server().script(scripts.toolUse('read_file', { path: 'a.ts' }, { id: 'toolu_port' }));
    const port = createModelPort({ apiKey, baseUrl: server().baseUrl, model, maxTokens: 64, timeoutMs: 5000, log: () => undefined });
    const request: MessagesRequest = { system: '', messages: [userText('Read a.ts')] };
    const uses: string[] = [];
    const result = await port.streamTurn(request, { tools: [readFileTool], signal: never, timeoutMs: 5000, onText: () => undefined, onToolUse: (block) => uses.push(block.id) });
    assert.deepEqual([result.stopReason, uses, result.toolUses.map((use) => use.id)], ['tool_use', ['toolu_port'], ['toolu_port']]);
    assert.equal(await port.countTokens?.(request, [readFileTool], never), countRequestTokens({ ...request, messages: [{ role: 'user', content: [{ type: 'text', text: 'Read a.ts' }] }], tools: [readFileTool] }));
  });

  it('classifies a failed count_tokens like a turn', async () => {
    server().scriptCountTokens(scripts.forbidden());
    const { error } = await failure(makeClient().countTokens({ system: '', messages: [userText('Hi')] }));
    const info = classifyChatError(error);
    assert.equal(info.kind, 'permission');
    assert.equal(info.requestId, server().requests[0]?.requestId);
  });
});
