import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FactView } from '../../src/core/facts/factTypes';
import type { FactsListResult } from '../../src/shared/factsProtocol';
import { activateExtension, answerInputBox, jsonLines, runCli, runnerEnvironment, waitFor } from './helpers';

// The Facts view's commands in a real VS Code: Add Fact… through its input boxes, a conflict
// written by the CLI beside the window's engine, a merge from a stale read refused, and Keep
// This Value clearing the conflict.
describe('facts', () => {
  const key = `build.command.${Date.now()}`;
  const list = () => vscode.commands.executeCommand<FactsListResult>('contextLedger.refreshFacts');
  const factOf = async (name: string): Promise<FactView | undefined> => (await list()).facts.find((fact) => fact.key === name);

  it('adds a fact, shows a concurrent CLI write as a conflict, and merges it from the view', async () => {
    const api = await activateExtension();
    const added = vscode.commands.executeCommand<FactView>('contextLedger.addFact');
    await answerInputBox('Fact key', key);
    await answerInputBox(`Value of ${key}`, 'npm run build');
    const fact = await added;
    assert.equal(fact?.state, 'active', 'Add Fact… stored the fact');
    assert.equal(fact.heads[0]!.value, 'npm run build');
    assert.equal(fact.heads[0]!.trust, 'user');

    // The CLI writes the same key from an older read (it never saw the window's write).
    const update = { kind: 'fact.updated', sessionId: 'facts:workspace', body: { key, value: 'make', scope: 'workspace', trust: 'user', provenance: { sessionId: null, eventId: null, path: null, line: null }, citations: [], promptVersion: null, seen: {}, policy: 'surface' } };
    const cli = await runCli(runnerEnvironment(), ['append'], jsonLines([update]));
    assert.equal(cli.code, 0, cli.stderr);
    const conflicted = await waitFor('the conflict in the Facts view', async () => {
      const current = await factOf(key);
      return current?.state === 'conflicted' ? current : undefined;
    });
    assert.deepEqual(conflicted.heads.map((head) => head.value), ['npm run build', 'make']);

    // Keep This Value from the view as it was before the conflict: refused, nothing changes.
    const stale = await vscode.commands.executeCommand('contextLedger.keepFactValue', { type: 'value', fact, head: fact.heads[0], index: 1 });
    assert.equal(stale, undefined, 'a merge from a stale read is refused');
    assert.equal((await factOf(key))?.state, 'conflicted');

    const merged = await vscode.commands.executeCommand<readonly FactView[]>('contextLedger.keepFactValue', { type: 'value', fact: conflicted, head: conflicted.heads[1], index: 2 });
    assert.equal(merged?.[0]?.state, 'active');
    assert.equal(merged[0].heads[0]!.value, 'make');
    const after = await list();
    assert.equal(after.facts.filter((candidate) => candidate.state === 'conflicted' && candidate.key === key).length, 0, 'the conflict is cleared');
    // The facts stream is not a session.
    assert.equal((await api.listSessions()).some((session) => session.id.startsWith('facts:')), false);
  });
});
