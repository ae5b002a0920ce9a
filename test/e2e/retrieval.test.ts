// The retrieval cache of the packaged extension in code-server, seen through chromium: Reindex
// Workspace indexes the folder, Search Memory… lists hits in a quick pick and opens the picked
// one at its lines, and a chat answer's receipt lists the retrieved chunks that went into its
// request (file and lines), each a link that opens the file there. Uses the chat workspace and
// store of its own (CONTEXT_LEDGER_E2E_CHAT_URL) with the local Messages API test server.
// Screenshots in test-results/e2e/ (retrieval-*.png).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { Workbench, e2eEnvironment, screenshotSteps, webviewDocument } from './workbench';

/** A file the seeded workspace does not have, its function in the second chunk (not at line 1). */
const targetFile = 'src/invoices.ts';
const targetText = [
  '// Invoices: totals and rounding.',
  ...Array.from({ length: 70 }, (_, index) => `export const rate${index} = ${index} / 100; // a tax rate of the table`),
  '',
  'export function sumInvoiceLedgerTotals(lines: readonly number[]): number {',
  '  // Sums the lines in cents, so rounding happens once.',
  '  let cents = 0;',
  '  for (const line of lines) {',
  '    cents += Math.round(line * 100);',
  '  }',
  '  return cents / 100;',
  '}',
  '',
].join('\n');
const targetLine = targetText.split('\n').findIndex((line) => line.includes('function sumInvoiceLedgerTotals')) + 1;

function readEnvironment(): { chatUrl: string; messagesApi: string; folder: string } {
  const chatUrl = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  const messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API;
  const folder = chatUrl ? new URL(chatUrl).searchParams.get('folder') : null;
  if (!chatUrl || !messagesApi || !folder) {
    throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL and CONTEXT_LEDGER_E2E_MESSAGES_API are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
  }
  return { chatUrl, messagesApi, folder };
}

