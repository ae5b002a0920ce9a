// The chat where people expect it: the side-bar view of the packaged extension in code-server,
// seen through chromium. A 40-message session opened from the Sessions tree, each new answer
// followed to the bottom, the jump-to-latest button once the reader scrolled up, the keyboard,
// a 340 px wide side bar, Light High Contrast, and the Sessions tree's context menu (Rename,
// Delete). scripts/run-e2e.mjs seeds the chat store with "Long conversation" (20 questions).
// Screenshots: test-results/e2e/sidebar-*.png.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { Workbench, e2eEnvironment, screenshotSteps, webviewDocument } from './workbench';

const longAnswer = (label: string): string =>
  [`${label}: here is the whole story.`, ...Array.from({ length: 12 }, (_, index) => `Paragraph ${index + 1} of ${label}: the parser keeps the partial token between chunks.`), `The end of ${label}.`].join('\n\n');

function readEnvironment(): { chatUrl: string; messagesApi: string } {
  const chatUrl = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  const messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API;
  if (!chatUrl || !messagesApi) {
    throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL and CONTEXT_LEDGER_E2E_MESSAGES_API are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
  }
  return { chatUrl, messagesApi };
}

/**
 * A function to run on an element in the page. Written as text because this suite compiles
 * without the DOM library; a real Function, so playwright calls it with the element.
 */
function inPage(body: string): (element: unknown) => unknown {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('element', body) as (element: unknown) => unknown;
}

