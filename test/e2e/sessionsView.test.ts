// The packaged extension (dist/context-ledger.vsix, installed with --install-extension) in
// code-server, seen through chromium. scripts/run-e2e.mjs seeds the store with two sessions
// through the CLI before code-server starts; each step saves a screenshot of what a person sees
// in test-results/e2e/.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Workbench, e2eEnvironment, type E2eEnvironment, screenshotSteps } from './workbench';

describe('Context Ledger in the browser', () => {
  let environment: E2eEnvironment;
  let workbench: Workbench;

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('', () => workbench);

  before(async () => {
    environment = e2eEnvironment();
    workbench = await Workbench.open(environment);
  });

  after(async () => {
    await workbench?.close();
  });

  it('opens the workbench on the sample workspace, with Context Ledger in the activity bar', async () => {
    await shot('workbench', async () => {
      // The explorer of the sample workspace: the files a person would see.
      await workbench.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'README.md' }).waitFor();
      await workbench.activityBarItem().waitFor();
    });
  });

  it('lists the sessions the CLI wrote, by name, in the Sessions view', async () => {
    const rows = await shot('sessions-view', async () => {
      await workbench.activityBarItem().click();
      for (const name of environment.seeded.sessionNames) {
        await workbench.sessionRow(name).waitFor();
      }
      return workbench.sessionRowTexts();
    });
    assert.deepEqual(rows.map(([label]) => label).sort(), [...environment.seeded.sessionNames].sort());
    for (const [index, name] of environment.seeded.sessionNames.entries()) {
      const turns = environment.seeded.turnCounts[index];
      const description = rows.find(([label]) => label === name)?.[1];
      assert.match(description ?? '', new RegExp(`^${turns} turns? · (just now|\\d+ min ago)$`), `row "${name}"`);
    }
  });

  it('Show Log Stats reports the events and sessions in a notification', async () => {
    const { eventCount, sessionNames } = environment.seeded;
    const text = await shot('log-stats', async () => {
      await workbench.runCommand('Context Ledger: Show Log Stats');
      const message = workbench.notification(/^Context Ledger: \d+ events in/);
      await message.waitFor();
      return (await message.first().textContent()) ?? '';
    });
    assert.match(text, new RegExp(`^Context Ledger: ${eventCount} events in ${sessionNames.length} sessions( \\(and \\d+ in system streams\\))?; journal `));
  });

  it('New Session asks for a name and adds the session to the tree', async () => {
    const name = 'Session typed in the browser';
    await workbench.clearNotifications();
    await shot('new-session-input', async () => {
      await workbench.runCommand('Context Ledger: New Session');
      await workbench.page.locator('.quick-input-widget', { hasText: 'Name of the new session' }).waitFor();
      await workbench.quickInput().fill(name);
    });
    const rows = await shot('new-session-row', async () => {
      await workbench.quickInput().press('Enter');
      await workbench.notification(`Context Ledger: session "${name}" started.`).waitFor();
      await workbench.sessionRow(name).waitFor();
      return workbench.sessionRowTexts();
    });
    // On top (newest activity first), and open in the chat: New Session opens what it creates.
    assert.deepEqual(rows[0], [name, '0 turns · just now · open'], 'the new session is on top and open');
    assert.equal(rows.length, environment.seeded.sessionNames.length + 1);
  });

  it('Verify Store reports a healthy store in a notification', async () => {
    const expectedEvents = environment.seeded.eventCount + 1;
    await workbench.clearNotifications();
    const text = await shot('verify-store', async () => {
      await workbench.runCommand('Context Ledger: Verify Store');
      const message = workbench.notification(/^Context Ledger: store verified/);
      await message.waitFor();
      return (await message.first().textContent()) ?? '';
    });
    const verified = Number(new RegExp('^Context Ledger: store verified: (\\d+) events, .*no problems').exec(text)?.[1] ?? NaN);
    // Verify counts every event; the sessions' own are what the CLI seeded and New Session added,
    // the rest the system streams (the prompt's versions) hold.
    await workbench.clearNotifications();
    await workbench.runCommand('Context Ledger: Show Log Stats');
    const stats = (await workbench.notification(/^Context Ledger: \d+ events in/).first().textContent()) ?? '';
    const counts = /^Context Ledger: (\d+) events in \d+ sessions(?: \(and (\d+) in system streams\))?;/.exec(stats);
    assert.ok(counts, stats);
    assert.equal(Number(counts[1]), expectedEvents, stats);
    assert.equal(verified, expectedEvents + Number(counts[2] ?? 0), `${text} / ${stats}`);
  });
});
