import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { fixtureScript, startChild, type RunningChild } from '../fixtures/childProcess';
import { countRequestTokens, countTextTokens } from '../fixtures/messagesApiRules';
import { scripts } from '../fixtures/messagesApiScripts';
import { startMessagesApiServer, type RecordedRequest } from '../fixtures/messagesApiServer';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { makeTempDir } from '../fixtures/tempDir';

const apiKey = 'sk-ant-test-server-1234';
const model = 'claude-haiku-5-5';

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' }): Promise<RawResponse> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function errorOf(response: RawResponse): { type: string; message: string } {
  const body = JSON.parse(response.text) as { type: string; error: { type: string; message: string }; request_id: string };
  assert.equal(body.type, 'error');
  assert.equal(body.request_id, response.headers.get('request-id'));
  return body.error;
}

/** The SSE events of a streamed body: [event name, parsed data]. */
function sseEvents(text: string): Array<[string, Record<string, unknown>]> {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim().length > 0)
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? '{}';
      return [event, JSON.parse(data) as Record<string, unknown>];
    });
}

const hello = { model, max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };

describe('local Messages API server', () => {
  const server = useMessagesApiServer({ whenIdle: 'echo' });

  it('answers every response with a request-id and the real error shape; a key is required', async () => {
    const missing = await post(`${server().baseUrl}/v1/messages`, hello, { 'anthropic-version': '2023-06-01' });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('request-id') ?? '', /^req_/);
    assert.deepEqual(errorOf(missing), { type: 'authentication_error', message: 'x-api-key header is required' });
    const bearer = await post(`${server().baseUrl}/v1/messages`, hello, { authorization: `Bearer ${apiKey}`, 'anthropic-version': '2023-06-01' });
    assert.equal(bearer.status, 200);
    assert.match(bearer.headers.get('request-id') ?? '', /^req_/);
    const noVersion = await post(`${server().baseUrl}/v1/messages`, hello, { 'x-api-key': apiKey });
    assert.equal(noVersion.status, 400);
    assert.match(errorOf(noVersion).message, /anthropic-version/);
  });

  it('validates requests like the real API', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not valid JSON/],
      [{ max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, /^model: Field required/],
      [{ model, messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: Field required/],
      [{ model, max_tokens: 10, messages: [] }, /at least one message/],
      [{ model, max_tokens: 10, messages: [{ role: 'assistant', content: 'x' }] }, /first message must use the "user" role/],
      [{ model, max_tokens: 10, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }, /roles must alternate/],
      [{ model, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, /non-empty/],
      [
        { model, max_tokens: 10, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] }, { role: 'user', content: 'b' }] },
        /messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: t1/,
      ],
      [{ model, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'ghost', content: 'x' }] }] }, /unexpected `tool_use_id`.*ghost/],
      [{ model, max_tokens: 10, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] }] }, /without `tool_result`.*t1/],
      [{ model, max_tokens: 10, messages: [{ role: 'user', content: 'a' }], tools: [{ name: 'bad name', input_schema: { type: 'object' } }] }, /tools\.0\.name/],
    ];
    for (const [body, pattern] of cases) {
      const response = await post(`${server().baseUrl}/v1/messages`, body);
      assert.equal(response.status, 400, `accepted: ${JSON.stringify(body)}`);
      const error = errorOf(response);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, pattern);
    }
    assert.ok(server().requests.every((record) => record.answeredBy === 'validation' && record.outcome === 'rejected'));
  });

  it('streams the real event sequence, with input_json_delta for a tool call', async () => {
    server().script(scripts.toolUse('list_files', { dir: 'src' }, { id: 'toolu_x', text: 'Looking.', chunks: 2 }));
    const response = await post(`${server().baseUrl}/v1/messages`, { ...hello, stream: true });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = sseEvents(response.text);
    assert.deepEqual(
      events.map(([name]) => name),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    for (const [name, data] of events) {
      assert.equal(data.type, name);
    }
    assert.deepEqual(events[6]?.[1], { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_x', name: 'list_files', input: {} } });
    const json = events.filter(([, data]) => (data.delta as { type?: string } | undefined)?.type === 'input_json_delta').map(([, data]) => (data.delta as { partial_json: string }).partial_json);
    assert.equal(json[0], '');
    assert.deepEqual(JSON.parse(json.join('')), { dir: 'src' });
    const messageDelta = events[11]?.[1] as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    assert.equal(messageDelta.delta.stop_reason, 'tool_use');
    const start = events[0]?.[1] as { message: { usage: { input_tokens: number } } };
    assert.equal(start.message.usage.input_tokens, countRequestTokens({ ...hello, stream: true }));
  });

  it('answers without streaming, through the real SDK', async () => {
    server().script(scripts.text('A plain answer.'));
    const sdk = new Anthropic({ apiKey, baseURL: server().baseUrl, maxRetries: 0, logLevel: 'off' });
    const message = await sdk.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Hi there' }] });
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(message.content, [{ type: 'text', text: 'A plain answer.' }]);
    assert.equal(message.usage.output_tokens, countTextTokens('A plain answer.'));
    const record = server().messageRequests()[0] as RecordedRequest;
    assert.equal((record.body as { stream?: boolean }).stream, undefined);
  });

  it('echoes the last user text when nothing is scripted', async () => {
    const sdk = new Anthropic({ apiKey, baseURL: server().baseUrl, maxRetries: 0, logLevel: 'off' });
    const text = await sdk.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'ping me back' }] }).finalText();
    assert.equal(text, 'Echo: ping me back');
    assert.equal(server().messageRequests()[0]?.answeredBy, 'echo');
  });

  it('counts tokens deterministically', async () => {
    const body = { model, system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, world!' }] }] };
    const response = await post(`${server().baseUrl}/v1/messages/count_tokens`, body);
    assert.equal(response.status, 200);
    // 3 for the request, 3 for "Be brief.", 4 for the message, 4 for "Hello, world!".
    assert.deepEqual(JSON.parse(response.text), { input_tokens: 14 });
    assert.equal(countTextTokens('read_file(path=2024)'), 11);
  });

  it('refuses an assistant prefill like recent models, and accepts it when told to', async () => {
    const prefill = { ...hello, messages: [...hello.messages, { role: 'assistant', content: 'The answer is' }] };
    const refused = await post(`${server().baseUrl}/v1/messages`, prefill);
    assert.equal(refused.status, 400);
    assert.match(errorOf(refused).message, /does not support assistant message prefill/);
    const lenient = await startMessagesApiServer({ refusePrefill: false });
    try {
      assert.equal((await post(`${lenient.baseUrl}/v1/messages`, prefill)).status, 200);
    } finally {
      await lenient.close();
    }
  });

  it('throttles count_tokens (429 with retry-after, after a delay) or never answers it', async () => {
    const body = { model, messages: hello.messages };
    server().scriptCountTokens({ ...scripts.rateLimited(10), delayMs: 300 }, scripts.hang());
    const started = Date.now();
    const throttled = await post(`${server().baseUrl}/v1/messages/count_tokens`, body);
    assert.ok(Date.now() - started >= 290, 'answered after its delay');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '10');
    const hung = await fetch(`${server().baseUrl}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body), signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    );
    assert.equal(hung, 'TimeoutError');
    assert.equal((await post(`${server().baseUrl}/v1/messages/count_tokens`, body)).status, 200, 'then it counts again');
  });

  it('sends SSE data that is not JSON, and tool input that is not JSON, when scripted', async () => {
    server().script(scripts.badJson('Before the break.', { chunks: 4, afterDeltas: 2 }), scripts.malformedToolUse('read_file', '{"path": nope}'));
    const broken = await post(`${server().baseUrl}/v1/messages`, { ...hello, stream: true });
    const frames = broken.text.split('\n\n').filter((frame) => frame.trim().length > 0);
    assert.throws(() => JSON.parse(/^data: (.*)$/m.exec(frames.at(-1)!)![1]!), SyntaxError);
    const tool = sseEvents((await post(`${server().baseUrl}/v1/messages`, { ...hello, stream: true })).text);
    const json = tool.flatMap(([, data]) => ((data.delta as { type?: string; partial_json?: string } | undefined)?.type === 'input_json_delta' ? [(data.delta as { partial_json: string }).partial_json] : [])).join('');
    assert.equal(json, '{"path": nope}');
  });

  it('is scripted over HTTP by another process, and reports what it received', async () => {
    const queued = await fetch(`${server().baseUrl}/_test/script`, { method: 'POST', body: JSON.stringify([scripts.text('from afar'), scripts.overloaded()]) });
    assert.deepEqual(await queued.json(), { scripts: 2, countTokensScripts: 0 });
    const bad = await fetch(`${server().baseUrl}/_test/script`, { method: 'POST', body: JSON.stringify({ kind: 'nonsense' }) });
    assert.equal(bad.status, 400);
    const sdk = new Anthropic({ apiKey, baseURL: server().baseUrl, maxRetries: 0, logLevel: 'off' });
    assert.equal(await sdk.messages.stream({ model, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).finalText(), 'from afar');
    const records = (await (await fetch(`${server().baseUrl}/_test/requests`)).json()) as RecordedRequest[];
    assert.equal(records.length, 1);
    assert.equal(records[0]?.headers.authorization, `Bearer ${apiKey}`);
    assert.deepEqual((await (await fetch(`${server().baseUrl}/_test/pending`)).json()), { scripts: 1, countTokensScripts: 0 });
    await fetch(`${server().baseUrl}/_test/reset`, { method: 'POST' });
    assert.equal(server().pendingScripts(), 0);
    assert.equal(server().requests.length, 0);
  });
});

describe('standalone Messages API server process', () => {
  const children: RunningChild[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) {
      child.kill();
    }
  });

  it('starts from a JSON script file, prints its base URL, and serves the real SDK', async () => {
    const temp = makeTempDir();
    try {
      const file = path.join(temp.dir, 'script.json');
      fs.writeFileSync(file, JSON.stringify({ options: { models: [model] }, scripts: [scripts.text('scripted from a file', { chunks: 2 })] }));
      const child = startChild(fixtureScript('messagesApiServerMain'), ['--script', file]);
      children.push(child);
      const baseUrl = await child.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/, 10_000);
      const sdk = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, logLevel: 'off' });
      assert.equal(await sdk.messages.stream({ model, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).finalText(), 'scripted from a file');
      await assert.rejects(sdk.messages.create({ model: 'claude-unknown', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => error instanceof Anthropic.NotFoundError);
      child.child.kill('SIGTERM');
      assert.equal((await child.exited).code, 0);
    } finally {
      temp.remove();
    }
  });

  it('takes its script from an environment variable', async () => {
    const previous = process.env.MESSAGES_API_SCRIPT;
    process.env.MESSAGES_API_SCRIPT = JSON.stringify([scripts.text('from the environment')]);
    try {
      const child = startChild(fixtureScript('messagesApiServerMain'), []);
      children.push(child);
      const baseUrl = await child.waitForLine(/^http:\/\//, 10_000);
      const sdk = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, logLevel: 'off' });
      assert.equal(await sdk.messages.stream({ model, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).finalText(), 'from the environment');
    } finally {
      if (previous === undefined) {
        delete process.env.MESSAGES_API_SCRIPT;
      } else {
        process.env.MESSAGES_API_SCRIPT = previous;
      }
    }
  });
});
