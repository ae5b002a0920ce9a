import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { VerifyReport } from '../../../src/core/ledger';
import type { RepairResult } from '../../../src/shared/engineProtocol';
import { activateExtension, runnerEnvironment } from '../helpers';

// A store VS Code meets damaged, as a user would after a disk fault and a lost store.json: the
// engine says why it cannot open it and that Repair Store can mend it; Repair Store keeps the
// store id (from the snapshot) and opens it; Verify Store then names the record the flipped
// byte destroyed and what it cost. Nothing else of the session is lost.
describe('a damaged store in VS Code', () => {
  const { storeDir } = runnerEnvironment();

  it('says the store cannot be opened, and that repair can mend it', async () => {
    const api = await activateExtension();
    const info = await api.engineInfo();
    assert.match(info.openError ?? '', /store\.json is missing/);
    assert.equal(info.openErrorRepairable, true);
    await assert.rejects(api.listSessions(), /store\.json is missing/, 'requests fail with the reason, not silently empty');
  });

  it('Repair Store writes a new store.json keeping the store id, and the engine opens the store', async () => {
    const api = await activateExtension();
    const result = await vscode.commands.executeCommand<RepairResult | undefined>('contextLedger.repairStore', { confirmed: true });
    assert.ok(result, 'the command ran');
    assert.equal(result.repaired, true);
    const expectedId = process.env.CONTEXT_LEDGER_TEST_EXPECTED_STORE_ID ?? 'unset';
    assert.match(result.lines.join('\n'), new RegExp(`keeping the store id ${expectedId} \\(recovered from snapshot`));
    const manifest = JSON.parse(fs.readFileSync(path.join(storeDir, 'store.json'), 'utf8')) as { storeId: string };
    assert.equal(manifest.storeId, expectedId);
    assert.equal((await api.engineInfo()).openError, null);
    const session = (await api.listSessions()).find((candidate) => candidate.name === 'Damaged session');
    assert.ok(session, 'the session is back');
    // Four of its five events: the flipped byte cost one record, nothing more.
    assert.equal(session.eventCount, 4);
  });

  it('Verify Store names the damaged record and what it cost', async () => {
    const report = await vscode.commands.executeCommand<VerifyReport | undefined>('contextLedger.verifyStore');
    assert.ok(report);
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, 1, report.problems.join('\n'));
    assert.match(report.problems[0]!, /damaged journal record .* checksum mismatch: one record lost \(probably a message\.user event of session damaged-s1/);
  });

  it('Repair Store on an open store changes nothing and says so', async () => {
    const before = fs.readFileSync(path.join(storeDir, 'store.json'), 'utf8');
    const result = await vscode.commands.executeCommand<RepairResult | undefined>('contextLedger.repairStore', { confirmed: true });
    assert.equal(result, undefined);
    assert.equal(fs.readFileSync(path.join(storeDir, 'store.json'), 'utf8'), before);
  });
});
