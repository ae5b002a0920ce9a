// Drives the VS Code workbench in chromium the way a person does: the command palette, the
// Sessions tree, notifications, the input box. Selectors are VS Code's own DOM classes; see
// /work/shared/TESTING.md. Run by scripts/run-e2e.mjs, which starts code-server and passes the
// environment read here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';

export interface E2eEnvironment {
  /** The workbench URL with ?folder= of the sample workspace. */
  readonly url: string;
  readonly screenshotDir: string;
  /** A fresh chromium profile folder. */
  readonly profileDir: string;
  /** chromium.launchPersistentContext options from scripts/lib/codeServer.mjs. */
  readonly launchOptions: Parameters<typeof chromium.launchPersistentContext>[1];
  /** What the runner wrote into the store with the CLI before code-server started. */
  readonly seeded: { readonly sessionNames: readonly string[]; readonly eventCount: number; readonly turnCounts: readonly number[] };
}

export function e2eEnvironment(): E2eEnvironment {
  const read = (name: string): string => {
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set: run the browser tests with \`npm run test:e2e\` (scripts/run-e2e.mjs)`);
    }
    return value;
  };
  return {
    url: read('CONTEXT_LEDGER_E2E_URL'),
    screenshotDir: read('CONTEXT_LEDGER_E2E_SCREENSHOTS'),
    profileDir: read('CONTEXT_LEDGER_E2E_PROFILE'),
    launchOptions: JSON.parse(read('CONTEXT_LEDGER_E2E_CHROMIUM')) as E2eEnvironment['launchOptions'],
    seeded: JSON.parse(read('CONTEXT_LEDGER_E2E_SEEDED')) as E2eEnvironment['seeded'],
  };
}

/** True in the page when no finite CSS animation or transition is running. */
const settledScript = `document.getAnimations().every((animation) => animation.playState !== 'running' || animation.effect?.getTiming().iterations === Infinity)`;

export class Workbench {
  private constructor(
    private readonly context: BrowserContext,
    readonly page: Page,
    private readonly screenshotDir: string,
  ) {}

  static async open(environment: E2eEnvironment): Promise<Workbench> {
    fs.mkdirSync(environment.screenshotDir, { recursive: true });
    const context = await chromium.launchPersistentContext(environment.profileDir, environment.launchOptions);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(20_000);
      await page.goto(environment.url);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      return new Workbench(context, page, environment.screenshotDir);
    } catch (error) {
      await context.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(this.screenshotDir, `${name}.png`);
    // Let toasts and widgets finish sliding in, so the picture shows what a person reads.
    await this.page.waitForFunction(settledScript, undefined, { timeout: 3000, polling: 50 }).catch(() => undefined);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Runs a command from the palette (F1) by its title, e.g. "Context Ledger: Show Log Stats".
   * The palette lists an extension's commands only once the extension host has registered it,
   * which on a loaded machine can be after the workbench shows: reopen it until the row is there.
   */
  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    // The whole title: "Open Chat" must not pick "Open Chat in Side Bar".
    const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      const last = Date.now() + 5_000 >= deadline;
      try {
        // The palette closes when something takes the focus late (a webview focused just before
        // F1 does, on a loaded machine): then it is opened again.
        await input.fill(`>${title}`, { timeout: 5_000 });
        await row.first().waitFor({ timeout: last ? Math.max(1_000, deadline - Date.now()) : 5_000 });
        break;
      } catch (error) {
        if (last) {
          throw error;
        }
        if (await input.isVisible()) {
          await this.page.keyboard.press('Escape');
          await input.waitFor({ state: 'hidden' });
        }
      }
    }
    await row.first().click();
  }

  /** The input box a command opened (quick input without the palette's ">"). */
  quickInput(): Locator {
    return this.page.locator('.quick-input-widget input');
  }

  /** A visible notification toast whose message contains `text`. */
  notification(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-list-item-message').filter({ hasText: text });
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-list-item').first().waitFor({ state: 'detached' });
  }

  /** The Context Ledger icon in the activity bar. */
  activityBarItem(): Locator {
    return this.page.locator('.part.activitybar .action-item .action-label[aria-label^="Context Ledger"]');
  }

  /** The rows of the Sessions tree in the Context Ledger view. */
  sessionRows(): Locator {
    return this.page.locator('.pane').filter({ has: this.page.locator('.pane-header', { hasText: /Sessions/ }) }).locator('.monaco-list-row');
  }

  /** [label, description] of every row in the Sessions tree, top to bottom. */
  async sessionRowTexts(): Promise<Array<[string, string]>> {
    const rows = this.sessionRows();
    const texts: Array<[string, string]> = [];
    for (const row of await rows.all()) {
      const label = (await row.locator('.label-name').textContent()) ?? '';
      const description = (await row.locator('.label-description').textContent()) ?? '';
      texts.push([label.trim(), description.trim()]);
    }
    return texts;
  }

  sessionRow(name: string): Locator {
    return this.sessionRows().filter({ has: this.page.locator('.label-name', { hasText: name }) });
  }

  /**
   * Opens the Context Ledger view's Facts pane (expanded if it was collapsed) and gives it with
   * a finder of its rows by exact label.
   */
  async openFactsPane(): Promise<{ readonly pane: Locator; readonly row: (label: string) => Locator }> {
    await this.activityBarItem().click();
    const pane = this.page.locator('.pane').filter({ has: this.page.locator('.pane-header', { hasText: /\bFacts\b/ }) });
    const header = pane.locator('.pane-header');
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
    }
    const row = (label: string): Locator => pane.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) });
    return { pane, row };
  }

  /** The rows of the open context menu (right click), by their labels. */
  contextMenuItem(label: string): Locator {
    return this.page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: new RegExp(`^${escapeRegExp(label)}$`) });
  }

  /**
   * Chooses `label` in the open context menu: points at it, waits until the menu has it
   * focused, and presses Enter. Not a click: a menu item takes mouse-ups only once a timer set
   * when it was drawn has run (100 ms, so the right click's own mouse-up chooses nothing; far
   * later on a loaded machine), and a click before that is dropped with the menu left open.
   */
  async chooseContextMenuItem(label: string, timeout?: number): Promise<void> {
    const item = this.contextMenuItem(label);
    await item.hover({ timeout });
    await this.page.locator('.context-view .monaco-menu .action-item.focused .action-label', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }).waitFor({ timeout });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.context-view .monaco-menu').waitFor({ state: 'detached', timeout });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A suite's screenshot steps: `shot(name, run)` runs one user-visible step and saves
 * `<prefix>NN-<name>.png` after it, or `…-FAILED.png` when it fails. The workbench is read at
 * each step, since suites open it in `before`.
 */
export function screenshotSteps(prefix: string, workbench: () => Workbench): <T>(name: string, run: () => Promise<T>) => Promise<T> {
  let step = 0;
  return async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    step++;
    const label = `${prefix}${String(step).padStart(2, '0')}-${name}`;
    try {
      const result = await run();
      await workbench().screenshot(label);
      return result;
    } catch (error) {
      await workbench().screenshot(`${label}-FAILED`).catch(() => undefined);
      throw error;
    }
  };
}

/** A webview's document (a chat, a panel): VS Code nests each webview in two iframes. */
export function webviewDocument(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}
