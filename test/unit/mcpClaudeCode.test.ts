import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { claudeProjectDir } from '../../src/core/mcp/claudeCodeProjects';
import { mcpCallsStreamId } from '../../src/core/mcp/mcpEvents';
import { ensureClaudeCode } from '../fixtures/claudeCodeBinary';
import { cliScript, runCliProcess } from '../fixtures/cliRunner';
import { scripts } from '../fixtures/messagesApiScripts';
import { startMessagesApiServer, type MessagesApiServer } from '../fixtures/messagesApiServer';
import { sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { writeTree } from '../fixtures/workspaceTree';

// Claude Code itself (npm @anthropic-ai/claude-code, offline against the local Messages API
// server) with `context-ledger mcp` as its MCP server: the scripted model calls
// mcp__ledger__search_memory, Claude Code runs it through our server, and we read the result
// in the transcript Claude Code writes and the call in our log, under Claude Code's name.

const binary = ensureClaudeCode();
const skip = 'unavailable' in binary ? `the Claude Code binary could not be obtained: ${binary.unavailable}` : false;

describe('Claude Code calling search_memory through the MCP server', { skip }, () => {
  let server: MessagesApiServer;
  let temp: ReturnType<typeof makeTempDir>;

  before(async () => {
    server = await startMessagesApiServer({ allowConsecutiveRoles: true });
    temp = makeTempDir('context-ledger-claude-mcp-');
  });
  after(async () => {
    await server.close();
    temp.remove();
  });

  it('runs the tool end to end, offline: the hit is in the transcript and the call in the log', async () => {
    const home = path.join(temp.dir, 'home');
    const work = path.join(temp.dir, 'work');
    const store = path.join(temp.dir, 'store');
    fs.mkdirSync(home);
    writeTree(work, { 'src/invoice.ts': sourceFile('computeInvoiceTotal', 'adds the invoice lines') });
    const indexed = runCliProcess(store, ['index', work]);
    assert.equal(indexed.code, 0, indexed.stderr);
    const config = path.join(temp.dir, 'mcp.json');
    fs.writeFileSync(config, JSON.stringify({ mcpServers: { ledger: { command: process.execPath, args: [cliScript, '--store', store, 'mcp'] } } }));

    server.script(scripts.toolUse('mcp__ledger__search_memory', { query: 'computeInvoiceTotal' }, { text: 'Let me search the memory.' }), scripts.text('DONE: computeInvoiceTotal is in src/invoice.ts.'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        (binary as { path: string }).path,
        ['-p', 'Where is the invoice total computed?', '--mcp-config', config, '--strict-mcp-config', '--allowedTools', 'mcp__ledger__search_memory'],
        {
          cwd: work,
          timeout: 90_000,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ANTHROPIC_BASE_URL: server.baseUrl, ANTHROPIC_API_KEY: 'sk-ant-test-dummy', DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
        },
        (error, out, stderr) => (error ? reject(new Error(`claude failed: ${error.message}\n${stderr}`)) : resolve(out)),
      );
    });
    assert.match(stdout, /DONE: computeInvoiceTotal is in src\/invoice\.ts/);

    // The request after the tool call carried our server's answer back to the model.
    const toolResults = server.messageRequests().flatMap((request) => JSON.stringify(request.body).match(/src\/invoice\.ts:\d+-\d+/g) ?? []);
    assert.ok(toolResults.length > 0, 'the tool result reached the model');

    // The transcript Claude Code wrote, in the project folder we compute for "Claude Code alongside".
    const projectDir = claudeProjectDir(work, { CLAUDE_CONFIG_DIR: path.join(home, '.claude') });
    const transcripts = fs.readdirSync(projectDir).filter((name) => name.endsWith('.jsonl'));
    assert.equal(transcripts.length, 1, `transcripts in ${projectDir}`);
    const records = fs.readFileSync(path.join(projectDir, transcripts[0]!), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type?: string; message?: { content?: unknown } });
    const results = records.filter((record) => record.type === 'user' && JSON.stringify(record.message?.content ?? '').includes('tool_result'));
    assert.equal(results.length, 1);
    const resultText = JSON.stringify(results[0]!.message!.content);
    assert.match(resultText, /src\/invoice\.ts:\d+-\d+/);
    assert.match(resultText, /computeInvoiceTotal/);
    assert.match(resultText, /provided as data/);
    assert.equal(resultText.includes('"is_error":true'), false);

    const ledger = await Ledger.open({ storeDir: store, readOnly: true, snapshotEveryEvents: 0 });
    try {
      const calls = ledger.readSession(mcpCallsStreamId).flatMap((event) => (event.kind === 'mcp.call' ? [event.body] : []));
      assert.deepEqual(calls.map((call) => [call.tool, call.ok]), [['search_memory', true]]);
      assert.match(calls[0]!.client, /claude/i, `the client name Claude Code gave: ${calls[0]!.client}`);
    } finally {
      ledger.close();
    }
  });
});
