import * as assert from 'node:assert/strict';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { z } from 'zod';
import { mcpClientSnippets, mcpLaunch } from '../../src/core/mcp/clientSetup';
import { claudeProjectDir, followPaths } from '../../src/core/mcp/claudeCodeProjects';
import { mcpCallsStreamId } from '../../src/core/mcp/mcpEvents';
import { memoryToolDefinitions } from '../../src/core/mcp/toolDefinitions';
import { memoryToolNames, writingMemoryTools } from '../../src/core/mcp/toolNames';
import { EngineRequests } from '../../src/shared/engineProtocol';
import { FactsRequests } from '../../src/shared/factsProtocol';
import { MemoryToolsRequests } from '../../src/shared/memoryToolsProtocol';
import { RetrievalRequests } from '../../src/shared/retrievalProtocol';
import { cliScript } from '../fixtures/cliRunner';
import { sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { writeTree } from '../fixtures/workspaceTree';

// The memory tools as the VS Code side calls them: contextLedger/memoryTools/call on the real
// engine process (over node IPC, as the extension sends it), the package.json contribution
// against the tools' schemas, and the setup snippets run as a client would run them.
const engineMain = path.join(__dirname, '..', '..', 'src', 'server', 'main.js');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
const repoRoot = path.join(__dirname, '..', '..', '..');

describe('memory tools through the engine process', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let engine: ChildProcess;
  let connection: MessageConnection;
  let folder: string;
  const call = (tool: string, args: unknown) => connection.sendRequest(MemoryToolsRequests.call, { tool, arguments: args, client: 'VS Code language-model tools (test)' });

  beforeEach(async () => {
    temp = makeTempDir();
    folder = path.join(temp.dir, 'work');
    writeTree(folder, { 'src/invoice.ts': sourceFile('computeInvoiceTotal', 'adds the invoice lines'), '.env': 'SECRET=canaryLmToolsEnv77\n' });
    engine = fork(engineMain, ['--node-ipc'], { stdio: ['pipe', 'ignore', 'pipe', 'ipc'] });
    connection = createMessageConnection(new IPCMessageReader(engine), new IPCMessageWriter(engine));
    connection.listen();
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { storeDir: path.join(temp.dir, 'store'), wasmPath, snapshotEveryEvents: 5000, workspaceFolder: folder } });
    await connection.sendNotification('initialized', {});
  });
  afterEach(() => {
    connection.dispose();
    engine.kill();
    temp.remove();
  });

  it('searches the engine index, proposes (never a fact), refuses bad calls with the reason, and logs each call with the client', async () => {
    await connection.sendRequest(RetrievalRequests.index, { configuration: { excludeGlobs: [], maxFileBytes: 512 * 1024 } });
    const found = await call('search_memory', { query: 'computeInvoiceTotal', limit: 3 });
    assert.equal(found.isError, false, found.text);
    assert.match(found.text, /src\/invoice\.ts:\d+-\d+/);
    assert.match(found.text, /provided as data/);
    assert.doesNotMatch(found.text, /canaryLmToolsEnv77/);

    const proposed = await call('propose_fact', { key: 'build.command', value: 'npm run build', reason: 'package.json' });
    assert.equal(proposed.isError, false, proposed.text);
    const listed = await connection.sendRequest(FactsRequests.list, {});
    assert.deepEqual(listed.facts.map((fact) => fact.key), [], 'a proposal is not a fact');
    assert.deepEqual(listed.proposals.map((proposal) => [proposal.key, proposal.value, proposal.trust]), [['build.command', 'npm run build', 'model-proposed']]);
    assert.match((await call('get_facts', {})).text, /proposed \(pending, not a fact yet\) build\.command/);

    const unknown = await call('drop_store', {});
    assert.deepEqual([unknown.isError, /drop_store not found/.test(unknown.text)], [true, true]);
    const wrong = await call('read_session', { sessionId: 42 });
    assert.equal(wrong.isError, true);
    assert.match(wrong.text, /sessionId/);
    const huge = await call('record_note', { text: 'n'.repeat(20 * 1024 * 1024) });
    assert.equal(huge.isError, true);
    assert.match(huge.text, /text/);
    assert.equal((await call('list_sessions', {})).text, 'no sessions', 'the MCP streams are not sessions');

    const log = await connection.sendRequest(EngineRequests.readSession, { sessionId: mcpCallsStreamId });
    const calls = log.events.flatMap((event) => (event.kind === 'mcp.call' ? [event.body as { client: string; tool: string; ok: boolean }] : []));
    assert.deepEqual(
      calls.map((entry) => [entry.tool, entry.ok]),
      [['search_memory', true], ['propose_fact', true], ['get_facts', true], ['drop_store', false], ['read_session', false], ['record_note', false], ['list_sessions', true]],
    );
    assert.ok(calls.every((entry) => entry.client === 'VS Code language-model tools (test)'));
    const notes = await connection.sendRequest(EngineRequests.readSession, { sessionId: 'mcp:notes' });
    assert.equal(notes.events.length, 0, 'the refused note wrote nothing');
  });
});

