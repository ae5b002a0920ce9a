import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineInfo } from '../../src/shared/engineProtocol';
import type { VerifyReport } from '../../src/core/ledger';
import { activateExtension, uniqueName, waitFor } from './helpers';

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('the engine process', () => {
  it('is restarted after it crashes, and still has the sessions', async () => {
    const api = await activateExtension();
    const name = uniqueName('Before the crash');
    const sessionId = await vscode.commands.executeCommand<string>('contextLedger.newSession', name);
    const sessionsBefore = await api.listSessions();
    const crashed = await api.engineInfo();

    process.kill(crashed.pid, 'SIGKILL');
    await waitFor('the killed engine to exit', async () => (processGone(crashed.pid) ? true : undefined), 5_000, 50);
    const restarted = await waitFor<EngineInfo>(
      'an engine with a new pid',
      async () => {
        const info = await api.engineInfo();
        return info.pid !== crashed.pid ? info : undefined;
      },
      15_000,
      250,
    );
    assert.equal(restarted.openError, null);
    assert.equal(restarted.storeDir, crashed.storeDir);

    const sessionsAfter = await api.listSessions();
    assert.deepEqual(
      sessionsAfter.map((session) => session.id).sort(),
      sessionsBefore.map((session) => session.id).sort(),
    );
    assert.equal(sessionsAfter.find((session) => session.id === sessionId)?.name, name);

    // The new engine can write (the dead one's maintenance lock does not block it) and the
    // store is whole.
    const afterId = await vscode.commands.executeCommand<string>('contextLedger.newSession', uniqueName('After the crash'));
    assert.equal(typeof afterId, 'string');
    assert.ok((await api.listSessions()).some((session) => session.id === afterId));
    const report = await vscode.commands.executeCommand<VerifyReport>('contextLedger.verifyStore');
    assert.equal(report.ok, true, `problems: ${report.problems.join('; ')}`);
  });

  it('is restarted by the Restart Engine command', async () => {
    const api = await activateExtension();
    const before = await api.engineInfo();
    const sessionCount = (await api.listSessions()).length;
    await vscode.commands.executeCommand('contextLedger.restartEngine');
    const after = await waitFor<EngineInfo>('a new engine after Restart Engine', async () => {
      const info = await api.engineInfo();
      return info.pid !== before.pid ? info : undefined;
    });
    assert.equal(after.openError, null);
    assert.ok(processGone(before.pid), 'the old engine exited');
    assert.equal((await api.listSessions()).length, sessionCount);
  });
});
