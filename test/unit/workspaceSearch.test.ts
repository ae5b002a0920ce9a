import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChatProgress, ChatSettings } from '../../src/core/chat/chatTypes';
import { Ledger } from '../../src/core/ledger';
import { runModelTool } from '../../src/core/tools/modelTools';
import { defaultWorkspaceLimits, WorkspaceFiles, type WorkspaceLimits } from '../../src/core/tools/workspaceFiles';
import { ChatService } from '../../src/server/chatService';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { scripts } from '../fixtures/messagesApiScripts';
import { createTestChatService } from '../fixtures/chatService';
import { makeTempDir } from '../fixtures/tempDir';
import { parseFenced, writeTree } from '../fixtures/workspaceTree';

// search_text: every cap that cuts a search is said in the result (a "no matches" is never a
// silent miss), and a long search leaves the engine answering other requests.

const search = async (files: WorkspaceFiles, input: Record<string, unknown>) => {
  const outcome = await runModelTool(files, 'search_text', input);
  assert.equal(outcome.isError, false, outcome.content);
  return parseFenced(outcome.content);
};

/** `count` small files under `folder`, named so they sort in creation order. */
function manyFiles(root: string, folder: string, count: number, content: (index: number) => string): void {
  fs.mkdirSync(path.join(root, folder), { recursive: true });
  for (let index = 0; index < count; index++) {
    fs.writeFileSync(path.join(root, folder, `f${String(index).padStart(5, '0')}.txt`), content(index));
  }
}

describe('search_text caps and coverage', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  const open = (limits: Partial<WorkspaceLimits> = {}) => new WorkspaceFiles(temp.dir, { ...defaultWorkspaceLimits, ...limits });

  it('says "searched 500 of 1,240 files" when the file cap hides the only match, and finds it in a narrower folder', async () => {
    manyFiles(temp.dir, 'a', 1239, (index) => `filler ${index}\n`);
    writeTree(temp.dir, { 'z/last.md': 'the needle is here\n' });
    const files = open();
    const wide = await search(files, { query: 'needle' });
    assert.equal(wide.body, '(no matches)');
    assert.match(wide.note, /^The search was cut short: searched 500 of 1,240 files \(the 500-file cap\), so the other files were not searched\. Narrow the search with "folder" or a more specific query\.$/);
    const narrow = await search(files, { query: 'needle', folder: 'z' });
    assert.equal(narrow.body, 'z/last.md:1: the needle is here');
    assert.equal(narrow.note, '', 'a search that covered everything says nothing more');
  });

  it('says "more than" when even the counting stopped', async () => {
    manyFiles(temp.dir, 'a', 40, () => 'filler\n');
    const outcome = await search(open({ maxSearchedFiles: 10, maxCountedFiles: 25 }), { query: 'needle' });
    assert.match(outcome.note, /searched 10 of more than 25 files \(the 10-file cap\)/);
  });

  it('says so when the results cap, the bytes cap or the time cap stopped it', async () => {
    manyFiles(temp.dir, 'a', 30, (index) => `needle ${index}\nneedle again ${index}\n`);
    const results = await search(open(), { query: 'needle', maxResults: 5 });
    assert.equal(results.body.split('\n').length, 5);
    assert.match(results.note, /^Showing the first 5 matches; the search stopped there, so there may be more\./);
    const bytes = await search(open({ maxSearchedBytes: 100 }), { query: 'nothing-like-this' });
    assert.match(bytes.note, /^The search was cut short: searched \d of 30 files \(the 100 bytes cap on bytes read\)/);
    const time = await search(open({ maxSearchMs: 0 }), { query: 'needle' });
    assert.equal(time.body, '(no matches)');
    assert.match(time.note, /^The search was cut short: searched 0 files in the 0 s time limit; more files were not searched\./);
  });

  it('says how many files were too big to search', async () => {
    writeTree(temp.dir, { 'big.txt': `${'x'.repeat(300 * 1024)}\nneedle\n`, 'small.txt': 'no match\n' });
    const outcome = await search(open(), { query: 'needle' });
    assert.equal(outcome.body, '(no matches)');
    assert.equal(outcome.note, 'Not searched: 1 file over 256 KB.');
  });

  it('stops a search when the turn is cancelled, and says so', async () => {
    manyFiles(temp.dir, 'a', 200, (index) => `needle ${index}\n`);
    const controller = new AbortController();
    const running = runModelTool(open(), 'search_text', { query: 'needle' }, controller.signal);
    controller.abort();
    assert.deepEqual(await running, { content: 'Stopped before the tool finished (the turn was stopped or ran out of time).', isError: true });
  });
});

