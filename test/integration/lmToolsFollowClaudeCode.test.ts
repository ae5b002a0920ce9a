import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { claudeProjectDir } from '../../src/core/mcp/claudeCodeProjects';
import { toJsonl, version1Records } from '../fixtures/claudeCodeTranscripts';
import { activateExtension, waitFor } from './helpers';

// "Claude Code alongside": with contextLedger.import.followClaudeCode = workspace, a transcript
// Claude Code writes for this folder appears in the Sessions view, and what it gains follows.
describe('following Claude Code', () => {
  it('imports the sessions of this folder as Claude Code writes them, once the setting is on', async () => {
    const api = await activateExtension();
    const config = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-claude-config-'));
    const previous = process.env.CLAUDE_CONFIG_DIR;
    // The follower reads it in this process (the extension host) when the setting changes.
    process.env.CLAUDE_CONFIG_DIR = config;
    const settings = vscode.workspace.getConfiguration('contextLedger');
    try {
      const project = claudeProjectDir(vscode.workspace.workspaceFolders![0]!.uri.fsPath);
      fs.mkdirSync(project, { recursive: true });
      const sessionId = '7c1d2e3f-0000-4000-8000-00000000f011';
      const records = version1Records(sessionId);
      const file = path.join(project, `${sessionId}.jsonl`);
      fs.writeFileSync(file, toJsonl(records.slice(0, 2)));
      const other = path.join(config, 'projects', '-some-other-project');
      fs.mkdirSync(other, { recursive: true });
      fs.writeFileSync(path.join(other, 'aaaaaaaa-0000-4000-8000-00000000f012.jsonl'), toJsonl(version1Records('aaaaaaaa-0000-4000-8000-00000000f012').slice(0, 2)));
      assert.equal((await api.listSessions()).some((session) => session.id === `claude-${sessionId}`), false, 'nothing is imported while the setting is off');

      await settings.update('import.followClaudeCode', 'workspace', vscode.ConfigurationTarget.Workspace);
      const first = await waitFor('the Claude Code session in the Sessions list', async () => (await api.listSessions()).find((session) => session.id === `claude-${sessionId}`), 20_000);
      fs.appendFileSync(file, toJsonl(records.slice(2)));
      await waitFor('the lines Claude Code added', async () => {
        const session = (await api.listSessions()).find((candidate) => candidate.id === `claude-${sessionId}`);
        return session && session.eventCount > first.eventCount ? session : undefined;
      }, 20_000);
      assert.equal((await api.listSessions()).some((session) => session.id.includes('aaaaaaaa')), false, "another project's sessions stay out with `workspace`");
    } finally {
      await settings.update('import.followClaudeCode', undefined, vscode.ConfigurationTarget.Workspace);
      if (previous === undefined) {
        delete process.env.CLAUDE_CONFIG_DIR;
      } else {
        process.env.CLAUDE_CONFIG_DIR = previous;
      }
      fs.rmSync(config, { recursive: true, force: true });
    }
  });
});
