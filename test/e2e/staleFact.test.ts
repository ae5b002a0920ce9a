// A stale-citation fact as a person sees it in the chat's context receipt: a fact that cites two
// lines of a workspace file goes into the first request; the file is edited, the next message's
// receipt flags the fact as stale and names what changed, and the request left it out. Uses this
// file's own workspace, store and Messages API test server. Screenshots in test-results/e2e/.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { citeLines } from '../../src/core/facts/citations';
import { Workbench, e2eEnvironment, webviewDocument } from './workbench';

const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const config = ['{', '  "build": "tsc -p .",', '  "output": "dist/"', '}', ''].join('\n');

describe('a stale-citation fact in the receipt', () => {
  let workbench: Workbench;
  let messagesApi: string;
  let file: string;

  before(async () => {
    const url = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
    const store = process.env.CONTEXT_LEDGER_E2E_CHAT_STORE;
    messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API ?? '';
    if (!url || !store || !messagesApi) {
      throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL, CONTEXT_LEDGER_E2E_CHAT_STORE and CONTEXT_LEDGER_E2E_MESSAGES_API are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
    }
    const folder = new URL(url).searchParams.get('folder')!;
    file = path.join(folder, 'build.config.json');
    fs.writeFileSync(file, config);
    // The fact cites lines 2–3 of the file as they are now (what Remember Selection stores).
    const fact = {
      kind: 'fact.asserted',
      id: 'e2e-stale-fact',
      sessionId: 'facts:workspace',
      body: { key: 'build.output', value: 'tsc writes to dist/', scope: 'workspace', trust: 'user', provenance: { sessionId: null, eventId: null, path: 'build.config.json', line: 2 }, citations: [citeLines('build.config.json', config, 2, 3)], promptVersion: null, seen: {}, policy: 'surface' },
    };
    const lines = [{ kind: 'session.started', id: 'facts-stream-start', sessionId: 'facts:workspace', body: { name: 'Facts' } }, fact];
    const appended = spawnSync(process.execPath, [cli, '--store', store, 'append'], { input: lines.map((line) => JSON.stringify(line)).join('\n') + '\n', encoding: 'utf8' });
    assert.equal(appended.status, 0, appended.stderr);
    const environment = e2eEnvironment();
    workbench = await Workbench.open({ ...environment, url, profileDir: `${environment.profileDir}-stale-fact` });
  });

  after(async () => {
    await workbench?.close();
  });

  function chat(): FrameLocator {
    return webviewDocument(workbench.page);
  }

  async function ask(text: string, answer: string): Promise<Locator> {
    const response = await fetch(`${messagesApi}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'answer', content: [{ type: 'text', text: answer }] }) });
    assert.equal(response.status, 200, await response.text());
    const composer = chat().locator('#composer');
    await composer.click();
    await composer.pressSequentially(text);
    await composer.press('Enter');
    const turn = chat().locator('article.turn.assistant', { hasText: answer });
    await turn.waitFor({ timeout: 60_000 });
    await chat().locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });
    const receipt = turn.locator('details.receipt');
    await receipt.locator('summary').click();
    await receipt.locator('table.receipt-parts').waitFor({ state: 'visible' });
    return receipt.locator('table.receipt-parts tbody tr').filter({ has: chat().locator('td.part > span', { hasText: /^Facts$/ }) });
  }

  it('flags the fact as stale once its cited lines changed, and leaves it out', async () => {
    try {
      await workbench.runCommand('Context Ledger: Open Chat in Editor');
      await chat().locator('#composer').waitFor();
      const fresh = await ask('Where does the build write its output?', 'It writes to dist/.');
      assert.match((await fresh.locator('.reason').textContent()) ?? '', /^1 facts within their budget of 1000 tokens, most relevant first: build\.output$/);
      assert.equal(await fresh.getAttribute('class'), null, 'not flagged while the lines hold');
      await workbench.screenshot('stale-fact-01-fresh');

      fs.writeFileSync(file, config.replace('"output": "dist/"', '"output": "build/"'));
      const stale = await ask('And now, where does it go?', 'Let me look at the config again.');
      await stale.scrollIntoViewIfNeeded();
      await workbench.screenshot('stale-fact-02-flagged');
      assert.equal(await stale.getAttribute('class'), 'flagged');
      assert.match((await stale.locator('.reason').textContent()) ?? '', /^0 facts within their budget of 1000 tokens, most relevant first\. left out: build\.output \(stale: build\.config\.json:2–3 changed since it was cited\)$/);
      assert.equal(await stale.locator('.codicon-warning').count(), 1);
      // What the model was sent: the first request had the fact, the second did not.
      const requests = (await (await fetch(`${messagesApi}/_test/requests`)).json()) as Array<{ path: string; body: unknown }>;
      const sent = requests.filter((request) => request.path === '/v1/messages').map((request) => JSON.stringify(request.body));
      assert.ok(sent.at(-2)?.includes('build.output = tsc writes to dist/'), 'the fresh fact went in');
      assert.ok(!sent.at(-1)?.includes('build.output = tsc writes to dist/'), 'the stale fact stayed out');
    } catch (error) {
      await workbench.screenshot('stale-fact-FAILED').catch(() => undefined);
      throw error;
    }
  });
});
