// Prompt drift as a person sees it: AGENTS.md open in the editor with a drift squiggle on the
// line whose script package.json lacks, the hover naming the problem, and the quick fix that
// rewrites the line. Uses this file's own workspace and store (CONTEXT_LEDGER_E2E_CHAT_URL), so
// the files it adds are seen by no other test file. Screenshots in test-results/e2e/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { Workbench, e2eEnvironment } from './workbench';

const agents = ['# Agents', '', '- Build: `npm run build`', '- Test: `npm run test:unit`', ''].join('\n');
const packageJson = JSON.stringify({ name: 'drift-e2e', private: true, scripts: { build: 'tsc', 'unit-test': 'node --test' } }, null, 2);

describe('prompt drift in the editor', () => {
  let workbench: Workbench;
  let folder: string;

  before(async () => {
    const url = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
    if (!url) {
      throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL is not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
    }
    folder = new URL(url).searchParams.get('folder')!;
    // Before the window opens: the extension activates on a workspace that contains AGENTS.md.
    fs.writeFileSync(path.join(folder, 'AGENTS.md'), agents);
    fs.writeFileSync(path.join(folder, 'package.json'), packageJson);
    fs.writeFileSync(path.join(folder, 'package-lock.json'), '{}\n');
    const environment = e2eEnvironment();
    workbench = await Workbench.open({ ...environment, url, profileDir: `${environment.profileDir}-drift` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('shows the drift on AGENTS.md and fixes the line with its quick fix', async () => {
    const { page } = workbench;
    await page.keyboard.press('Control+P');
    await workbench.quickInput().fill('AGENTS.md');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'AGENTS.md' }).first().waitFor();
    await page.keyboard.press('Enter');
    const editor = page.locator('.editor-instance .monaco-editor').first();
    const testLine = editor.locator('.view-line', { hasText: 'npm run test:unit' });
    await testLine.waitFor();
    // The engine's diagnostic arrives once the extension activated and checked.
    await editor.locator('.squiggly-warning').first().waitFor({ timeout: 60_000 });
    await workbench.screenshot('drift-01-squiggle');

    const hover = await hoverWithQuickFix(page, testLine.locator('span', { hasText: 'test:unit' }).last());
    assert.match((await hover.textContent()) ?? '', /it has "unit-test"/);
    const quickFix = hover.locator('.action-container', { hasText: 'Quick Fix' });
    await workbench.screenshot('drift-02-hover');
    await quickFix.click();
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Replace with unit-test' });
    await fix.waitFor();
    await workbench.screenshot('drift-03-quick-fix');
    await fix.click();
    await editor.locator('.view-line', { hasText: 'npm run unit-test' }).waitFor();
    await page.keyboard.press('Control+S');
    // Saved, re-checked: the squiggle is gone.
    await editor.locator('.squiggly-warning').first().waitFor({ state: 'detached', timeout: 30_000 });
    await workbench.screenshot('drift-04-fixed');
    assert.match(fs.readFileSync(path.join(folder, 'AGENTS.md'), 'utf8'), /- Test: `npm run unit-test`/);
  });
});

// A mouse hover can miss: the hover closes when the diagnostics are republished under it, and the
// quick-fix link waits on the code action provider. Hover again (from elsewhere) until the hover
// names the problem and offers the fix; a last failure says what the hover showed instead.
async function hoverWithQuickFix(page: Page, target: Locator): Promise<Locator> {
  const hover = page.locator('.monaco-hover', { hasText: 'no script "test:unit"' });
  const ready = hover.filter({ has: page.locator('.action-container', { hasText: 'Quick Fix' }) });
  for (let attempt = 1; ; attempt++) {
    await target.hover();
    try {
      await ready.first().waitFor({ timeout: 8_000 });
      return ready.first();
    } catch (error) {
      if (attempt === 4) {
        const shown = await page.locator('.monaco-hover').allTextContents();
        throw new Error(`no hover with the drift and its quick fix after ${attempt} tries; hovers shown: ${JSON.stringify(shown)}`, { cause: error });
      }
    }
    await page.mouse.move(0, 0);
    await page.keyboard.press('Escape');
  }
}
