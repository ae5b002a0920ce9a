import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateExtension, extensionId, runnerEnvironment } from './helpers';

interface ContributedCommand {
  readonly command: string;
}

describe('activation', () => {
  it('activates without errors and returns its API', async () => {
    const api = await activateExtension();
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension?.isActive, 'the extension reports itself active');
    assert.equal(typeof api.storeDir, 'string');
    for (const method of ['listSessions', 'stats', 'engineInfo'] as const) {
      assert.equal(typeof api[method], 'function', `the API has ${method}()`);
    }
  });

  it('keeps its store in the folder set by contextLedger.storePath', async () => {
    const api = await activateExtension();
    const { storeDir } = runnerEnvironment();
    assert.equal(fs.realpathSync(api.storeDir), fs.realpathSync(storeDir));
    assert.ok(fs.readdirSync(storeDir).length > 0, 'the engine created its files in the store folder');
  });

  it('runs the engine in its own process, with the store open', async () => {
    const api = await activateExtension();
    const info = await api.engineInfo();
    assert.equal(info.openError, null);
    assert.ok(Number.isInteger(info.pid) && info.pid > 0, `engine pid ${info.pid}`);
    assert.notEqual(info.pid, process.pid, 'the engine is not the extension host');
    assert.equal(info.storeDir, api.storeDir);
    assert.ok(info.writerId.length > 0, 'the engine has a writer id');
    process.kill(info.pid, 0); // throws if no such process
  });

  it('registers every command it contributes', async () => {
    await activateExtension();
    const contributed = (vscode.extensions.getExtension(extensionId)?.packageJSON as { contributes: { commands: ContributedCommand[] } }).contributes.commands.map(
      (entry) => entry.command,
    );
    assert.ok(contributed.length >= 6, `${contributed.length} contributed commands`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((command) => !registered.has(command));
    assert.deepEqual(missing, [], 'contributed but not registered');
  });

  it('shows the Sessions view in the Context Ledger container', async () => {
    await activateExtension();
    // VS Code generates `<view id>.focus` for every contributed view it knows.
    await vscode.commands.executeCommand('contextLedger.sessions.focus');
  });
});
