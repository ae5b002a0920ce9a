// Prompt drift in a real extension host: Check Prompt Drift puts the engine's diagnostics on
// AGENTS.md's lines, the update-the-line code action fixes the line, and a change to
// package.json is picked up by the file watcher without running the command again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DriftCheckResult } from '../../src/shared/driftProtocol';
import { activateExtension, waitFor } from './helpers';

const agents = ['# Agents', '', '- Build: `npm run build`', '- Test: `npm run test:unit`', '- Sources are in `src/`, the notes in `docs/notes.md`.', ''].join('\n');
const packageJson = JSON.stringify({ name: 'drift-sample', private: true, scripts: { build: 'tsc', 'unit-test': 'node --test' } }, null, 2);

function driftOf(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === 'Context Ledger');
}

describe('prompt drift', () => {
  const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const created = ['AGENTS.md', 'package.json', 'package-lock.json'].map((name) => path.join(folder, name));

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const file of created) {
      fs.rmSync(file, { force: true });
    }
    await vscode.commands.executeCommand('contextLedger.checkPromptDrift');
  });

  it('shows drift on AGENTS.md lines, fixes a line with its code action, and re-checks when package.json changes', async () => {
    await activateExtension();
    fs.writeFileSync(created[0]!, agents);
    fs.writeFileSync(created[1]!, packageJson);
    fs.writeFileSync(created[2]!, '{}\n');
    const result = await vscode.commands.executeCommand<DriftCheckResult | undefined>('contextLedger.checkPromptDrift');
    assert.ok(result, 'the command returned the check');
    assert.equal(result.unavailable, null);
    assert.ok(result.promptFiles.includes('AGENTS.md'), JSON.stringify(result.promptFiles));
    assert.ok(result.promptVersion && result.promptVersion.version >= 1);
    const uri = vscode.Uri.file(created[0]!);
    const diagnostics = driftOf(uri);
    assert.deepEqual(
      diagnostics.map((diagnostic) => `${diagnostic.range.start.line + 1} ${diagnostic.code as string}`),
      ['4 missing-script', '5 missing-path'],
    );
    assert.match(diagnostics[0]!.message, /no script "test:unit" \(it has "unit-test"\)/);

    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    // A document an earlier test left open is reloaded from disk on the editor's own time, and
    // the fix is offered only against the text it was made for (the CI once asked too early).
    await waitFor('the editor to hold AGENTS.md as written', async () => (document.getText() === agents ? true : undefined));
    let offered: string[] = [];
    // The editor cancels a code-action request when the document or its diagnostics change under
    // it (a reload, a re-check by the watcher): waitFor asks again, as the light bulb would.
    const update = await waitFor('the update-the-line code action', async () => {
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diagnostics[0]!.range, vscode.CodeActionKind.QuickFix.value);
      offered = actions.map((action) => action.title);
      return actions.find((action) => action.title === 'Replace with unit-test' && action.edit);
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; the last request offered: [${offered.join(', ')}]`);
    });
    assert.ok(update.edit);
    assert.ok(await vscode.workspace.applyEdit(update.edit));
    assert.equal(document.lineAt(3).text, '- Test: `npm run unit-test`');
    await document.save();
    // The save re-checks on its own.
    await waitFor('the fixed line to lose its diagnostic', async () => (driftOf(uri).length === 1 ? true : undefined));

    // A script renamed in package.json: the watcher re-checks, the build line drifts now.
    fs.writeFileSync(created[1]!, packageJson.replace('"build"', '"compile"'));
    await waitFor('the renamed build script to be flagged', async () => (driftOf(uri).some((diagnostic) => diagnostic.range.start.line === 2 && diagnostic.code === 'missing-script') ? true : undefined));
  });
});
