// Two VS Code windows on one folder (two browser contexts on one code-server: two extension
// hosts, two engine processes, one store), chatting at the same time, each in a session of its
// own. Both transcripts must be complete in both windows, both windows must show the same
// order, and no turn may be interleaved into another's: in the log each question is followed
// by its own answer. Then both send into the same session at once: one turn goes through, the
// other is refused as a conflict and says so, the winner's turn appears in the loser's window
// without a reload, and nothing of either is interleaved.
// Screenshots: test-results/e2e/two-windows-*.png.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { Workbench, e2eEnvironment, webviewDocument } from './workbench';

interface LoggedEvent {
  readonly kind: string;
  readonly sessionId: string;
  readonly parentId: string | null;
  readonly id: string;
  readonly body: { readonly text?: string; readonly name?: string };
}

function readEnvironment(): { chatUrl: string; messagesApi: string; chatStore: string } {
  const chatUrl = process.env.CONTEXT_LEDGER_E2E_CHAT_URL;
  const messagesApi = process.env.CONTEXT_LEDGER_E2E_MESSAGES_API;
  const chatStore = process.env.CONTEXT_LEDGER_E2E_CHAT_STORE;
  if (!chatUrl || !messagesApi || !chatStore) {
    throw new Error('CONTEXT_LEDGER_E2E_CHAT_URL, _MESSAGES_API and _CHAT_STORE are not set: run `npm run test:e2e` (scripts/run-e2e.mjs)');
  }
  return { chatUrl, messagesApi, chatStore };
}

