// The drift diagnostics' fact code actions in a real extension host: Retire Fact on a fact the
// prompt contradicts, Mark Fact Verified on a fact made under an older prompt version, each
// through the facts engine's requests, and an action on a value another writer (the CLI)
// replaced after the check refused, nothing written.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FactView } from '../../src/core/facts/factTypes';
import type { DriftCheckResult } from '../../src/shared/driftProtocol';
import type { FactsListResult } from '../../src/shared/factsProtocol';
import { activateExtension, answerInputBox, jsonLines, runCli, runnerEnvironment, waitFor } from './helpers';

function driftOf(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === 'Context Ledger');
}

describe('drift fact code actions', () => {
  const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const files = { agents: path.join(folder, 'AGENTS.md'), packageJson: path.join(folder, 'package.json'), lock: path.join(folder, 'pnpm-lock.yaml') };
  const stamp = Date.now();
  const managerKey = `tools${stamp}.packageManager`;
  const styleKey = `style${stamp}.quotes`;
  const list = () => vscode.commands.executeCommand<FactsListResult>('contextLedger.refreshFacts');
  const factOf = async (key: string): Promise<FactView | undefined> => (await list()).facts.find((fact) => fact.key === key);
  const check = () => vscode.commands.executeCommand<DriftCheckResult | undefined>('contextLedger.checkPromptDrift');
  const addFact = async (key: string, value: string): Promise<FactView> => {
    const added = vscode.commands.executeCommand<FactView>('contextLedger.addFact');
    await answerInputBox('Fact key', key);
    await answerInputBox(`Value of ${key}`, value);
    const fact = await added;
    assert.ok(fact, `Add Fact… stored ${key}`);
    return fact;
  };
  const actionsAt = async (uri: vscode.Uri, diagnostic: vscode.Diagnostic): Promise<vscode.CodeAction[]> => {
    // The range at the diagnostic's start: a whole-line diagnostic ends at a column the command refuses.
    const at = new vscode.Range(diagnostic.range.start, diagnostic.range.start);
    for (let attempt = 1; ; attempt++) {
      try {
        return await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, at, vscode.CodeActionKind.QuickFix.value);
      } catch (error) {
        // The editor cancels a code-action request when the document or its diagnostics change
        // under it (a file reloaded from disk, a re-check): ask again, as the light bulb would.
        if (attempt === 5 || !/Canceled/.test(String(error))) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const run = (action: vscode.CodeAction | undefined) => {
    assert.ok(action?.command, 'the action runs a command');
    return vscode.commands.executeCommand<unknown>(action.command.command, ...((action.command.arguments ?? []) as unknown[]));
  };

  after(async () => {
    for (const key of [managerKey, styleKey]) {
      const fact = await factOf(key);
      if (fact && fact.state !== 'retired') {
        await vscode.commands.executeCommand('contextLedger.retireFact', { type: 'fact', fact });
      }
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const file of Object.values(files)) {
      fs.rmSync(file, { force: true });
    }
    await check();
  });

  it('retires a contradicted fact, marks an older-prompt fact verified, and refuses a value replaced since the check', async () => {
    await activateExtension();
    fs.writeFileSync(files.agents, '# Agents\n\n- Use `pnpm` for every command.\n');
    fs.writeFileSync(files.packageJson, JSON.stringify({ name: 'facts-drift', private: true, packageManager: 'pnpm@9.1.0' }, null, 2));
    fs.writeFileSync(files.lock, "lockfileVersion: '9.0'\n");
    await check();
    const manager = await addFact(managerKey, 'npm');
    await addFact(styleKey, 'single quotes');
    const uri = vscode.Uri.file(files.agents);
    // Code actions are asked of an open document.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const first = await check();
    assert.ok(first?.factsChecked, JSON.stringify(first));
    const contradiction = driftOf(uri).find((diagnostic) => diagnostic.code === 'fact-contradicts-prompt' && diagnostic.message.includes(managerKey));
    assert.ok(contradiction, JSON.stringify(driftOf(uri).map((diagnostic) => diagnostic.message)));
    assert.equal(contradiction.range.start.line, 2);
    // A contradiction offers Retire Fact; verifying would not answer it.
    const contradictionActions = await actionsAt(uri, contradiction);
    assert.deepEqual(contradictionActions.filter((action) => action.command?.command.startsWith('contextLedger.drift.')).map((action) => action.title), ['Retire Fact']);

    // The CLI replaces the value after the check read it: the action on the old value writes nothing.
    const update = { kind: 'fact.updated', sessionId: 'facts:workspace', body: { key: managerKey, value: 'npm (from the CLI)', scope: 'workspace', trust: 'user', provenance: { sessionId: null, eventId: null, path: null, line: null }, citations: [], promptVersion: null, seen: manager.vector, policy: 'surface' } };
    const cli = await runCli(runnerEnvironment(), ['append'], jsonLines([update]));
    assert.equal(cli.code, 0, cli.stderr);
    await waitFor('the CLI write', async () => ((await factOf(managerKey))?.heads[0]?.value === 'npm (from the CLI)' ? true : undefined));
    assert.equal(await run(contradictionActions.find((action) => action.title === 'Retire Fact')), undefined, 'refused: the value changed since the check');
    assert.equal((await factOf(managerKey))?.state, 'active', 'nothing was retired');

    // The action re-checked: the diagnostic names the current value now, and retiring it works.
    const current = await waitFor('the diagnostic of the current value', async () => driftOf(uri).find((diagnostic) => diagnostic.code === 'fact-contradicts-prompt' && diagnostic.message.includes('npm (from the CLI)')));
    const retired = await run((await actionsAt(uri, current)).find((action) => action.title === 'Retire Fact'));
    assert.equal((retired as FactView | undefined)?.state, 'retired');
    await waitFor('the contradiction to go', async () => (driftOf(uri).some((diagnostic) => diagnostic.message.includes(managerKey)) ? undefined : true));

    // A new prompt version: the style fact was made under the older one.
    fs.appendFileSync(files.agents, '- Keep commits small.\n');
    // The open editor reloads the file from disk on its own time: wait for it.
    await waitFor('the editor to reload AGENTS.md', async () => (vscode.workspace.textDocuments.find((document) => document.uri.fsPath === uri.fsPath)?.getText().includes('Keep commits small') ? true : undefined));
    await check();
    const older = driftOf(uri).find((diagnostic) => diagnostic.code === 'fact-older-prompt' && diagnostic.message.includes(styleKey));
    assert.ok(older, JSON.stringify(driftOf(uri).map((diagnostic) => diagnostic.message)));
    const olderActions = await actionsAt(uri, older);
    assert.deepEqual(olderActions.filter((action) => action.command?.command.startsWith('contextLedger.drift.')).map((action) => action.title), ['Mark Fact Verified', 'Retire Fact']);
    await run(olderActions.find((action) => action.title === 'Mark Fact Verified'));
    await waitFor('the older-prompt diagnostic to go', async () => (driftOf(uri).some((diagnostic) => diagnostic.message.includes(styleKey)) ? undefined : true));
    const style = await factOf(styleKey);
    assert.equal(style?.heads[0]?.verifyStatus, 'verified');
    assert.ok(style?.heads[0]?.verifiedPromptVersion, 'verified under the current prompt version');
  });
});
