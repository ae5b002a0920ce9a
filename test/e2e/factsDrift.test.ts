// The Facts view's Drifted group as a person sees it follow AGENTS.md: a stored package-manager
// fact moves to Drifted when AGENTS.md is changed on disk to contradict it (the drift watcher
// re-checks 300 ms after the change and refreshes the tree, nothing is clicked), and back to
// Active when the change is reverted. Uses this file's own workspace and store. Screenshots in
// test-results/e2e/.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Workbench, e2eEnvironment } from './workbench';

const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const agents = (manager: string) => `# Agents\n\n- Use \`${manager}\` for every command.\n`;
const key = 'tools.packageManager';

describe('the Facts view follows prompt drift', () => {
  let workbench: Workbench;
  let agentsFile: string;

  before(async () => {
    const store = process.env.CONTEXT_LEDGER_E2E_CHAT_STORE;
    const url = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
    if (!store || !url) {
      throw new Error('CONTEXT_LEDGER_E2E_CHAT_STORE and CONTEXT_LEDGER_E2E_CHAT_URL are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
    }
    const folder = new URL(url).searchParams.get('folder')!;
    agentsFile = path.join(folder, 'AGENTS.md');
    fs.writeFileSync(agentsFile, agents('pnpm'));
    // No prompt version on the fact: only a contradiction can make it drifted, so reverting the
    // file must clear it (a version would leave it drifted as made under an older prompt).
    const lines = [
      { kind: 'session.started', id: 'facts-stream-start', sessionId: 'facts:workspace', body: { name: 'Facts' } },
      { kind: 'fact.asserted', id: 'e2e-drift-fact', sessionId: 'facts:workspace', body: { key, value: 'pnpm', scope: 'workspace', trust: 'user', provenance: { sessionId: null, eventId: null, path: null, line: null }, citations: [], promptVersion: null, seen: {}, policy: 'surface' } },
    ];
    const appended = spawnSync(process.execPath, [cli, '--store', store, 'append'], { input: lines.map((line) => JSON.stringify(line)).join('\n') + '\n', encoding: 'utf8' });
    assert.equal(appended.status, 0, appended.stderr);
    const environment = e2eEnvironment();
    workbench = await Workbench.open({ ...environment, url, profileDir: `${environment.profileDir}-facts-drift` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('moves a fact to Drifted when AGENTS.md comes to contradict it, and back when that is reverted', async () => {
    try {
      await driftedFollowsTheFile();
    } catch (error) {
      await workbench.screenshot('facts-drift-FAILED').catch(() => undefined);
      throw error;
    }
  });

  async function driftedFollowsTheFile(): Promise<void> {
    const { row } = await workbench.openFactsPane();
    const groupCount = (group: string, count: number) => row(group).locator('.label-description', { hasText: new RegExp(`^${count}$`) });
    const fact = row(key);
    // The fact's icon says its group: a compass under Drifted, a note under Active.
    await fact.locator('.codicon-note').waitFor({ timeout: 60_000 });
    await groupCount('Drifted', 0).waitFor();
    await groupCount('Active', 1).waitFor();
    await workbench.screenshot('facts-drift-01-active');

    fs.writeFileSync(agentsFile, agents('npm'));
    const drifted = performance.now();
    await fact.locator('.codicon-compass').waitFor({ timeout: 15_000 });
    await groupCount('Drifted', 1).waitFor();
    await groupCount('Active', 0).waitFor();
    console.log(`Drifted group updated ${Math.round(performance.now() - drifted)} ms after AGENTS.md changed`);
    await workbench.screenshot('facts-drift-02-drifted');

    fs.writeFileSync(agentsFile, agents('pnpm'));
    const reverted = performance.now();
    await fact.locator('.codicon-note').waitFor({ timeout: 15_000 });
    await groupCount('Drifted', 0).waitFor();
    await groupCount('Active', 1).waitFor();
    console.log(`Drifted group cleared ${Math.round(performance.now() - reverted)} ms after AGENTS.md was reverted`);
    await workbench.screenshot('facts-drift-03-reverted');
  }
});
