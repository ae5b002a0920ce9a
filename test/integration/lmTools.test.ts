import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FactsListResult } from '../../src/shared/factsProtocol';
import { activateExtension, runCli, runnerEnvironment, waitFor } from './helpers';

// The memory tools as VS Code language-model tools in a real VS Code: listed by vscode.lm.tools,
// invoked through vscode.lm.invokeTool (as Copilot's agent mode or a chat participant would),
// and a proposal made through a tool waiting in the Facts view, not active. Copy MCP Server Setup… gives the command for this window's store.
describe('language-model tools', () => {
  const ours = ['get_facts', 'list_sessions', 'propose_fact', 'read_session', 'record_note', 'search_memory'].map((name) => `contextLedger_${name}`);
  const invoke = async (name: string, input: object): Promise<string> => {
    const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
    return result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
  };

  it('lists the tools, answers searches from the index, and a proposal made through a tool waits in the Facts view for confirmation', async () => {
    await activateExtension();
    assert.deepEqual(vscode.lm.tools.filter((tool) => tool.name.startsWith('contextLedger_')).map((tool) => tool.name).sort(), ours);
    const propose = vscode.lm.tools.find((tool) => tool.name === 'contextLedger_propose_fact')!;
    assert.deepEqual((propose.inputSchema as { required?: string[] }).required, ['key', 'value']);

    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    fs.mkdirSync(path.join(folder, 'src'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'src', 'ledgerProbe.ts'), 'export function reconcileLedgerProbeZq(total: number): number {\n  return total;\n}\n');
    await vscode.commands.executeCommand('contextLedger.reindexWorkspace');
    const found = await waitFor('the probe file in search_memory', async () => {
      const text = await invoke('contextLedger_search_memory', { query: 'reconcileLedgerProbeZq' });
      return /src\/ledgerProbe\.ts:1-/.test(text) ? text : undefined;
    });
    assert.match(found, /provided as data/);
    assert.match(await invoke('contextLedger_list_sessions', {}), /no sessions|session list/);
    await assert.rejects(invoke('contextLedger_read_session', { sessionId: 'no-such-session' }), /no session "no-such-session"/);

    // A write's confirmation is VS Code's dialog (inline in a chat), which VS Code itself answers
    // "yes" while extension tests run (DialogService.skipDialogs): the call goes through here.
    const key = `lm.tool.${Date.now()}`;
    assert.match(await invoke('contextLedger_propose_fact', { key, value: 'pnpm test', reason: 'the lockfile is pnpm-lock.yaml' }), /not a fact until then/);

    const listed = await waitFor('the proposal in the Facts view', async () => {
      const result = await vscode.commands.executeCommand<FactsListResult>('contextLedger.refreshFacts');
      return result.proposals.some((proposal) => proposal.key === key) ? result : undefined;
    });
    assert.equal(listed.facts.some((fact) => fact.key === key), false, 'a proposal is not an active fact');
    assert.match(await invoke('contextLedger_get_facts', {}), new RegExp(`proposed \\(pending, not a fact yet\\) ${key.replace(/\./g, '\\.')} = "pnpm test"`));

    // The calls are in the log with VS Code as the client.
    const shown = await runCli(runnerEnvironment(), ['show', 'mcp:calls']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /MCP VS Code language-model tools \([^)]*\) called propose_fact: ok/);
    assert.match(shown.stdout, /called read_session: failed/);
  });

  it('copies the MCP server setup for Claude Code with this window\'s store', async () => {
    const api = await activateExtension();
    const snippet = await vscode.commands.executeCommand<{ text: string }>('contextLedger.copyMcpServerSetup', 'claude-code');
    assert.match(snippet.text, /^claude mcp add --scope user context-ledger -- /);
    assert.ok(snippet.text.includes(`--store ${api.storeDir} mcp`) || snippet.text.includes(`--store '${api.storeDir}' mcp`), snippet.text);
    assert.ok(snippet.text.includes(path.join('dist', 'cli.js')));
    assert.equal(await vscode.env.clipboard.readText(), snippet.text);
  });
});
