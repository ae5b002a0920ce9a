// The chat panel of the packaged extension in code-server, seen through chromium: open it from
// the palette, type a message, watch the answer stream in from the local Messages API test
// server, expand its context receipt, insert its code at the cursor of the editor beside it, and
// read the status bar gauge. scripts/run-e2e.mjs gives this file a workspace and store of its own
// (CONTEXT_LEDGER_E2E_CHAT_URL) whose contextLedger.baseUrl is the test server. Each step saves
// a screenshot in test-results/e2e/ (chat-*.png).
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { Workbench, e2eEnvironment, screenshotSteps, webviewDocument } from './workbench';

const answerText = [
  'Streaming works. Here is the constant you asked for:',
  '',
  '```ts',
  'export const answer = 42;',
  '```',
  '',
  'Each answer shows the **context receipt** of its request below it.',
].join('\n');

function readEnvironment(): { chatUrl: string; messagesApi: string } {
  const chatUrl = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  const messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API;
  if (!chatUrl || !messagesApi) {
    throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL and CONTEXT_LEDGER_E2E_MESSAGES_API are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
  }
  return { chatUrl, messagesApi };
}

async function scriptAnswer(messagesApi: string, script: unknown): Promise<void> {
  const response = await fetch(`${messagesApi}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) });
  assert.equal(response.status, 200, await response.text());
}

describe('the chat panel in the browser', () => {
  let workbench: Workbench;
  let messagesApi: string;

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('chat-', () => workbench);

  /** The chat webview's document: VS Code nests it in two iframes. */
  function chat(): FrameLocator {
    return webviewDocument(workbench.page);
  }

  function answers(): Locator {
    return chat().locator('article.turn.assistant');
  }

  before(async () => {
    const environment = e2eEnvironment();
    const chatEnvironment = readEnvironment();
    messagesApi = chatEnvironment.messagesApi;
    workbench = await Workbench.open({ ...environment, url: chatEnvironment.chatUrl, profileDir: `${environment.profileDir}-chat` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('opens a file, then the chat from the palette, beside it', async () => {
    await shot('open-chat', async () => {
      await workbench.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'README.md' }).click();
      await workbench.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'Sample workspace' }).waitFor();
      await workbench.runCommand('Context Ledger: Open Chat in Editor');
      await workbench.page.locator('.tab', { hasText: 'Context Ledger Chat' }).waitFor();
      await chat().locator('#composer').waitFor();
      // The empty chat says what it does; the status line shows the settings in use.
      await chat().locator('.empty-title', { hasText: 'New chat' }).waitFor();
      await chat().locator('#status-line', { hasText: 'claude-sonnet-5-5 · budget 100,000 tokens · sliding window, last 20 turns · key from ANTHROPIC_API_KEY' }).waitFor();
    });
    assert.equal(await chat().locator('#session-picker').inputValue(), '\u0000new');
    assert.equal(await chat().locator('#composer').getAttribute('aria-label'), 'Message');
  });

  it('sends a typed message with Enter and streams the answer in', async () => {
    // Slow enough to see it stream: 12 deltas, 150 ms apart.
    await scriptAnswer(messagesApi, { kind: 'answer', content: [{ type: 'text', text: answerText }], chunks: 12, delayMs: 150 });
    await shot('streaming', async () => {
      const composer = chat().locator('#composer');
      await composer.click();
      await composer.pressSequentially('How do I export the answer?');
      await composer.press('Shift+Enter');
      await composer.pressSequentially('As a TypeScript constant, please.');
      await composer.press('Enter');
      await chat().locator('article.turn.user .user-text', { hasText: 'How do I export the answer?\nAs a TypeScript constant, please.' }).waitFor();
      // Mid-stream: the Stop button replaces Send, and part of the answer is on screen.
      await chat().locator('article.turn.assistant.streaming .markdown', { hasText: 'Streaming' }).waitFor();
      await chat().locator('#stop').waitFor({ state: 'visible' });
    });
    const answer = await shot('answer', async () => {
      await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });
      await chat().locator('#send').waitFor({ state: 'visible' });
      return answers().last();
    });
    assert.equal((await answer.locator('.markdown p').first().textContent())?.trim(), 'Streaming works. Here is the constant you asked for:');
    assert.equal(await answer.locator('.code-block code').textContent(), 'export const answer = 42;\n');
    // Highlighted: the keyword has its own colour.
    assert.equal(await answer.locator('.code-block code .hljs-keyword').first().textContent(), 'export');
    assert.equal((await answer.locator('.code-block .code-language').textContent())?.trim(), 'ts');
    assert.equal(await answer.locator('.markdown strong').textContent(), 'context receipt');
    const buttons = await answer.locator('.code-block .code-action').all();
    assert.deepEqual(await Promise.all(buttons.map((button) => button.getAttribute('aria-label'))), ['Copy code', 'Insert code at cursor']);
    // The new chat became a session named after the message, chosen in the picker.
    const picked = await chat().locator('#session-picker option:checked').textContent();
    assert.match(picked ?? '', /^How do I export the answer\? \(1 turn\)$|^This chat$/);
  });

  it("shows the answer's context receipt, collapsed, and expands it", async () => {
    const receipt = answers().last().locator('details.receipt');
    const summary = (await receipt.locator('summary').textContent())?.trim() ?? '';
    assert.match(summary, /^Context: [\d,]+ of 100,000 tokens \((<1|\d+)%\) · \d+ parts?( · \d+ left out)?$/);
    assert.equal(await receipt.getAttribute('open'), null, 'collapsed by default');
    const rows = await shot('receipt', async () => {
      await receipt.locator('summary').click();
      await receipt.locator('table.receipt-parts').waitFor({ state: 'visible' });
      const trs = await receipt.locator('table.receipt-parts tbody tr').all();
      // [part label, turn, tokens]: the part cell also holds its reason, under the label.
      return Promise.all(trs.map(async (tr) => [(await tr.locator('td.part > span').first().textContent()) ?? '', ...(await tr.locator('td:not(.part)').allTextContents())]));
    });
    assert.ok(rows.length >= 2, `${rows.length} parts`);
    assert.ok(
      rows.some(([part]) => part === 'Your message'),
      `the new message is a part: ${JSON.stringify(rows)}`,
    );
    assert.ok(
      rows.some(([part]) => part === 'System prompt'),
      `the system prompt is a part: ${JSON.stringify(rows)}`,
    );
    for (const row of rows) {
      assert.match(row[2] ?? '', /^[\d,]+$/, `token count of ${JSON.stringify(row)}`);
    }
    // Turn numbers a person can find in the conversation, not event numbers.
    assert.deepEqual(rows.find(([part]) => part === 'Your message')?.[1], 'Turn 1');
    assert.match((await receipt.locator('tfoot tr').first().locator('td').textContent()) ?? '', /^[\d,]+$/);
    assert.equal(await receipt.locator('tfoot tr').nth(1).locator('td').textContent(), '100,000');
    assert.match((await receipt.locator('.receipt-meta').textContent()) ?? '', /^Window: sliding window, last 20 turns · token counts (exact \(count_tokens\)|estimated offline) · prompt version \d+$/);
  });

  it('shows how full the budget is in the status bar', async () => {
    const gauge = workbench.page.locator('.statusbar-item[aria-label^="Context budget"]');
    await gauge.waitFor();
    assert.match((await gauge.textContent())?.trim() ?? '', /^(<1|\d+)%$/);
  });

  it('inserts a code block at the cursor of the editor beside the chat', async () => {
    await shot('insert-at-cursor', async () => {
      await answers().last().locator('.code-action[data-action="insert-code"]').click();
      await workbench.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'export const answer = 42;' }).waitFor();
    });
  });

  it('Insert at Cursor with the chat and the file in one editor group keeps the chat in view', async () => {
    await shot('insert-same-group', async () => {
      await workbench.page.locator('.tab', { hasText: 'Context Ledger Chat' }).click();
      await workbench.runCommand('View: Move Editor into Previous Group');
      // One group now: the chat's tab in front, README.md behind it.
      await workbench.page.locator('.editor-group-container').first().locator('.tab.active', { hasText: 'Context Ledger Chat' }).waitFor();
      assert.equal(await workbench.page.locator('.editor-group-container').count(), 1);
      await answers().first().locator('.code-action[data-action="insert-code"]').click();
      // The file opens beside the chat instead of covering it.
      await workbench.page.locator('.editor-group-container').nth(1).locator('.tab.active', { hasText: 'README.md' }).waitFor();
      await workbench.page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'export const answer = 42;export const answer = 42;' }).waitFor();
    });
    assert.equal(await workbench.page.locator('.tab.active', { hasText: 'Context Ledger Chat' }).count(), 1, 'the chat is still the front tab of its group');
    assert.ok(await chat().locator('#composer').isVisible());
  });

  it('shows a tool call and its result inline, collapsed', async () => {
    await scriptAnswer(messagesApi, [
      { kind: 'answer', content: [{ type: 'text', text: 'I will read the README first.' }, { type: 'tool_use', name: 'read_file', input: { path: 'README.md' } }] },
      { kind: 'answer', content: [{ type: 'text', text: 'The README says this is a **sample workspace**.' }] },
    ]);
    const tool = chat().locator('details.tool').last();
    // The steps above edited README.md, which the browser VS Code saves a second later (autosave
    // is on by default on the web); the tool reads the file from disk, and a read during that
    // save can find it truncated (it once read it empty). Wait until it is saved.
    await workbench.page.locator('.tab.dirty', { hasText: 'README.md' }).waitFor({ state: 'detached' });
    await shot('tool-call', async () => {
      const composer = chat().locator('#composer');
      await composer.click();
      await composer.fill('What does the README say?');
      await composer.press('Enter');
      await answers().last().locator('.markdown', { hasText: 'The README says this is a sample workspace.' }).waitFor();
      await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached' });
      assert.equal(await tool.getAttribute('open'), null, 'collapsed by default');
      await tool.locator('summary').click();
      await tool.locator('.tool-result pre').waitFor({ state: 'visible' });
    });
    // One answer card for the question, the tool call inline in it, in words, the file a link.
    assert.equal(await tool.locator('xpath=ancestor::article[contains(@class, "assistant")]').count(), 1);
    assert.match((await tool.locator('summary').textContent())?.trim() ?? '', /^ReadREADME\.md/);
    assert.equal(await tool.locator('summary a.file-link').getAttribute('data-path'), 'README.md');
    assert.match((await tool.locator('.tool-input').textContent()) ?? '', /"path": "README.md"/);
    const card = answers().last();
    assert.equal(await card.locator('details.receipt').count(), 1, 'one receipt for the question, its two requests inside');
    assert.match((await card.locator('details.receipt summary').textContent()) ?? '', /· 2 requests$/);
    await shot('tool-file-opened', async () => {
      await tool.locator('summary a.file-link').click();
      await workbench.page.locator('.tab.active', { hasText: 'README.md' }).waitFor();
    });
    assert.match((await tool.locator('.tool-result pre').textContent()) ?? '', /Sample workspace/);
  });

  it('Stop ends a streaming answer and keeps the part that arrived, marked incomplete', async () => {
    await scriptAnswer(messagesApi, { kind: 'answer', content: [{ type: 'text', text: 'This answer starts, stalls and never finishes.' }], chunks: 6, fault: { kind: 'stall', afterDeltas: 2 } });
    await shot('stopped', async () => {
      const composer = chat().locator('#composer');
      await composer.click();
      await composer.fill('Tell me something long');
      await composer.press('Enter');
      await chat().locator('article.turn.assistant.streaming .markdown', { hasText: 'This answer' }).waitFor();
      await chat().locator('#stop').click();
      await chat().locator('.divider.stopped', { hasText: 'Stopped.' }).waitFor();
      await answers().last().locator('.incomplete-badge').waitFor();
    });
    assert.match((await answers().last().locator('.incomplete-badge').textContent()) ?? '', /Incomplete answer/);
  });

  it('shows an API error with its message, request id and Retry, and Retry sends again', async () => {
    await scriptAnswer(messagesApi, { kind: 'http-error', status: 403, errorType: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' });
    const errorBox = chat().locator('.error-box').last();
    await shot('error', async () => {
      const composer = chat().locator('#composer');
      await composer.click();
      await composer.fill('Will this fail?');
      await composer.press('Enter');
      await errorBox.waitFor();
    });
    assert.match((await errorBox.locator('.error-details').textContent()) ?? '', /^HTTP 403 · request id \S+ · permission$/);
    assert.ok(((await errorBox.locator('.error-message').textContent()) ?? '').trim().length > 0);
    assert.ok(((await errorBox.locator('.error-action').textContent()) ?? '').trim().length > 0);
    const before = await answers().count();
    await shot('retry', async () => {
      await errorBox.locator('button[data-action="retry"]').click();
      // No script queued: the test server echoes the message.
      await answers().nth(before).locator('.markdown', { hasText: 'Echo: Will this fail?' }).waitFor();
      await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached' });
    });
  });

  it('comes back after a window reload with its session (the serializer restores it)', async () => {
    await shot('after-reload', async () => {
      await workbench.page.reload();
      await workbench.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await workbench.page.locator('.tab', { hasText: 'Context Ledger Chat' }).waitFor({ timeout: 30_000 });
      await chat().locator('article.turn.user .user-text', { hasText: 'How do I export the answer?' }).waitFor({ timeout: 30_000 });
      await answers().first().locator('details.receipt').waitFor();
    });
    const picked = (await chat().locator('#session-picker option:checked').textContent()) ?? '';
    assert.match(picked, /^How do I export the answer\? \(\d+ turns\)$/);
    assert.ok((await answers().count()) >= 4, 'the answers of the session, from the log');
    assert.equal(await chat().locator('.incomplete-badge').count(), 1, 'the stopped answer is still marked incomplete');
  });

  it('Set API Key asks in a password box and stores the key in SecretStorage; Clear API Key removes it', async () => {
    const statusLine = chat().locator('#status-line');
    await shot('set-api-key', async () => {
      await workbench.runCommand('Context Ledger: Set API Key');
      const input = workbench.page.locator('.quick-input-widget input[type="password"]');
      await input.waitFor();
      await input.fill('sk-ant-e2e-stored-key');
      await workbench.page.locator('.quick-input-widget', { hasText: 'Stored in VS Code SecretStorage' }).waitFor();
    });
    await shot('api-key-stored', async () => {
      await workbench.page.keyboard.press('Enter');
      await workbench.notification('Context Ledger: API key stored in SecretStorage.').waitFor();
      await statusLine.filter({ hasText: 'key from SecretStorage' }).waitFor();
    });
    await workbench.runCommand('Context Ledger: Clear API Key');
    await statusLine.filter({ hasText: 'key from ANTHROPIC_API_KEY' }).waitFor();
  });
});
