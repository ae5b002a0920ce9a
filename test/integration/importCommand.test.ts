// Import Claude Code Sessions… and Export Session… (JSON lines) in a real extension host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImportSummary } from '../../src/shared/importProtocol';
import { oldSessionId, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { activateExtension } from './helpers';

describe('import command', () => {
  it('imports a Claude Code project folder (all sessions), a second time adds nothing, and the session exports as JSON lines', async () => {
    const api = await activateExtension();
    const projects = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-import-')), 'projects');
    const { folder } = writeOldProject(projects);
    const summary = await vscode.commands.executeCommand<ImportSummary | undefined>('contextLedger.importClaudeCodeSessions', [folder], 'all');
    assert.ok(summary, 'the command returns its summary');
    assert.deepEqual(summary.problems, []);
    assert.equal(summary.sessionIds.length, 3);
    const sessionId = `claude-${oldSessionId}`;
    const session = (await api.listSessions()).find((candidate) => candidate.id === sessionId);
    assert.equal(session?.name, 'Fix the date parser');
    const again = await vscode.commands.executeCommand<ImportSummary | undefined>('contextLedger.importClaudeCodeSessions', [vscode.Uri.file(folder)], 'all');
    assert.equal(again?.eventsAdded, 0);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-export-')), 'session.jsonl');
    const written = await vscode.commands.executeCommand<string>('contextLedger.exportSession', sessionId, vscode.Uri.file(file));
    assert.equal(written, vscode.Uri.file(file).toString());
    const events = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string; sessionId: string });
    assert.equal(events[0]?.kind, 'session.started');
    assert.ok(events.every((event) => event.sessionId === sessionId));
    assert.ok(events.some((event) => event.kind === 'import.compactBoundary'));
  });
});
