import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigurationSource } from '../../src/extension/chat/chatSettings';
import { factsDefaults, readFactsSettings, restrictedFactsSettings } from '../../src/extension/facts/factsSettings';

// The facts settings an untrusted workspace must not choose, read as VS Code gives them: the
// merged value (workspace over user) and the user's own value (inspect().globalValue).
function source(workspace: Record<string, unknown>, user: Record<string, unknown>): ConfigurationSource {
  return { get: (key) => (key in workspace ? workspace[key] : user[key]), inspect: (key) => ({ globalValue: user[key] }) };
}

describe('facts settings', () => {
  const workspace = { 'facts.conflictPolicy': 'lastWriterWins', 'facts.budgetTokens': 20000, 'facts.reviewAfterDays': 0 };

  it("uses the workspace's values in a trusted workspace, and only the user's in an untrusted one", () => {
    assert.deepEqual(readFactsSettings(source(workspace, {}), true), { conflictPolicy: 'lastWriterWins', budgetTokens: 20000, reviewAfterDays: 0 });
    assert.deepEqual(readFactsSettings(source(workspace, {}), false), factsDefaults);
    assert.deepEqual(readFactsSettings(source(workspace, { 'facts.budgetTokens': 300, 'facts.reviewAfterDays': 7 }), false), { conflictPolicy: 'surface', budgetTokens: 300, reviewAfterDays: 7 });
  });

  it('falls back to the defaults for bad values and caps the budget', () => {
    assert.deepEqual(readFactsSettings(source({ 'facts.conflictPolicy': 'yolo', 'facts.budgetTokens': -5, 'facts.reviewAfterDays': 'soon' }, {}), true), factsDefaults);
    assert.equal(readFactsSettings(source({ 'facts.budgetTokens': 1e9 }, {}), true).budgetTokens, 20000);
  });

  it('restricts in package.json exactly the facts settings it reads as restricted, with the same defaults', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
      contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
    };
    const declared = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.filter((key) => key.startsWith('contextLedger.facts.'));
    assert.deepEqual(declared.sort(), restrictedFactsSettings.map((key) => `contextLedger.${key}`).sort());
    const properties = manifest.contributes.configuration.properties;
    assert.equal(properties['contextLedger.facts.conflictPolicy']?.default, factsDefaults.conflictPolicy);
    assert.equal(properties['contextLedger.facts.budgetTokens']?.default, factsDefaults.budgetTokens);
    assert.equal(properties['contextLedger.facts.reviewAfterDays']?.default, factsDefaults.reviewAfterDays);
  });
});