async function scriptAnswers(messagesApi: string, scripts: unknown[]): Promise<void> {
  const response = await fetch(`${messagesApi}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scripts) });
  assert.equal(response.status, 200, await response.text());
}

/** Every event of the store, in the one order the log has, read by the CLI (a third reader). */
function logEvents(store: string): LoggedEvent[] {
  const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  const out = execFileSync(process.execPath, [cli, '--store', store, 'export', '--format', 'jsonl'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LoggedEvent);
}

/** The session's questions and answers in log order, as `Q:text` / `A:text`. */
function sessionFlow(events: readonly LoggedEvent[], sessionId: string): string[] {
  return events
    .filter((event) => event.sessionId === sessionId && (event.kind === 'message.user' || event.kind === 'message.assistant'))
    .map((event) => `${event.kind === 'message.user' ? 'Q' : 'A'}:${(event.body.text ?? '').split('\n')[0]}`);
}

/** Each chat request's events form one unbroken run in the session's part of the log. */
function assertTurnsContiguous(events: readonly LoggedEvent[], sessionId: string): void {
  const requests = events.filter((event) => event.sessionId === sessionId).map((event) => /^chat:([^:]+):/.exec(event.id)?.[1] ?? null);
  const finished = new Set<string>();
  requests.forEach((request, index) => {
    const previous = index > 0 ? requests[index - 1] : null;
    if (previous && previous !== request) {
      finished.add(previous);
    }
    assert.ok(request === null || !finished.has(request), `turn ${request} of session ${sessionId} is split by another turn: ${JSON.stringify(requests)}`);
  });
}

describe('two VS Code windows on one store', () => {
  let first: Workbench;
  let second: Workbench;
  let env: ReturnType<typeof readEnvironment>;
  let step = 0;

  const chatOf = (workbench: Workbench): FrameLocator => webviewDocument(workbench.page);

  async function shots(name: string): Promise<void> {
    step++;
    const prefix = `two-windows-${String(step).padStart(2, '0')}`;
    await first.screenshot(`${prefix}-${name}-window-1`);
    await second.screenshot(`${prefix}-${name}-window-2`);
  }

  async function openChat(workbench: Workbench): Promise<void> {
    await workbench.activityBarItem().click();
    await chatOf(workbench).locator('#composer').waitFor();
  }

  async function send(workbench: Workbench, text: string): Promise<void> {
    const composer = chatOf(workbench).locator('#composer');
    await composer.fill(text);
    await composer.press('Enter');
  }

  /** The conversation a window shows: `Q:` and `A:` lines, first line of each card. */
  async function shownFlow(workbench: Workbench): Promise<string[]> {
    const cards = chatOf(workbench).locator('article.turn');
    const flow: string[] = [];
    for (const card of await cards.all()) {
      const isUser = ((await card.getAttribute('class')) ?? '').includes('user');
      const text = isUser ? await card.locator('.user-text').innerText() : await card.locator('.markdown').first().innerText();
      flow.push(`${isUser ? 'Q' : 'A'}:${text.split('\n')[0]?.trim() ?? ''}`);
    }
    return flow;
  }

  async function idle(workbench: Workbench): Promise<void> {
    await chatOf(workbench).locator('article.turn.assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });
  }

  before(async () => {
    const environment = e2eEnvironment();
    env = readEnvironment();
    first = await Workbench.open({ ...environment, url: env.chatUrl, profileDir: `${environment.profileDir}-window-1` });
    second = await Workbench.open({ ...environment, url: env.chatUrl, profileDir: `${environment.profileDir}-window-2` });
    await openChat(first);
    await openChat(second);
  });

  after(async () => {
    await first?.close();
    await second?.close();
  });

  it('two windows chat at once, each in its own session: both complete, one order, no turn interleaved', async () => {
    for (const round of [1, 2]) {
      // Slow answers, so the two turns overlap in time: both engines append while the other does.
      await scriptAnswers(env.messagesApi, [1, 2].map(() => ({ kind: 'answer', content: [{ type: 'text', text: `Answer of round ${round}.\n\nIt streams slowly.` }], chunks: 12, delayMs: 60 })));
      await Promise.all([send(first, `Window one asks question ${round}`), send(second, `Window two asks question ${round}`)]);
      // The answers may be over before a look at them: wait for what they end with, not for streaming.
      const answered = (workbench: Workbench) => chatOf(workbench).locator('article.turn.assistant .markdown', { hasText: `Answer of round ${round}.` }).last().waitFor({ timeout: 30_000 });
      await Promise.all([answered(first), answered(second)]).catch(async (error: unknown) => {
        await shots(`round-${round}-FAILED`);
        throw error;
      });
      await Promise.all([idle(first), idle(second)]);
    }
    await shots('each-in-its-own-session');

    const events = logEvents(env.chatStore);
    const started = events.filter((event) => event.kind === 'session.started');
    const sessionOf = (prefix: string): string => {
      const question = events.find((event) => event.kind === 'message.user' && (event.body.text ?? '').startsWith(prefix));
      assert.ok(question, `no question "${prefix}…" in the log`);
      return question.sessionId;
    };
    const one = sessionOf('Window one asks');
    const two = sessionOf('Window two asks');
    assert.notEqual(one, two, 'each window chats in a session of its own');
    assert.ok(started.some((event) => event.sessionId === one) && started.some((event) => event.sessionId === two));
    // In the log: each question followed by its own answer, nothing of the other session between
    // them mattering, and every answer's parent is its question (no turn interleaved into another's).
    for (const [sessionId, label] of [
      [one, 'one'],
      [two, 'two'],
    ] as const) {
      assert.deepEqual(sessionFlow(events, sessionId), [`Q:Window ${label} asks question 1`, 'A:Answer of round 1.', `Q:Window ${label} asks question 2`, 'A:Answer of round 2.']);
      // Every event of a chat turn has an id made from its request id (chat:<request>:…): in the
      // session's part of the log each turn's events form one run, never split by another turn.
      assertTurnsContiguous(events, sessionId);
    }
    // Both windows show each session complete and in the log's order: each opens the other's.
    assert.deepEqual(await shownFlow(first), sessionFlow(events, one));
    assert.deepEqual(await shownFlow(second), sessionFlow(events, two));
    const nameOf = (sessionId: string): string => started.find((event) => event.sessionId === sessionId)?.body.name ?? '';
    await first.sessionRow(nameOf(two)).click();
    await chatOf(first).locator('.user-text', { hasText: 'Window two asks question 2' }).waitFor();
    await second.sessionRow(nameOf(one)).click();
    await chatOf(second).locator('.user-text', { hasText: 'Window one asks question 2' }).waitFor();
    assert.deepEqual(await shownFlow(first), sessionFlow(events, two));
    assert.deepEqual(await shownFlow(second), sessionFlow(events, one));
    await shots('each-opened-the-other');
  });

  it('both send into the same session at once: one turn goes through, the other says it met a conflict; nothing interleaves', async () => {
    // Both windows now show session one (the second window opened it above).
    const events = logEvents(env.chatStore);
    const one = events.find((event) => event.kind === 'message.user' && (event.body.text ?? '').startsWith('Window one asks'))!.sessionId;
    const sessionName = events.find((event) => event.kind === 'session.started' && event.sessionId === one)?.body.name ?? '';
    await first.sessionRow(sessionName).click();
    await chatOf(first).locator('.user-text', { hasText: 'Window one asks question 2' }).waitFor();
    await scriptAnswers(env.messagesApi, [1, 2].map(() => ({ kind: 'answer', content: [{ type: 'text', text: 'Answer of the race.\n\nSlowly.' }], chunks: 12, delayMs: 80 })));
    await Promise.all([send(first, 'Race from window one'), send(second, 'Race from window two')]);
    // Each window ends with either an answer or an error box; wait for both to settle.
    const settled = async (workbench: Workbench): Promise<void> => {
      await chatOf(workbench).locator('article.turn.assistant:not(.streaming), .error-box').last().waitFor({ timeout: 30_000 });
      await idle(workbench);
    };
    await Promise.all([settled(first), settled(second)]);
    await shots('same-session-race');

    const after = logEvents(env.chatStore);
    assertTurnsContiguous(after, one);
    const flow = sessionFlow(after, one);
    const raced = flow.slice(4);
    // Every question in the log is directly followed by its answer: no turn inside another.
    for (let index = 0; index < raced.length; index++) {
      if (raced[index]!.startsWith('Q:')) {
        assert.equal(raced[index + 1], 'A:Answer of the race.', `question ${raced[index]} is not followed by its own answer: ${JSON.stringify(raced)}`);
      }
    }
    const answered = raced.filter((line) => line.startsWith('Q:'));
    assert.ok(answered.length >= 1, 'at least one of the racing turns went through');
    // A turn that lost the race says so, in the window that sent it.
    if (answered.length === 1) {
      const loser = answered[0] === 'Q:Race from window one' ? second : first;
      await chatOf(loser).locator('.error-box', { hasText: /another window|conflict|Reload the session/i }).waitFor();
      // And the turn that won shows up in the losing window on its own: it follows the session.
      await chatOf(loser).locator('.user-text', { hasText: answered[0]!.slice(2) }).waitFor();
    }
  });
});
