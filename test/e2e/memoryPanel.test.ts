// The memory panel of the packaged extension in code-server, seen through chromium: open it from
// the palette on a session written with the CLI, search it, preview a compaction side by side
// (the dropped details marked), see a commit refused as stale after a turn arrives (the CLI
// appends one), preview again and commit, undo from the timeline (the CLI's transcript shows
// each step), then import a folder of Claude Code transcripts with Import Claude Code Sessions…
// and see the imported session in the panel. Screenshots in test-results/e2e/ (memory-*.png).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { oldSessionId, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { Workbench, e2eEnvironment, screenshotSteps, webviewDocument } from './workbench';

const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const sessionId = 'e2e-memory';

function runCli(store: string, args: readonly string[], input = ''): string {
  const result = spawnSync(process.execPath, [cli, '--store', store, ...args], { input, encoding: 'utf8' });
  assert.equal(result.status, 0, `context-ledger ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

// Six turns whose answers name paths and numbers: the aggressive tier keeps the questions'
// opening words, so the answers' details are what it drops.
const seed = [
  { kind: 'session.started', id: 'mem-start', sessionId, body: { name: 'Memory panel session' } },
  ...Array.from({ length: 6 }, (_, i) => [
    { kind: 'message.user', id: `mem-q${i + 1}`, sessionId, body: { text: `Question ${i + 1}: where does the parser keep part ${i + 1}?` } },
    { kind: 'message.assistant', id: `mem-a${i + 1}`, sessionId, body: { text: `In src/parser/part${i + 1}.ts; its bufferSize${i + 1} is ${4096 + i} bytes.`, model: 'e2e-model' } },
  ]).flat(),
];

describe('the memory panel in the browser', () => {
  let workbench: Workbench;
  const store = process.env.CONTEXT_LEDGER_E2E_CHAT_STORE;
  const url = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  // The extension host's home (code-server runs with a HOME of its own): ~/.claude/projects is there.
  const home = process.env.CONTEXT_LEDGER_E2E_HOME;

  /** Runs one user-visible step, saving a screenshot after it (also when it fails). */
  const shot = screenshotSteps('memory-', () => workbench);

  /** The panel's document: VS Code nests a webview in two iframes. */
  function panel(): FrameLocator {
    return webviewDocument(workbench.page);
  }

  before(async () => {
    if (!store || !url || !home) {
      throw new Error('CONTEXT_LEDGER_E2E_CHAT_STORE, CONTEXT_LEDGER_E2E_CHAT_URL and CONTEXT_LEDGER_E2E_HOME are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
    }
    runCli(store, ['append'], seed.map((line) => JSON.stringify(line)).join('\n') + '\n');
    workbench = await Workbench.open({ ...e2eEnvironment(), url, profileDir: `${e2eEnvironment().profileDir}-memory` });
  });

  after(async () => {
    await workbench?.close();
  });

  it('opens on the newest session: timeline with token counts, growth chart, store health', async () => {
    await shot('open', async () => {
      await workbench.runCommand('Context Ledger: Open Memory Panel');
      await workbench.page.locator('.tab', { hasText: 'Context Ledger Memory' }).waitFor();
      await panel().locator('#session-summary', { hasText: 'Memory panel session: 6 turns, 13 events' }).waitFor();
      await panel().locator('.timeline-rows .row[data-category="turn"]').first().waitFor();
      await panel().locator('#growth svg.growth polyline').waitFor();
      await panel().locator('#health-barriers', { hasText: 'none: this session can be compacted' }).waitFor();
    });
    const firstAnswer = panel().locator('.timeline-rows .row[data-category="answer"]').first();
    assert.match((await firstAnswer.locator('.label').textContent()) ?? '', /^assistant: In src\/parser\/part1\.ts/);
    assert.match((await firstAnswer.locator('.tokens').textContent()) ?? '', /^\d+$/);
    assert.match((await panel().locator('#health-events').textContent()) ?? '', /^\d+ in 2 sessions/);
    // Each row has its time; the chart's x-axis is time, labelled below it, and pointing at the
    // chart names the event there (its position in the session).
    assert.match((await firstAnswer.locator('.time').textContent()) ?? '', /^\d\d:\d\d$/);
    assert.match((await panel().locator('#growth .growth-axis .tick-label').first().textContent()) ?? '', /\d\d:\d\d/);
    await shot('chart-hover', async () => {
      await panel().locator('#growth svg.growth').hover();
      await panel().locator('#growth-readout', { hasText: /^Total at event \d+ of 13 \(seq \d+\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: [\d,]+ tokens$/ }).waitFor();
    });
  });

  it('searches within the session and jumps to the hit', async () => {
    await shot('search', async () => {
      await panel().locator('#search').fill('part5.ts');
      await panel().locator('#search').press('Enter');
      await panel().locator('.search-results .hit').first().waitFor();
    });
    assert.equal(await panel().locator('.search-results .hit').count(), 1);
    await panel().locator('.search-results .hit').first().click();
    assert.equal(await panel().locator('.timeline-rows .row.active').getAttribute('data-category'), 'answer');
  });

  it('previews turns 1–4 side by side, refuses the commit as stale after a new turn, commits after a new preview', async () => {
    await shot('preview', async () => {
      await panel().locator('#first-turn').fill('1');
      await panel().locator('#last-turn').fill('4');
      await panel().locator('#tier').selectOption('aggressive');
      await panel().locator('#preview-button').click();
      await panel().locator('#preview').waitFor();
    });
    assert.match((await panel().locator('#preview-numbers').textContent()) ?? '', /^\d+ tokens in place of \d+ · aggressive · offline summary · keeps \d+ of \d+ details$/);
    assert.equal(await panel().locator('#preview-compactor').textContent(), 'Written by the offline compactor (extractive: sentences kept verbatim).');
    assert.equal(await panel().locator('#raw-turns .raw-item').count(), 8);
    const marked = await panel().locator('#raw-turns mark.dropped').allTextContents();
    assert.ok(marked.includes('4097'), `dropped numbers are marked: ${JSON.stringify(marked)}`);
    assert.ok(marked.includes('src/parser/part2.ts'), `dropped paths are marked: ${JSON.stringify(marked)}`);
    // A turn arrives (another writer: the CLI) between the preview and the commit.
    runCli(store!, ['append'], JSON.stringify({ kind: 'message.user', id: 'mem-late', sessionId, body: { text: 'One more question, written from the terminal.' } }) + '\n');
    await shot('stale', async () => {
      await panel().locator('#commit').click();
      await panel().locator('#preview-status', { hasText: 'Not committed: a turn arrived since this preview.' }).waitFor();
    });
    assert.doesNotMatch(runCli(store!, ['show', sessionId]), /compaction of turns/);
    await shot('committed', async () => {
      await panel().locator('#preview-again').click();
      await panel().locator('#preview #commit:not([disabled])').waitFor();
      await panel().locator('#commit').click();
      await panel().locator('#status', { hasText: /^Turns 1–4 compacted by the offline compactor: \d+ tokens in place of \d+\.$/ }).waitFor();
      await panel().locator('.timeline-rows .row[data-category="compaction"] .undo').waitFor();
    });
    assert.match(runCli(store!, ['show', sessionId]), /compaction of turns 1–4 \(events \d+–\d+\), aggressive, by offline/);
  });

  it('undoes the compaction from the timeline', async () => {
    await shot('undone', async () => {
      await panel().locator('.timeline-rows .row[data-category="compaction"] .undo').click();
      await panel().locator('#status', { hasText: 'Compaction of turns 1–4 undone' }).waitFor();
      await panel().locator('.timeline-rows .row.undone[data-category="compaction"]').waitFor();
    });
    assert.match(runCli(store!, ['show', sessionId]), /compaction compaction-\S+ undone/);
  });

  it('previews with the model when it is the chosen compactor, and says so', async () => {
    const messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API;
    assert.ok(messagesApi, 'CONTEXT_LEDGER_E2E_MESSAGES_API is set by scripts/run-e2e.mjs');
    const scripted = await fetch(`${messagesApi}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ kind: 'answer', content: [{ type: 'text', text: 'Model summary: the parser parts live in src/parser.' }] }]) });
    assert.equal(scripted.status, 200, await scripted.text());
    await shot('model-preview', async () => {
      await panel().locator('#first-turn').fill('1');
      await panel().locator('#last-turn').fill('2');
      await panel().locator('#tier').selectOption('balanced');
      await panel().locator('#compactor').selectOption('model');
      await panel().locator('#preview-button').click();
      await panel().locator('#preview #summary', { hasText: 'Model summary: the parser parts live in src/parser.' }).waitFor();
    });
    assert.match((await panel().locator('#preview-compactor').textContent()) ?? '', /^Written by the model \S+\.$/);
    await panel().locator('#cancel').click();
    await panel().locator('#compactor').selectOption('offline');
  });

  it('imports the Claude Code projects folder and shows the imported session', async () => {
    writeOldProject(path.join(home!, '.claude', 'projects'));
    await shot('import', async () => {
      // Where: ~/.claude/projects is offered first; then which sessions (new ones are chosen).
      // The panel's webview, focused by the steps before, can take the focus back late and close
      // a quick pick unanswered. So the focus goes to the Explorer first, and if a pick closed
      // before the import ran (nothing is imported until the second pick is accepted), the
      // command runs again.
      const sessionsPick = workbench.page.locator('.quick-input-widget', { hasText: /Import Claude Code Sessions \(\d+ found\)/ });
      const imported = workbench.notification(/sessions with new events/);
      for (let attempt = 1; ; attempt++) {
        await workbench.page.locator('.part.sidebar .composite.title').click();
        await workbench.runCommand('Context Ledger: Import Claude Code Sessions…');
        try {
          await workbench.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Claude Code projects' }).click({ timeout: 10_000 });
          await sessionsPick.waitFor({ timeout: 10_000 });
          await workbench.page.keyboard.press('Enter');
          await imported.waitFor({ timeout: 30_000 });
          break;
        } catch (error) {
          if (attempt === 3 || runCli(store!, ['sessions']).includes(`claude-${oldSessionId}`)) {
            throw error;
          }
          await workbench.page.keyboard.press('Escape');
        }
      }
    });
    await shot('imported-session', async () => {
      // The panel hears of the import (the store changed) and lists the new session.
      const option = panel().locator(`#session-picker option[value="claude-${oldSessionId}"]`);
      await option.waitFor({ state: 'attached' });
      assert.match((await option.textContent()) ?? '', /^Fix the date parser \(\d+ turns?, \d+ events\)$/);
      await panel().locator('#session-picker').selectOption(`claude-${oldSessionId}`);
      await panel().locator('#session-summary', { hasText: /^Fix the date parser: \d+ turns?, \d+ events$/ }).waitFor();
      await panel().locator('.timeline-rows .row[data-category="toolCall"]').first().waitFor();
      // Its chart spans the transcript's own five minutes (2025-07-01), not the import: round ticks.
      await panel().locator('#growth .growth-axis .tick-label:not(.start)').nth(1).waitFor();
    });
    assert.match((await panel().locator('.timeline-rows .row[data-category="toolCall"] .time').first().textContent()) ?? '', /^Jul 1 \d\d:\d\d$/);
    await panel().locator('#growth svg.growth').hover();
    await panel().locator('#growth-readout', { hasText: /, 2025-07-01 \d\d:\d\d:\d\d: / }).waitFor();
    assert.match((await panel().locator('.timeline-rows .row[data-category="toolCall"] .label').first().textContent()) ?? '', /^tool call Read \(toolu_01\)/);
    assert.match(runCli(store!, ['sessions']), new RegExp(`claude-${oldSessionId}`));
  });
});
