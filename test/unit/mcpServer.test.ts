import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { recordPromptVersion } from '../../src/core/drift/promptVersions';
import { effectivePrompt } from '../../src/core/drift/promptSources';
import { FactsStore } from '../../src/core/facts/factsStore';
import { Ledger } from '../../src/core/ledger';
import { mcpCallsStreamId, mcpNotesStreamId } from '../../src/core/mcp/mcpEvents';
import { cliScript, jsonLines, runCliProcess } from '../fixtures/cliRunner';
import { sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { writeTree } from '../fixtures/workspaceTree';

// `context-ledger --store DIR mcp` driven by the SDK's own MCP client over stdio: the real
// compiled CLI in a child process, the real store, the calls read back from the log.

const textOf = (result: unknown): string => ((result as CallToolResult).content[0] as { text: string }).text;

describe('context-ledger mcp (the official MCP client over stdio)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  let client: Client;
  beforeEach(async () => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
    const appended = runCliProcess(
      store,
      ['append'],
      jsonLines([
        { kind: 'session.started', sessionId: 's1', body: { name: 'Parsing work' } },
        { kind: 'message.user', sessionId: 's1', body: { text: 'How do I parse a date?' } },
        { kind: 'message.assistant', sessionId: 's1', body: { text: 'Use Date.parse for ISO strings.' } },
        ...Array.from({ length: 40 }, (_, n) => ({ kind: 'message.user', sessionId: 's1', body: { text: `question ${n} ${'x'.repeat(400)}` } })),
      ]),
    );
    assert.equal(appended.code, 0, appended.stderr);
    client = new Client({ name: 'test-assistant', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliScript, '--store', store, 'mcp'], stderr: 'pipe' }));
  });
  afterEach(async () => {
    await client.close();
    temp.remove();
  });

  it('lists the tools and answers each with good arguments; every call is logged with the client name', async () => {
    assert.equal(client.getServerVersion()?.name, 'context-ledger');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['get_facts', 'list_sessions', 'propose_fact', 'read_session', 'record_note', 'search_memory']);

    const sessions = textOf(await client.callTool({ name: 'list_sessions', arguments: {} }));
    assert.match(sessions, /s1 {2}"Parsing work"/);
    assert.doesNotMatch(sessions, /mcp:|facts:/);
    assert.match(sessions, /provided as data/);

    const window = textOf(await client.callTool({ name: 'read_session', arguments: { sessionId: 's1', maxTokens: 500 } }));
    assert.match(window, /question 39/);
    assert.doesNotMatch(window, /How do I parse a date/, 'the oldest lines are left out to fit the budget');
    assert.match(window, /earlier lines left out to stay within 500 tokens/);
    assert.ok(window.length < 500 * 4 + 600, `${window.length} characters for 500 tokens`);
    const lastTwo = textOf(await client.callTool({ name: 'read_session', arguments: { sessionId: 's1', last: 2 } }));
    assert.match(lastTwo, /question 39/);
    assert.doesNotMatch(lastTwo, /question 37/);

    const proposed = textOf(await client.callTool({ name: 'propose_fact', arguments: { key: 'test.command', value: 'npm test', reason: 'package.json says so' } }));
    assert.match(proposed, /not a fact until then/);
    const facts = textOf(await client.callTool({ name: 'get_facts', arguments: {} }));
    assert.match(facts, /proposed \(pending, not a fact yet\) test\.command = "npm test"/);

    const noIndex = textOf(await client.callTool({ name: 'search_memory', arguments: { query: 'invoice' } }));
    assert.match(noIndex, /no retrieval index in this store/);

    assert.equal(textOf(await client.callTool({ name: 'record_note', arguments: { text: 'the user prefers pnpm' } })), 'noted');
    await client.close();

    // Read back as another process would: the proposal is pending, no fact; the calls are logged.
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const store2 = new FactsStore(ledger);
      assert.equal(store2.get('test.command'), undefined, 'a proposal is never an active fact');
      const pending = ledger.facts().proposals('pending');
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.value, 'npm test');
      assert.equal(pending[0]!.trust, 'model-proposed');
      const calls = ledger.readSession(mcpCallsStreamId).filter((event) => event.kind === 'mcp.call');
      assert.deepEqual(
        calls.map((event) => [(event.body as { client: string }).client, (event.body as { tool: string }).tool, (event.body as { ok: boolean }).ok]),
        ['list_sessions', 'read_session', 'read_session', 'propose_fact', 'get_facts', 'search_memory', 'record_note'].map((tool) => ['test-assistant', tool, true]),
      );
      assert.match(calls[0]!.writerId, /^mcp-\d+$/);
      const notes = ledger.readSession(mcpNotesStreamId).filter((event) => event.kind === 'mcp.note');
      assert.deepEqual(notes.map((event) => event.body), [{ client: 'test-assistant', text: 'the user prefers pnpm' }]);
      assert.deepEqual(ledger.listSessions().map((session) => session.id), ['s1'], 'the MCP streams are hidden from the Sessions list');
    } finally {
      ledger.close();
    }
  });

  it('records the prompt version in effect with each proposal, as the chat does, also one recorded while it serves', async () => {
    const before = textOf(await client.callTool({ name: 'propose_fact', arguments: { key: 'build.tool', value: 'make' } }));
    assert.match(before, /not a fact until then/);
    // VS Code's engine records a new prompt version while the MCP server runs.
    const writer = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      const recorded = await recordPromptVersion(writer, effectivePrompt('Be brief.', [{ path: 'AGENTS.md', text: '# Agents\n\n- Use `pnpm`.\n' }]));
      assert.equal(recorded.version.version, 1);
    } finally {
      writer.close();
    }
    const after = textOf(await client.callTool({ name: 'propose_fact', arguments: { key: 'package.manager', value: 'pnpm' } }));
    assert.match(after, /not a fact until then/);
    await client.close();

    const ledger = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      const pending = new Map(ledger.facts().proposals('pending').map((proposal) => [proposal.key, proposal]));
      assert.equal(pending.get('build.tool')?.promptVersion, null, 'no prompt version was recorded yet');
      assert.equal(pending.get('package.manager')?.promptVersion, '1');
      // Confirmed, the fact carries it as a fact from the chat does (the Facts view shows it).
      const fact = await new FactsStore(ledger).confirm(pending.get('package.manager')!.proposalId);
      assert.equal(fact.heads[0]?.promptVersion, '1');
    } finally {
      ledger.close();
    }
  });

  it('lists and reads sessions and facts as resources; a bad resource is an MCP error, logged', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((resource) => [resource.uri, resource.name]),
      [
        ['context-ledger://facts', 'facts'],
        ['context-ledger://session/s1', 'Parsing work'],
      ],
    );
    const session = await client.readResource({ uri: 'context-ledger://session/s1' });
    const text = (session.contents[0] as { text: string }).text;
    assert.match(text, /question 39/);
    assert.match(text, /provided as data/);
    assert.equal(((await client.readResource({ uri: 'context-ledger://facts' })).contents[0] as { text: string }).text, 'no facts');
    await assert.rejects(client.readResource({ uri: 'context-ledger://session/nope' }), /no session "nope"/);
    await assert.rejects(client.readResource({ uri: 'context-ledger://session/mcp%3Acalls' }), /no session/);
    await client.close();
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const calls = ledger.readSession(mcpCallsStreamId).flatMap((event) => (event.kind === 'mcp.call' ? [event.body as { client: string; tool: string; ok: boolean }] : []));
      assert.deepEqual(
        calls.map((call) => [call.tool, call.ok]),
        [
          ['resources/read context-ledger://session/s1', true],
          ['resources/read context-ledger://facts', true],
          ['resources/read context-ledger://session/nope', false],
          ['resources/read context-ledger://session/mcp%3Acalls', false],
        ],
      );
    } finally {
      ledger.close();
    }
  });

  it('searches the retrieval index with the read-time check, hits fenced as data', async () => {
    const folder = path.join(temp.dir, 'work');
    writeTree(folder, { 'src/invoice.ts': sourceFile('computeInvoiceTotal', 'adds the invoice lines'), '.env': 'SECRET=canaryMcpEnvQ42\n' });
    const indexed = runCliProcess(store, ['index', folder]);
    assert.equal(indexed.code, 0, indexed.stderr);
    const found = textOf(await client.callTool({ name: 'search_memory', arguments: { query: 'computeInvoiceTotal' } }));
    assert.match(found, /src\/invoice\.ts:\d+-\d+/);
    assert.match(found, /provided as data\. It is not an instruction/);
    assert.doesNotMatch(found, /canaryMcpEnvQ42/);
    // The file changes after indexing: the answer is what it holds now.
    writeTree(folder, { 'src/invoice.ts': sourceFile('renamedTotalZq', 'nothing about invoices') });
    const after = textOf(await client.callTool({ name: 'search_memory', arguments: { query: 'computeInvoiceTotal' } }));
    assert.doesNotMatch(after, /computeInvoiceTotal\(/);
  });

  it('answers bad input with an MCP error, writes nothing for it, and keeps serving', async () => {
    const unknown = await client.callTool({ name: 'drop_store', arguments: {} }).then(
      (result) => ({ isError: (result as CallToolResult).isError, text: textOf(result) }),
      (error: Error) => ({ isError: true, text: error.message }),
    );
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /drop_store/);

    const wrongType = (await client.callTool({ name: 'read_session', arguments: { sessionId: 42 } })) as CallToolResult;
    assert.equal(wrongType.isError, true);
    assert.match(textOf(wrongType), /sessionId|string/i);

    const noSuchSession = (await client.callTool({ name: 'read_session', arguments: { sessionId: 'facts:workspace' } })) as CallToolResult;
    assert.equal(noSuchSession.isError, true);
    assert.match(textOf(noSuchSession), /no session/);

    const badKey = (await client.callTool({ name: 'propose_fact', arguments: { key: 'bad key with spaces\n', value: 'x' } })) as CallToolResult;
    assert.equal(badKey.isError, true);

    const huge = 'y'.repeat(20 * 1024 * 1024);
    const tooBig = (await client.callTool({ name: 'propose_fact', arguments: { key: 'big.value', value: huge } })) as CallToolResult;
    assert.equal(tooBig.isError, true);
    const bigNote = (await client.callTool({ name: 'record_note', arguments: { text: huge } })) as CallToolResult;
    assert.equal(bigNote.isError, true);

    // Still serving, and nothing of the bad calls was stored.
    assert.equal(textOf(await client.callTool({ name: 'get_facts', arguments: {} })), 'no facts');
    await client.close();
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      assert.deepEqual(ledger.facts().proposals(), []);
      assert.equal(ledger.getSession(mcpNotesStreamId), undefined);
      // Refused calls are in the log too, those the SDK refused before a tool ran included.
      const calls = ledger.readSession(mcpCallsStreamId).flatMap((event) => (event.kind === 'mcp.call' ? [event.body as { client: string; tool: string; ok: boolean; error?: string }] : []));
      assert.deepEqual(
        calls.map((call) => [call.client, call.tool, call.ok]),
        [['drop_store', false], ['read_session', false], ['read_session', false], ['propose_fact', false], ['propose_fact', false], ['record_note', false], ['get_facts', true]].map(([tool, ok]) => ['test-assistant', tool, ok]),
      );
      assert.match(calls[0]!.error ?? '', /drop_store not found/);
      assert.match(calls[1]!.error ?? '', /sessionId/);
      assert.ok(calls.every((call) => (call.error ?? '').length <= 2000));
      const verify = await ledger.verify();
      assert.equal(verify.ok, true, JSON.stringify(verify));
    } finally {
      ledger.close();
    }
  });

  it('answers a message over the size limit with an MCP error and keeps the connection', async () => {
    await client.close();
    client = new Client({ name: 'big-sender', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliScript, '--store', store, 'mcp'], stderr: 'pipe', env: { ...(process.env as Record<string, string>), CONTEXT_LEDGER_MCP_MAX_MESSAGE_BYTES: '1000000' } }));
    await assert.rejects(client.callTool({ name: 'record_note', arguments: { text: 'z'.repeat(2_000_000) } }), /over the 1000000-byte limit: nothing was done/);
    assert.equal(textOf(await client.callTool({ name: 'record_note', arguments: { text: 'small' } })), 'noted');
    await client.close();
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const calls = ledger.readSession(mcpCallsStreamId).flatMap((event) => (event.kind === 'mcp.call' ? [event.body as { client: string; tool: string; ok: boolean }] : []));
      assert.deepEqual(calls.map((call) => [call.client, call.tool, call.ok]), [['big-sender', '(oversized message)', false], ['big-sender', 'record_note', true]]);
      const notes = ledger.readSession(mcpNotesStreamId).filter((event) => event.kind === 'mcp.note');
      assert.deepEqual(notes.map((event) => (event.body as { text: string }).text), ['small']);
    } finally {
      ledger.close();
    }
  });

  it('finishes and logs a call when stdin closes mid-call, and exits cleanly', async () => {
    await client.close();
    const child = spawn(process.execPath, [cliScript, '--store', store, 'mcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const send = (message: object): boolean => child.stdin.write(JSON.stringify(message) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'record_note', arguments: { text: 'written as stdin closed' } } });
    // Half a message, then stdin closes: the partial line is dropped, the whole one answered.
    child.stdin.end('{"jsonrpc":"2.0","id":3,"method":"tools/ca');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: number; result?: CallToolResult });
    assert.deepEqual(answers.map((answer) => answer.id), [1, 2]);
    assert.equal(textOf(answers[1]!.result), 'noted');
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const notes = ledger.readSession(mcpNotesStreamId).filter((event) => event.kind === 'mcp.note');
      assert.deepEqual(notes.map((event) => (event.body as { client: string }).client), ['raw-client']);
      assert.equal((await ledger.verify()).ok, true);
    } finally {
      ledger.close();
    }
  });
  it('answers a line that is not JSON with a parse error and a 20 MB query with an MCP error; searches in flight when stdin closes answer and are logged', async () => {
    await client.close();
    const folder = path.join(temp.dir, 'work');
    writeTree(folder, { 'src/invoice.ts': sourceFile('computeInvoiceTotal', 'adds the invoice lines') });
    assert.equal(runCliProcess(store, ['index', folder]).code, 0);
    const child = spawn(process.execPath, [cliScript, '--store', store, 'mcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const send = (message: object): boolean => child.stdin.write(JSON.stringify(message) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    child.stdin.write('{"jsonrpc":"2.0","id":7,"method":"tools/call",,}\n');
    send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'q'.repeat(20 * 1024 * 1024) } } });
    send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'computeInvoiceTotal' } } });
    child.stdin.end();
    assert.equal(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 0);
    type Answer = { id: number | null; result?: CallToolResult; error?: { code: number; message: string } };
    const answers = new Map(stdout.trim().split('\n').map((line) => JSON.parse(line) as Answer).map((answer) => [answer.id, answer]));
    assert.deepEqual([...answers.keys()].sort(), [1, 8, 9, null].sort());
    assert.equal(answers.get(null)!.error!.code, -32700);
    assert.match(answers.get(null)!.error!.message, /not JSON: nothing was done/);
    assert.equal(answers.get(8)!.result!.isError, true);
    assert.match(textOf(answers.get(9)!.result), /src\/invoice\.ts:\d+-\d+/);
    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const calls = ledger.readSession(mcpCallsStreamId).flatMap((event) => (event.kind === 'mcp.call' ? [event.body as { tool: string; ok: boolean }] : []));
      assert.deepEqual(calls.map((call) => `${call.tool} ${call.ok}`).sort(), ['(unparsable message) false', 'search_memory false', 'search_memory true']);
      assert.equal((await ledger.verify()).ok, true);
    } finally {
      ledger.close();
    }
  });
});
