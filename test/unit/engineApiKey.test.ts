// The API key's way into the engine: the real engine process (compiled src/server/main.ts),
// started by the extension's own startEngineProcess, spoken to over LSP with vscode-jsonrpc
// with the trace at its most verbose, and the real Anthropic SDK in the engine talking to the
// local Messages API server(). The key must arrive there, and nowhere else.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMessageConnection, RequestType, Trace, type MessageConnection } from 'vscode-jsonrpc/node';
import { ApiKeySender, startEngineProcess, type EngineProcess } from '../../src/extension/engineProcess';
import { ApiKeyHolder } from '../../src/server/apiKeyHolder';
import { encodeApiKeyUpdate } from '../../src/shared/apiKeyChannel';
import { ChatRequests, type ChatSendResult } from '../../src/shared/chatProtocol';
import { EngineRequests } from '../../src/shared/engineProtocol';
import { scripts } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { shutDownEngine } from '../fixtures/engineShutdown';
import { makeTempDir } from '../fixtures/tempDir';

const engineModule = path.join(__dirname, '..', '..', 'src', 'server', 'main.js');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
const initialize = new RequestType<unknown, unknown, void>('initialize');

interface RunningEngine {
  readonly engine: EngineProcess;
  readonly connection: MessageConnection;
  /** Every trace line and every line the engine printed. */
  readonly transcript: string[];
  readonly storeDir: string;
}

/** The key a request to the Messages API carried (SDK 1.x sends it as a bearer token). */
function keyReceived(headers: Readonly<Record<string, string>> | undefined): string | undefined {
  return headers?.['x-api-key'] ?? /^Bearer (.+)$/.exec(headers?.authorization ?? '')?.[1];
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the API key reaches the engine beside LSP', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let key: string | null;
  let sender: ApiKeySender;
  let running: RunningEngine | undefined;
  beforeEach(() => {
    temp = makeTempDir();
    key = `sk-ant-unit-${randomUUID()}`;
    sender = new ApiKeySender(async () => key);
  });
  afterEach(async () => {
    await stopEngine();
    temp.remove();
  });

  /** As the language client stops it: shutdown, exit, then ended if it lingers. */
  async function stopEngine(): Promise<void> {
    if (running) {
      const { engine, connection } = running;
      running = undefined;
      await shutDownEngine(engine, connection);
    }
  }

  async function startEngine(env?: NodeJS.ProcessEnv): Promise<RunningEngine> {
    const transcript: string[] = [];
    const engine = startEngineProcess({ module: engineModule, ...(env ? { env } : {}), onOutput: (line, stream) => transcript.push(`[${stream}] ${line}`) });
    await sender.attach(engine.keyChannel);
    const connection = createMessageConnection(engine.reader, engine.writer);
    connection.onNotification('window/logMessage', (params: { message: string }) => void transcript.push(`[log] ${params.message}`));
    connection.listen();
    // What `contextLedger.trace.server: verbose` at log level Trace writes: every message with its params and result.
    await connection.trace(Trace.Verbose, { log: (message: unknown, data?: string) => transcript.push(`[trace] ${typeof message === 'string' ? message : JSON.stringify(message)} ${data ?? ''}`) });
    const storeDir = path.join(temp.dir, 'store');
    await connection.sendRequest(initialize, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { storeDir, wasmPath, snapshotEveryEvents: 5000, workspaceFolder: null } });
    await connection.sendNotification('initialized', {});
    running = { engine, connection, transcript, storeDir };
    return running;
  }

  async function send(engine: RunningEngine, sessionId: string, text: string): Promise<ChatSendResult> {
    const keyVersion = await sender.sync();
    return engine.connection.sendRequest(ChatRequests.send, {
      requestId: randomUUID(),
      sessionId,
      text,
      keyVersion,
      settings: { model: 'claude-test', maxTokens: 256, baseUrl: server().baseUrl, budgetTokens: 20_000, window: { kind: 'full' }, systemPrompt: 'Be brief.', timeoutMs: 10_000 },
    });
  }

  async function newSession(engine: RunningEngine): Promise<string> {
    const sessionId = randomUUID();
    const { verdicts } = await engine.connection.sendRequest(EngineRequests.append, { events: [{ kind: 'session.started', sessionId, body: { name: 'key test' } }] });
    assert.equal(verdicts[0]?.status, 'appended');
    return sessionId;
  }

  it('sends the key to the Messages API, and no LSP message, trace line, engine output or store file holds it', async () => {
    const engine = await startEngine();
    const sessionId = await newSession(engine);
    server().script(scripts.text('Answered with the right key.'));
    const text = `Which key do you see? ${randomUUID()}`;
    const result = await send(engine, sessionId, text);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const [request] = server().messageRequests();
    assert.equal(keyReceived(request?.headers), key, 'the Messages API got the key');

    const transcript = engine.transcript.join('\n');
    // The trace is on and complete: it has the send with its params (the control for the check below).
    assert.match(transcript, /contextLedger\/chat\/send/);
    assert.ok(transcript.includes(text), 'the verbose trace shows the params of chat/send');
    assert.match(transcript, /"keyVersion": 1/);
    assert.ok(!transcript.includes(key!), 'the key is in the LSP trace or the engine output');
    const files = filesUnder(engine.storeDir);
    assert.ok(files.some((file) => file.endsWith('.log')), 'the journal is there to search');
    for (const file of files) {
      assert.ok(!fs.readFileSync(file).includes(key!), `the key is in ${path.relative(engine.storeDir, file)}`);
    }
  });

  it('hands a changed or cleared key to the running engine before the next send', async () => {
    const engine = await startEngine();
    const sessionId = await newSession(engine);
    server().script(scripts.text('one'), scripts.text('two'));
    assert.equal((await send(engine, sessionId, 'first')).status, 'complete');
    const first = key;
    key = `sk-ant-unit-changed-${randomUUID()}`;
    assert.equal((await send(engine, sessionId, 'second')).status, 'complete');
    assert.deepEqual(
      server().messageRequests().map((request) => keyReceived(request.headers)),
      [first, key],
    );
    key = null;
    const cleared = await send(engine, sessionId, 'third');
    assert.equal(cleared.status, 'failed');
    assert.equal(cleared.error?.kind, 'no-key');
    assert.equal(server().messageRequests().length, 2, 'nothing was sent without a key');
  });

  it('keeps ANTHROPIC_API_KEY out of the engine, and gives a restarted engine the key', async () => {
    const environmentKey = `sk-ant-environment-${randomUUID()}`;
    const engine = await startEngine({ ...process.env, ANTHROPIC_API_KEY: environmentKey, ANTHROPIC_AUTH_TOKEN: environmentKey });
    const environ = fs.readFileSync(`/proc/${engine.engine.child.pid}/environ`, 'latin1');
    assert.ok(!environ.includes(environmentKey), 'the engine inherited the key from the environment');
    assert.match(environ, /ELECTRON_RUN_AS_NODE=1/, 'the environment was read');
    const sessionId = await newSession(engine);
    server().script(scripts.text('fine'), scripts.text('again'));
    assert.equal((await send(engine, sessionId, 'hello')).status, 'complete');
    assert.equal(keyReceived(server().messageRequests()[0]?.headers), key);

    // A new engine process (a restart, or the one after a crash) knows nothing until attached.
    await stopEngine();
    const restarted = await startEngine();
    assert.equal((await send(restarted, sessionId, 'hello again')).status, 'complete');
    assert.equal(keyReceived(server().messageRequests()[1]?.headers), key);
  });
});