async function scriptAnswer(messagesApi: string, script: unknown): Promise<void> {
  const response = await fetch(`${messagesApi}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) });
  assert.equal(response.status, 200, await response.text());
}

describe('the chat in the side bar', () => {
  let workbench: Workbench;
  let messagesApi: string;

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('sidebar-', () => workbench);

  /** The side-bar chat's document (the only webview this test opens). */
  function chat(): FrameLocator {
    return webviewDocument(workbench.page);
  }

  function transcript(): Locator {
    return chat().locator('#transcript');
  }

  async function distanceFromEnd(): Promise<number> {
    return Number(await transcript().evaluate(inPage('return element.scrollHeight - element.scrollTop - element.clientHeight;')));
  }

  /** The bottom of the newest answer card is inside the conversation's visible area. */
  async function newestAnswerInView(): Promise<boolean> {
    return Boolean(
      await transcript().evaluate(inPage(`
        const cards = element.querySelectorAll('article.turn.assistant');
        const last = cards[cards.length - 1];
        if (!last) return false;
        const box = element.getBoundingClientRect();
        const card = last.getBoundingClientRect();
        return card.bottom <= box.bottom + 2 && card.bottom > box.top;
      `)),
    );
  }

  /** Sends `text`, the test server answers `answer`; waits until the card shows `marker` and the stream ended. */
  async function sendAndWait(text: string, answer: string, marker = answer.split('\n')[0] ?? answer): Promise<void> {
    await scriptAnswer(messagesApi, { kind: 'answer', content: [{ type: 'text', text: answer }], chunks: 8, delayMs: 40 });
    const composer = chat().locator('#composer');
    await composer.fill(text);
    await composer.press('Enter');
    await chat().locator('article.turn.assistant .markdown', { hasText: marker }).waitFor();
    await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });
  }

  before(async () => {
    const environment = e2eEnvironment();
    const chatEnvironment = readEnvironment();
    messagesApi = chatEnvironment.messagesApi;
    workbench = await Workbench.open({ ...environment, url: chatEnvironment.chatUrl, profileDir: `${environment.profileDir}-sidebar` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('lives in the side bar: the Context Ledger view has the Chat above the Sessions tree', async () => {
    await shot('chat-view', async () => {
      await workbench.activityBarItem().click();
      await workbench.page.locator('.pane-header', { hasText: /^Chat/ }).first().waitFor();
      await chat().locator('#composer').waitFor();
      await chat().locator('.empty-title', { hasText: 'New chat' }).waitFor();
      await workbench.sessionRow('Long conversation').waitFor();
    });
    // No editor tab was opened: this chat is the side bar's own.
    assert.equal(await workbench.page.locator('.tab', { hasText: 'Context Ledger Chat' }).count(), 0);
    const long = (await workbench.sessionRowTexts()).find(([label]) => label === 'Long conversation');
    assert.match(long?.[1] ?? '', /^20 turns · /, 'a turn is a question: 40 messages are 20 turns');
  });

  it('a click on a session opens it, scrolled to its newest answer, and marks it in the tree', async () => {
    await shot('open-long-session', async () => {
      await workbench.sessionRow('Long conversation').click();
      await chat().locator('article.turn.user[data-turn="20"]').waitFor();
      await workbench.page.locator('.monaco-list-row.selected .label-description', { hasText: /^20 turns · .* · open$/ }).waitFor();
    });
    assert.equal(await chat().locator('article.turn.user').count(), 20);
    assert.equal(await chat().locator('article.turn.assistant').count(), 20, 'one answer card per question');
    assert.ok(await newestAnswerInView(), 'the newest answer is in view');
  });

  it('follows each new answer of a long conversation to the bottom', async () => {
    for (const index of [1, 2, 3]) {
      await sendAndWait(`Follow-up ${index}`, longAnswer(`Follow-up answer ${index}`));
      assert.ok(await newestAnswerInView(), `answer ${index} is in view, not below the fold`);
      assert.ok((await distanceFromEnd()) < 48, 'the conversation is at its end');
    }
    await shot('followed-answer', async () => {
      await chat().locator('article.turn.user[data-turn="23"]').waitFor();
    });
    assert.equal(await chat().locator('#jump-to-latest').isHidden(), true);
  });

  it('stays where the reader scrolled to while an answer streams, and offers Jump to latest', async () => {
    await scriptAnswer(messagesApi, { kind: 'answer', content: [{ type: 'text', text: longAnswer('Answer read later') }], chunks: 24, delayMs: 120 });
    const composer = chat().locator('#composer');
    await composer.fill('One more, while I read above');
    await composer.press('Enter');
    await chat().locator('article.turn.assistant.streaming .markdown', { hasText: 'Answer read later' }).waitFor();
    // The reader scrolls up to read an earlier answer while this one streams.
    await transcript().evaluate(inPage('element.scrollBy(0, -1500); return true;'));
    await chat().locator('#jump-to-latest').waitFor({ state: 'visible' });
    const before = Number(await transcript().evaluate(inPage('return element.scrollTop;')));
    await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });
    const after = Number(await transcript().evaluate(inPage('return element.scrollTop;')));
    assert.ok(Math.abs(after - before) < 2, `the reader's place is kept (${before} → ${after})`);
    assert.equal(await newestAnswerInView(), false, 'the new answer did not pull the reader down');
    await shot('jump-to-latest', async () => {
      await chat().locator('#jump-to-latest').waitFor({ state: 'visible' });
    });
    await chat().locator('#jump-to-latest').click();
    await chat().locator('#jump-to-latest').waitFor({ state: 'hidden' });
    assert.ok(await newestAnswerInView());
  });

  it('keyboard: Up recalls the last prompt, Enter during an answer says why nothing happened, a skip link leads to the box', async () => {
    const composer = chat().locator('#composer');
    await composer.fill('');
    await composer.press('ArrowUp');
    assert.equal(await composer.inputValue(), 'One more, while I read above');
    await composer.press('ArrowUp');
    assert.equal(await composer.inputValue(), 'Follow-up 3');
    await composer.press('ArrowDown');
    await composer.press('ArrowDown');
    assert.equal(await composer.inputValue(), '', 'Down walks back to the empty draft');

    await scriptAnswer(messagesApi, { kind: 'answer', content: [{ type: 'text', text: longAnswer('A slow answer') }], chunks: 20, delayMs: 150 });
    await composer.fill('A slow one, please');
    await composer.press('Enter');
    await chat().locator('article.turn.assistant.streaming .markdown').first().waitFor();
    await shot('enter-during-answer', async () => {
      await composer.fill('Typed while it answers');
      await composer.press('Enter');
      await chat().locator('#notice', { hasText: 'An answer is still coming' }).waitFor();
    });
    assert.equal(await composer.inputValue(), 'Typed while it answers', 'the message stays in the box');
    await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });

    // From the top of the page, the first Tab stop is the way past the conversation.
    await chat().locator('#session-picker').focus();
    await chat().locator('#session-picker').press('Shift+Tab');
    assert.equal(await chat().locator('.skip-link').evaluate(inPage('return element === document.activeElement;')), true);
    await chat().locator('.skip-link').press('Enter');
    assert.equal(await composer.evaluate(inPage('return element === document.activeElement;')), true);
    await composer.fill('');
  });

  it('fits a 340 px side bar: long inline code wraps, code blocks scroll on their own, the receipt keeps its token column', async () => {
    const sidebar = workbench.page.locator('.part.sidebar');
    const box = await sidebar.boundingBox();
    assert.ok(box);
    const sash = workbench.page.locator('.monaco-sash.vertical').filter({ visible: true });
    // The sash on the side bar's right edge.
    let dragged = false;
    for (const candidate of await sash.all()) {
      const sashBox = await candidate.boundingBox();
      if (sashBox && Math.abs(sashBox.x + sashBox.width / 2 - (box.x + box.width)) < 6) {
        await workbench.page.mouse.move(sashBox.x + sashBox.width / 2, sashBox.y + 200);
        await workbench.page.mouse.down();
        await workbench.page.mouse.move(box.x + 340, sashBox.y + 200, { steps: 8 });
        await workbench.page.mouse.up();
        dragged = true;
        break;
      }
    }
    assert.ok(dragged, 'found the side bar sash');
    const width = (await sidebar.boundingBox())?.width ?? 0;
    assert.ok(Math.abs(width - 340) <= 4, `side bar is ${width} px wide`);

    const longInline = '`' + 'aVeryLongIdentifierThatWouldNeverFitInANarrowPanel'.repeat(3) + '`';
    await sendAndWait('Show me long code', `Call ${longInline} first.\n\n\`\`\`ts\nconst wide = ${'"x"'.repeat(60)};\n\`\`\`\n`, 'first.');
    const receipt = chat().locator('article.turn.assistant').last().locator('details.receipt');
    await shot('340px', async () => {
      await receipt.locator('summary').click();
      await receipt.locator('table.receipt-parts').waitFor({ state: 'visible' });
      await receipt.locator('tfoot').scrollIntoViewIfNeeded();
    });
    const overflow = Number(await transcript().evaluate(inPage('return element.scrollWidth - element.clientWidth;')));
    assert.ok(overflow <= 1, `the conversation does not scroll sideways (${overflow} px too wide)`);
    const tokenColumnFits = await receipt.evaluate(inPage(`
      const frame = element.closest('#transcript').getBoundingClientRect();
      return [...element.querySelectorAll('td.num')].every((cell) => cell.getBoundingClientRect().right <= frame.right + 1 && cell.scrollWidth <= cell.clientWidth + 1);
    `));
    assert.equal(tokenColumnFits, true, "the receipt's token column is not cut off");
    const codeScrolls = Number(await chat().locator('article.turn.assistant').last().locator('.code-block pre').evaluate(inPage('return element.scrollWidth - element.clientWidth;')));
    assert.ok(codeScrolls > 0, 'the wide code block scrolls inside itself');
  });

  it('stays readable in Light High Contrast: code in the editor colours, syntax highlighted', async () => {
    await shot('light-high-contrast', async () => {
      await workbench.runCommand('Preferences: Color Theme');
      await workbench.quickInput().fill('Light High Contrast');
      await workbench.page.locator('.quick-input-list .monaco-list-row', { hasText: /^Light High Contrast/ }).first().waitFor();
      await workbench.quickInput().press('Enter');
      await chat().locator('body.vscode-high-contrast-light').waitFor();
      await chat().locator('article.turn.assistant').last().locator('.code-block').scrollIntoViewIfNeeded();
    });
    const code = chat().locator('article.turn.assistant').last().locator('.code-block pre');
    const contrast = Number(
      await code.evaluate(inPage(`
        const rgb = (text) => (text.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
        const luminance = ([r, g, b]) => {
          const channel = (value) => { const c = value / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
          return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        };
        const token = element.querySelector('code .hljs-keyword') || element.querySelector('code');
        const fore = luminance(rgb(getComputedStyle(token).color));
        const back = luminance(rgb(getComputedStyle(element).backgroundColor));
        return (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
      `)),
    );
    assert.ok(contrast >= 4.5, `code contrast ${contrast.toFixed(2)}:1 is at least 4.5:1`);
    const inline = Number(
      await chat()
        .locator('article.turn.assistant')
        .last()
        .locator('.markdown p code')
        .first()
        .evaluate(inPage(`
          const rgb = (text) => (text.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
          const luminance = ([r, g, b]) => {
            const channel = (value) => { const c = value / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
          };
          let back = getComputedStyle(element).backgroundColor;
          if (back === 'rgba(0, 0, 0, 0)') back = getComputedStyle(document.body).backgroundColor;
          const fore = luminance(rgb(getComputedStyle(element).color));
          const bg = luminance(rgb(back));
          return (Math.max(fore, bg) + 0.05) / (Math.min(fore, bg) + 0.05);
        `)),
    );
    assert.ok(inline >= 4.5, `inline code contrast ${inline.toFixed(2)}:1 is at least 4.5:1`);
    assert.ok((await code.locator('.hljs-keyword').count()) > 0, 'highlighted');
    // The chat's stylesheets (media/chat/*.css) all came from the packaged extension, in cascade
    // order, and the last (high contrast) applies: a turn gets a border.
    const sheets = (await chat().locator('body').evaluate(inPage(`
      return [...document.styleSheets].filter((sheet) => /\\/media\\/chat\\//.test(sheet.href || '')).map((sheet) => sheet.href.split('/').pop() + ' ' + sheet.cssRules.length);
    `))) as string[];
    assert.deepEqual(sheets.map((sheet) => sheet.split(' ')[0]), ['base.css', 'toolbar.css', 'transcript.css', 'answers.css', 'receipts.css', 'notices.css', 'composer.css', 'accessibility.css']);
    assert.ok(sheets.every((sheet) => Number(sheet.split(' ')[1]) > 0), `every stylesheet has rules: ${sheets.join(', ')}`);
    const border = await chat().locator('article.turn.assistant').last().evaluate(inPage('return getComputedStyle(element).borderTopWidth;'));
    assert.equal(border, '1px', 'the high-contrast border from media/chat/accessibility.css');
  });

  it("Rename in the chat's toolbar asks in an input box and gives the focus back to the message box", async () => {
    await shot('chat-rename', async () => {
      await chat().locator('button[aria-label="Rename session"]').click();
      await workbench.page.locator('.quick-input-widget', { hasText: 'New name of the session' }).waitFor();
      await workbench.quickInput().fill('Long conversation, renamed');
      await workbench.quickInput().press('Enter');
      await chat().locator('.divider.renamed', { hasText: 'Renamed to “Long conversation, renamed”' }).waitFor();
    });
    const focused = async (): Promise<boolean> => Boolean(await chat().locator('#composer').evaluate(inPage('return document.hasFocus() && document.activeElement === element;')));
    const deadline = Date.now() + 5000;
    while (!(await focused()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await focused(), true, 'the composer has the focus again');
    await workbench.sessionRow('Long conversation, renamed').waitFor();
  });

  it('the Sessions tree has a context menu: Open, Rename, Export and Delete; Rename renames the session', async () => {
    const row = workbench.sessionRow('Long conversation');
    await shot('session-context-menu', async () => {
      await row.click({ button: 'right' });
      for (const label of ['Open in Chat', 'Rename Session…', 'Export Session…', 'Delete Session…']) {
        await workbench.contextMenuItem(label).waitFor();
      }
    });
    await shot('session-rename', async () => {
      await workbench.chooseContextMenuItem('Rename Session…');
      await workbench.page.locator('.quick-input-widget', { hasText: 'New name of the session' }).waitFor();
      await workbench.quickInput().fill('Parser deep dive');
      await workbench.quickInput().press('Enter');
      await workbench.sessionRow('Parser deep dive').waitFor();
      await chat().locator('.divider.renamed', { hasText: 'Renamed to “Parser deep dive”' }).waitFor();
      // An <option> is never "visible": wait for it in the document.
      await chat().locator('#session-picker option:checked', { hasText: 'Parser deep dive' }).waitFor({ state: 'attached' });
    });
  });

  // Delete is chosen with Enter on the pointed-at item, not a click: a click that comes before
  // the menu takes mouse-ups is dropped and leaves the menu open (see chooseContextMenuItem),
  // which is why the confirmation once never appeared on a loaded machine.
  it('Delete from the context menu asks first, then hides the session (not erased)', async () => {
    await shot('session-delete-confirm', async () => {
      const dialog = workbench.page.locator('.monaco-dialog-box', { hasText: 'Delete the session "Parser deep dive"?' });
      // The tree redraws after the rename; a menu opened on the old row can vanish under the click.
      for (let attempt = 1; ; attempt++) {
        await workbench.sessionRow('Parser deep dive').click({ button: 'right' });
        try {
          await workbench.chooseContextMenuItem('Delete Session…', 5000);
          await dialog.waitFor({ timeout: 10_000 });
          break;
        } catch (error) {
          if (attempt === 3) {
            throw error;
          }
          await workbench.page.keyboard.press('Escape');
        }
      }
    });
    await shot('session-deleted', async () => {
      await workbench.page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Delete$/ }).click();
      await workbench.sessionRow('Parser deep dive').waitFor({ state: 'detached' });
      // The chat that showed it turns to a new chat.
      await chat().locator('.empty-title', { hasText: 'New chat' }).waitFor();
    });
    assert.equal(await workbench.sessionRow('Parser deep dive').count(), 0);
  });
});