describe('the retrieval cache in the browser', () => {
  let workbench: Workbench;
  let messagesApi: string;

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('retrieval-', () => workbench);

  function chat(): FrameLocator {
    return webviewDocument(workbench.page);
  }

  /** The line of the cursor, from the status bar ("Ln 33, Col 1"). */
  async function cursorLine(): Promise<number> {
    const item = workbench.page.locator('.statusbar-item', { hasText: /^Ln \d+, Col \d+/ }).first();
    await item.waitFor();
    return Number(/^Ln (\d+)/.exec(((await item.textContent()) ?? '').trim())?.[1]);
  }

  async function closeEditors(): Promise<void> {
    await workbench.runCommand('View: Close All Editors');
    await workbench.page.locator('.tabs-container .tab').first().waitFor({ state: 'detached' });
  }

  before(async () => {
    const environment = e2eEnvironment();
    const chatEnvironment = readEnvironment();
    messagesApi = chatEnvironment.messagesApi;
    fs.writeFileSync(path.join(chatEnvironment.folder, ...targetFile.split('/')), targetText);
    workbench = await Workbench.open({ ...environment, url: chatEnvironment.chatUrl, profileDir: `${environment.profileDir}-retrieval` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('reindexes the workspace and shows the stats', async () => {
    await shot('reindex', async () => {
      await workbench.runCommand('Context Ledger: Reindex Workspace');
      // Reindex Workspace shows its progress at once (cancellable) and clears it when done.
      // (On a small folder it may come and go between two looks.)
      await workbench.notification(/reindexing the workspace/).waitFor({ timeout: 10_000 }).catch(() => undefined);
      await workbench.notification(/reindexing the workspace/).waitFor({ state: 'detached', timeout: 60_000 });
    });
    const summary = await shot('stats', async () => {
      await workbench.runCommand('Context Ledger: Show Retrieval Stats');
      const toast = workbench.notification(/^Context Ledger retrieval: /);
      await toast.waitFor();
      return (await toast.textContent()) ?? '';
    });
    // README.md, src/fizzbuzz.ts and the file written above; .vscode/settings.json too.
    assert.match(summary, /^Context Ledger retrieval: \d+ files, \d+ chunks · hit rate /);
    assert.ok(Number(/(\d+) files/.exec(summary)?.[1]) >= 3, summary);
    assert.doesNotMatch(summary, /\(partial\)/);
    await workbench.clearNotifications();
  });

  it('searches memory from the palette and opens the picked hit at its lines', async () => {
    const label = await shot('search-hits', async () => {
      await workbench.runCommand('Context Ledger: Search Memory…');
      // The command's input box replaces the palette in the same widget: wait for its title.
      await workbench.page.locator('.quick-input-title', { hasText: /^Search Memory$/ }).waitFor();
      await workbench.quickInput().fill('sum invoice ledger totals');
      assert.equal(await workbench.quickInput().inputValue(), 'sum invoice ledger totals');
      await workbench.page.keyboard.press('Enter');
      // The row's label is the hit's place; its detail line (also a label) its first line of text.
      const name = workbench.page.locator('.quick-input-list .monaco-list-row').first().locator('.label-name', { hasText: `${targetFile}:` });
      await name.waitFor();
      await workbench.page.locator('.quick-input-title', { hasText: /\d+ hits? for "sum invoice ledger totals"/ }).waitFor();
      return ((await name.textContent()) ?? '').trim();
    });
    const lines = /^src\/invoices\.ts:(\d+)-(\d+)$/.exec(label);
    assert.ok(lines, `the best hit is the file with its lines: ${label}`);
    const [startLine, endLine] = [Number(lines[1]), Number(lines[2])];
    assert.ok(startLine <= targetLine && targetLine <= endLine, `the hit ${label} holds line ${targetLine}`);
    assert.ok(startLine > 1, 'the function is in a later chunk, not at the top of the file');
    await shot('search-opened', async () => {
      await workbench.page.locator('.quick-input-list .monaco-list-row').first().click();
      await workbench.page.locator('.tab.active', { hasText: 'invoices.ts' }).waitFor();
      await workbench.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'sumInvoiceLedgerTotals' }).waitFor();
    });
    // The hit's lines are selected: the cursor ends on its last line.
    assert.equal(await cursorLine(), endLine);
    await closeEditors();
  });

  it("lists the retrieved chunks in a chat answer's receipt, and opens one from there", async () => {
    const response = await fetch(`${messagesApi}/_test/script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'answer', content: [{ type: 'text', text: 'sumInvoiceLedgerTotals rounds once, in cents.' }] }),
    });
    assert.equal(response.status, 200, await response.text());
    const link = await shot('chat-receipt', async () => {
      await workbench.runCommand('Context Ledger: Open Chat in Editor');
      const composer = chat().locator('#composer');
      await composer.waitFor();
      await composer.click();
      await composer.pressSequentially('Where does sumInvoiceLedgerTotals round the invoice totals?');
      await composer.press('Enter');
      const answer = chat().locator('article.turn.assistant').last();
      await answer.locator('.markdown', { hasText: 'rounds once, in cents' }).waitFor({ timeout: 30_000 });
      await answer.locator('details.receipt summary').click();
      const retrieved = answer.locator('tr', { has: chat().locator('td.part > span', { hasText: /^Retrieved context$/ }) });
      await retrieved.waitFor({ state: 'visible' });
      return retrieved.locator('.receipt-retrieved a.file-link', { hasText: /^src\/invoices\.ts:\d+-\d+$/ }).first();
    });
    const label = ((await link.textContent()) ?? '').trim();
    assert.match((await link.getAttribute('title')) ?? '', /verified at read time/);
    // The request the model got held that chunk, fenced as data.
    const recorded = (await (await fetch(`${messagesApi}/_test/requests`)).json()) as Array<{ path: string; rawBody: string }>;
    const asked = recorded.filter((request) => request.path === '/v1/messages').at(-1);
    assert.ok(asked?.rawBody.includes('sumInvoiceLedgerTotals(lines: readonly number[])'), 'the chunk went into the request the model got');
    const startLine = Number(/:(\d+)-/.exec(label)?.[1]);
    await shot('chat-opened', async () => {
      await link.click();
      await workbench.page.locator('.tab.active', { hasText: 'invoices.ts' }).waitFor();
      // At the chunk's first line.
      await workbench.page.locator('.statusbar-item', { hasText: new RegExp(`^Ln ${startLine}, Col 1`) }).first().waitFor();
      await workbench.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: `rate${startLine - 2} ` }).waitFor();
    });
    assert.equal(await cursorLine(), startLine, `opened at the first line of ${label}`);
  });
});