describe('ApiKeySender', () => {
  const updates = (channel: PassThrough): string[] =>
    String(channel.read() ?? '')
      .split('\n')
      .filter((line) => line !== '');

  it('sends a key only when it changed, each update with a higher version, a new engine afresh', async () => {
    let key: string | null = 'sk-a';
    const sender = new ApiKeySender(async () => key);
    const first = new PassThrough();
    assert.equal(await sender.attach(first), 1);
    assert.equal(await sender.sync(), 1, 'unchanged: nothing sent');
    key = 'sk-b';
    assert.equal(await sender.sync(), 2);
    assert.deepEqual(updates(first), [encodeApiKeyUpdate({ version: 1, apiKey: 'sk-a' }).trim(), encodeApiKeyUpdate({ version: 2, apiKey: 'sk-b' }).trim()]);
    const second = new PassThrough();
    assert.equal(await sender.attach(second), 3, 'a new engine gets the key it does not have');
    assert.deepEqual(updates(second), [encodeApiKeyUpdate({ version: 3, apiKey: 'sk-b' }).trim()]);
  });

  it('starts an engine without a key when SecretStorage cannot be read, and says so', async () => {
    const unavailable: unknown[] = [];
    let broken = true;
    const sender = new ApiKeySender(async () => {
      if (broken) {
        throw new Error('no keyring');
      }
      return 'sk-later';
    }, (error) => unavailable.push(error));
    const channel = new PassThrough();
    assert.equal(await sender.attach(channel), 1);
    assert.deepEqual(updates(channel), [encodeApiKeyUpdate({ version: 1, apiKey: null }).trim()]);
    assert.match(String(unavailable[0]), /no keyring/);
    await assert.rejects(sender.sync(), /no keyring/, 'a send fails with the reason');
    broken = false;
    assert.equal(await sender.sync(), 2);
  });
});

describe('ApiKeyHolder', () => {
  it('keeps the newest update, drops stale and malformed ones', () => {
    const holder = new ApiKeyHolder();
    holder.accept(encodeApiKeyUpdate({ version: 2, apiKey: 'sk-two' }).trim());
    holder.accept(encodeApiKeyUpdate({ version: 1, apiKey: 'sk-one' }).trim());
    for (const line of ['', 'not json', '{"version":3}', '{"version":0,"apiKey":"x"}', '{"version":4,"apiKey":"  "}', '[]']) {
      holder.accept(line);
    }
    assert.equal(holder.current, 'sk-two');
    assert.equal(holder.version, 2);
    holder.accept(encodeApiKeyUpdate({ version: 5, apiKey: null }));
    assert.equal(holder.current, null);
  });

  it('waits for the version a send names, and fails clearly if it never comes', async () => {
    const holder = new ApiKeyHolder();
    const input = new PassThrough();
    const stop = holder.listen(input);
    const waiting = holder.keyOf(2, 2000);
    input.write(encodeApiKeyUpdate({ version: 1, apiKey: 'sk-old' }));
    input.write(encodeApiKeyUpdate({ version: 2, apiKey: 'sk-new' }));
    assert.equal(await waiting, 'sk-new');
    await assert.rejects(holder.keyOf(3, 50), /update 3 did not reach the engine within 50 ms \(it has 2\)/);
    stop();
  });
});