describe('a long search leaves the engine answering', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  let workspaceDir: string;
  let settings: ChatSettings;
  beforeEach(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    await ledger.append([
      { kind: 'session.started', sessionId: 'searching', body: { name: 'searching' } },
      { kind: 'session.started', sessionId: 'other', body: { name: 'other' } },
    ]);
    workspaceDir = path.join(temp.dir, 'workspace');
    // Enough files that the search takes far longer than one short chat turn.
    manyFiles(workspaceDir, 'src', 4000, (index) => `line ${index} ${'lorem ipsum '.repeat(50)}\n`.repeat(4));
    settings = { model: 'claude-test', maxTokens: 256, baseUrl: server().baseUrl, budgetTokens: 50_000, window: { kind: 'full' }, systemPrompt: 'Test.', timeoutMs: 60_000 };
  });
  afterEach(() => {
    ledger.close();
    temp.remove();
  });

  /**
   * The engine's ChatService with the real WorkspaceFiles, observed: `onSearchStart` runs when
   * the search's walk begins (a subclass hook, the walk itself untouched).
   */
  function engine(onSearchStart: (chat: ChatService) => void, onProgress: (requestId: string, progress: ChatProgress) => void = () => undefined): ChatService {
    class ObservedWorkspace extends WorkspaceFiles {
      override async *walkFiles(folder?: string, signal?: AbortSignal): AsyncGenerator<string> {
        onSearchStart(chat);
        yield* super.walkFiles(folder, signal);
      }
    }
    const workspace = new ObservedWorkspace(workspaceDir, { ...defaultWorkspaceLimits, maxSearchedFiles: 10_000, maxSearchedBytes: 1024 * 1024 * 1024, maxSearchMs: 60_000 });
    const chat: ChatService = createTestChatService(ledger, { workspace, onProgress, model: { maxRetries: 0 } });
    return chat;
  }

  it('answers another chat request while a search over many files runs in a turn', async () => {
    const order: string[] = [];
    let searchMs = 0;
    let otherTurn: Promise<unknown> | undefined;
    // The second chat turn starts when the search has begun, so it can only finish first if
    // the search lets the event loop run.
    const chat = engine(
      (self) => {
        searchMs = performance.now();
        order.push('search started');
        otherTurn = self.send(ledger, { requestId: 'other', sessionId: 'other', text: 'ping', keyVersion: 1, settings }).then((result) => {
          order.push(`other turn ${result.status}`);
        });
      },
      (requestId, progress) => {
        if (requestId === 'searching' && progress.type === 'toolResult') {
          searchMs = performance.now() - searchMs;
          order.push('search finished');
        }
      },
    );
    server().script(scripts.toolUse('search_text', { query: 'needle-that-is-nowhere' }, { id: 'toolu_search' }), scripts.text('pong'), scripts.text('Nothing found.'));
    const result = await chat.send(ledger, { requestId: 'searching', sessionId: 'searching', text: 'find the needle', keyVersion: 1, settings });
    await otherTurn;
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.deepEqual(order, ['search started', 'other turn complete', 'search finished'], `the other turn was answered during the ${Math.round(searchMs)} ms search`);
    const other = ledger.readSession('other').filter((event) => event.kind === 'message.assistant');
    assert.equal(other[0]?.kind === 'message.assistant' ? other[0].body.text : undefined, 'pong');
    const toolResult = ledger.readSession('searching').find((event) => event.kind === 'tool.result');
    assert.match(JSON.stringify(toolResult?.body), /\(no matches\)/);
  });

  it('Stop during a search ends the turn as cancelled, with the tool call answered in the log', async () => {
    let stoppedMs = 0;
    const chat = engine((self) => {
      // Stop arrives while the search runs, as the panel's Stop request would.
      setTimeout(() => {
        stoppedMs = performance.now();
        self.cancel('searching');
      }, 50);
    });
    server().script(scripts.toolUse('search_text', { query: 'needle-that-is-nowhere' }, { id: 'toolu_search' }), scripts.text('never sent'));
    const result = await chat.send(ledger, { requestId: 'searching', sessionId: 'searching', text: 'find the needle', keyVersion: 1, settings });
    assert.ok(stoppedMs > 0, 'Stop was sent during the search');
    assert.ok(performance.now() - stoppedMs < 1000, `the search stopped ${Math.round(performance.now() - stoppedMs)} ms after Stop`);
    assert.equal(result.status, 'cancelled');
    const events = ledger.readSession('searching');
    const toolResult = events.find((event) => event.kind === 'tool.result');
    assert.ok(toolResult?.kind === 'tool.result' && toolResult.body.isError && toolResult.body.toolUseId === 'toolu_search', JSON.stringify(toolResult));
    assert.match(toolResult.body.content, /^Stopped before the tool finished/);
    assert.equal(server().messageRequests().length, 1, 'no request after Stop');
  });
});
