import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { Ledger } from '../../src/core/ledger';
import { ChatNotifications, ChatRequests, type ChatProgress, type ChatProgressParams, type ChatSendResult } from '../../src/shared/chatProtocol';
import { encodeApiKeyUpdate } from '../../src/shared/apiKeyChannel';
import { EngineRequests } from '../../src/shared/engineProtocol';
import { toTranscript } from '../../src/extension/chat/transcript';
import { scripts } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { makeTempDir } from '../fixtures/tempDir';

// The engine process itself (out/src/server/main.js), spoken to over node IPC as the extension
// does: a window reload shuts the engine down while an answer streams.
const engineMain = path.join(__dirname, '..', '..', 'src', 'server', 'main.js');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

describe('chat through the engine process', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let engine: ChildProcess;
  let connection: MessageConnection;
  let progress: ChatProgress[];
  beforeEach(async () => {
    temp = makeTempDir();
    progress = [];
    engine = fork(engineMain, ['--node-ipc'], { stdio: ['pipe', 'ignore', 'pipe', 'ipc'] });
    // The key arrives on the engine's stdin, never in an LSP message (src/shared/apiKeyChannel.ts).
    engine.stdin!.write(encodeApiKeyUpdate({ version: 1, apiKey: 'test-key' }));
    connection = createMessageConnection(new IPCMessageReader(engine), new IPCMessageWriter(engine));
    connection.onNotification(ChatNotifications.progress.method, (params: ChatProgressParams) => {
      progress.push(params.progress);
    });
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { storeDir: path.join(temp.dir, 'store'), wasmPath, snapshotEveryEvents: 5000, workspaceFolder: null },
    });
    await connection.sendNotification('initialized', {});
  });
  afterEach(() => {
    connection.dispose();
    engine.kill();
    temp.remove();
  });

  it('keeps the partial answer when the engine shuts down mid-answer (a reload), so the panel shows it after', async () => {
    server().script(scripts.stall('Streaming when the window reloads, and more never comes.', { chunks: 4, afterDeltas: 2 }));
    const settings = { model: 'claude-test', maxTokens: 256, baseUrl: server().baseUrl, budgetTokens: 20_000, window: { kind: 'full' as const }, systemPrompt: '', timeoutMs: 30_000 };
    await connection.sendRequest(EngineRequests.append, { events: [{ kind: 'session.started', sessionId: 'reloaded', body: { name: 'Reloaded' } }] });
    const sent = connection.sendRequest(ChatRequests.send, { requestId: 'reload', sessionId: 'reloaded', text: 'Tell me more', keyVersion: 1, settings }).then(
      (result: ChatSendResult) => result,
      () => null,
    );
    while (progress.filter((item) => item.type === 'text').length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const arrived = progress.map((item) => (item.type === 'text' ? item.delta : '')).join('');
    // What the language client does when the window reloads: shutdown, then exit.
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    await new Promise((resolve) => engine.once('exit', resolve));
    await sent;

    const ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    try {
      const transcript = toTranscript(ledger.readSession('reloaded'));
      const answer = transcript.find((entry) => entry.kind === 'assistant');
      assert.ok(answer?.kind === 'assistant', `the partial answer is in the log: ${JSON.stringify(transcript.map((entry) => entry.kind))}`);
      assert.equal(answer.text, arrived);
      assert.equal(answer.incomplete, true);
      assert.ok(!transcript.some((entry) => entry.kind === 'receipt'), 'no "stopped before any text arrived" row');
    } finally {
      ledger.close();
    }
  });
});