describe('the VS Code contribution and the setup snippets', () => {
  it('declares each tool in package.json with the schema the engine checks', () => {
    const contributes = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { contributes: { languageModelTools: Array<{ name: string; modelDescription: string; inputSchema: unknown }> } }).contributes;
    assert.deepEqual(contributes.languageModelTools.map((tool) => tool.name), memoryToolNames.map((name) => `contextLedger_${name}`));
    for (const definition of memoryToolDefinitions) {
      const declared = contributes.languageModelTools.find((tool) => tool.name === `contextLedger_${definition.name}`)!;
      const schema = z.toJSONSchema(z.object(definition.inputSchema)) as Record<string, unknown>;
      delete schema.$schema;
      delete schema.additionalProperties;
      assert.deepEqual(declared.inputSchema, schema, `${definition.name}: package.json and the zod schema differ`);
      assert.equal(declared.modelDescription, definition.description);
      assert.equal(definition.writes, writingMemoryTools.includes(definition.name));
    }
  });

  it('gives Claude Code a command line that quotes awkward paths, and JSON a client can start the server from', async () => {
    const temp = makeTempDir();
    try {
      const store = path.join(temp.dir, "my store's folder");
      const launch = mcpLaunch({ execPath: process.execPath, isElectron: false }, cliScript, store);
      const snippets = mcpClientSnippets(launch);
      const claude = snippets.find((snippet) => snippet.kind === 'claude-code')!.text;
      // The shell gives back exactly the words: `claude mcp add … -- <node> <cli> --store <store> mcp`.
      const words = execFileSync('sh', ['-c', `set -- ${claude}; printf '%s\\n' "$@"`], { encoding: 'utf8' }).trimEnd().split('\n');
      assert.deepEqual(words, ['claude', 'mcp', 'add', '--scope', 'user', 'context-ledger', '--', process.execPath, cliScript, '--store', store, 'mcp']);
      const electron = mcpClientSnippets(mcpLaunch({ execPath: '/opt/Code/code', isElectron: true }, '/ext/dist/cli.js', '/s'));
      assert.match(electron[0]!.text, /-e ELECTRON_RUN_AS_NODE=1 context-ledger -- \/opt\/Code\/code \/ext\/dist\/cli\.js --store \/s mcp$/);
      assert.deepEqual((JSON.parse(electron.find((snippet) => snippet.kind === 'vscode')!.text) as { servers: Record<string, unknown> }).servers['context-ledger'], { type: 'stdio', command: '/opt/Code/code', args: ['/ext/dist/cli.js', '--store', '/s', 'mcp'], env: { ELECTRON_RUN_AS_NODE: '1' } });

      // The Cursor snippet, started as a client starts it, serves the store.
      const cursor = (JSON.parse(snippets.find((snippet) => snippet.kind === 'cursor')!.text) as { mcpServers: Record<string, { command: string; args: string[] }> }).mcpServers['context-ledger']!;
      const client = new Client({ name: 'snippet-check', version: '1' });
      await client.connect(new StdioClientTransport({ command: cursor.command, args: cursor.args, stderr: 'pipe' }));
      try {
        assert.equal((await client.listTools()).tools.length, 6);
      } finally {
        await client.close();
      }
      assert.ok(fs.existsSync(path.join(store, 'store.json')), 'the server created the store where the snippet says');
    } finally {
      temp.remove();
    }
  });

  it("follows this folder's Claude Code project, or every project", () => {
    const env = { CLAUDE_CONFIG_DIR: '/home/u/.claude' };
    assert.equal(claudeProjectDir('/home/u/my.app/src_1', env), '/home/u/.claude/projects/-home-u-my-app-src-1');
    assert.deepEqual(followPaths('workspace', '/w', env), ['/home/u/.claude/projects/-w']);
    assert.deepEqual(followPaths('all', '/w', env), ['/home/u/.claude/projects']);
    assert.deepEqual(followPaths('off', '/w', env), []);
    assert.deepEqual(followPaths('workspace', undefined, env), []);
  });
});
