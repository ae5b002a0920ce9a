// A compaction in the chat panel of the packaged extension, seen through chromium: the chat shows
// the seeded "Long conversation"; a compaction committed by another writer (the CLI, as an
// automatic one is by the engine) appears in the conversation as its own row, saying what
// replaces which turns, with an Undo link; Undo there takes it back, and the row says so.
// Screenshots: test-results/e2e/chat-compaction-*.png.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { Workbench, e2eEnvironment, screenshotSteps, webviewDocument } from './workbench';

function readEnvironment(): { chatUrl: string; chatStore: string } {
  const chatUrl = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  const chatStore = process.env.CONTEXT_LEDGER_E2E_CHAT_STORE;
  if (!chatUrl || !chatStore) {
    throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL and CONTEXT_LEDGER_E2E_CHAT_STORE are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
  }
  return { chatUrl, chatStore };
}

describe('a compaction in the chat, in the browser', () => {
  let workbench: Workbench;
  let env: ReturnType<typeof readEnvironment>;
  const cli = (args: string[]): string => execFileSync(process.execPath, [path.join(__dirname, '..', '..', '..', 'dist', 'cli.js'), '--store', env.chatStore, ...args], { encoding: 'utf8' });
  const chat = (): FrameLocator => webviewDocument(workbench.page);

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('chat-compaction-', () => workbench);

  before(async () => {
    env = readEnvironment();
    const environment = e2eEnvironment();
    workbench = await Workbench.open({ ...environment, url: env.chatUrl, profileDir: `${environment.profileDir}-chat-compaction` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('shows a committed compaction as its own row with Undo, and Undo takes it back', async () => {
    await shot('long-session', async () => {
      await workbench.activityBarItem().click();
      await workbench.sessionRow('Long conversation').click();
      await chat().locator('article.turn.user[data-turn="20"]').waitFor();
    });
    const note = chat().locator('.compaction-note');
    await shot('compacted', async () => {
      cli(['compact', 'e2e-long', '--yes']);
      await note.waitFor();
      await note.scrollIntoViewIfNeeded();
    });
    assert.match((await note.locator('.compaction-text').textContent()) ?? '', /^Compacted\. Summary of turns 1–18, [\d,]+ tokens, replaces [\d,]+ \(balanced, offline\)\. The turns stay in the log\.$/);
    assert.match(cli(['context', 'e2e-long', '--window', 'full', '--prompt', 'next', '--json']), /"kind": "compaction"/);
    await shot('undone', async () => {
      await note.locator('button[data-action="undo-compaction"]').click();
      await chat().locator('.compaction-note.undone').waitFor();
    });
    assert.match((await chat().locator('.compaction-note.undone .compaction-text').textContent()) ?? '', /Undone: these turns go into requests as they were\.$/);
    assert.equal(await chat().locator('.compaction-note button').count(), 0, 'no Undo on an undone compaction');
    assert.doesNotMatch(cli(['context', 'e2e-long', '--window', 'full', '--prompt', 'next', '--json']), /"kind": "compaction"/);
  });
});
