import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChatSettings } from '../../src/core/chat/chatTypes';
import { openTurnOfOthers, TurnConflictError, TurnLog } from '../../src/core/chat/turnLog';
import { Ledger } from '../../src/core/ledger';
import { receiptLines } from '../../src/core/report/receiptReport';
import { ChatService } from '../../src/server/chatService';
import type { ChatSendParams } from '../../src/shared/chatProtocol';
import { toTranscript, withoutStaleRetries } from '../../src/extension/chat/transcript';
import { scripts } from '../fixtures/messagesApiScripts';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { createTestChatService } from '../fixtures/chatService';
import { makeTempDir } from '../fixtures/tempDir';

// Issue 11 §1, one test per defect: retries, faults and how they are logged. The engine's
// ChatService on a real Ledger, the real SDK against the local Messages API server, which refuses
// a prefill like recent models do.
describe('chat retries and faults through the engine', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  let chat: ChatService;
  let settings: ChatSettings;
  let texts: string[];
  let sdkLog: string[];
  beforeEach(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    await ledger.append([{ kind: 'session.started', sessionId: 's', body: { name: 'chat' } }]);
    texts = [];
    sdkLog = [];
    chat = createTestChatService(ledger, {
      onProgress: (_requestId, item) => (item.type === 'text' ? texts.push(item.delta) : undefined),
      model: { logLevel: 'info', log: (_level, message) => sdkLog.push(message), countDeadlineMs: 1500 },
    });
    settings = { model: 'claude-test', maxTokens: 512, baseUrl: server().baseUrl, budgetTokens: 20_000, window: { kind: 'full' }, systemPrompt: 'Test.', timeoutMs: 10_000 };
  });
  afterEach(() => {
    ledger.close();
    temp.remove();
  });

  let counter = 0;
  const send = (text: string, overrides: Partial<ChatSendParams> = {}) =>
    chat.send(ledger, { requestId: `req-${++counter}`, sessionId: 's', text, keyVersion: 1, settings, ...overrides });
  const events = () => ledger.readSession('s');
  const ofKind = (kind: string) => events().filter((event) => event.kind === kind);
  type SentBody = { messages: Array<{ role: string; content: Array<{ type: string; text?: string }> }> };
  const lastSent = () => server().messageRequests().at(-1)!.body as SentBody;

  it('retries a cut answer by asking again: no prefill, the cut answer superseded and not sent', async () => {
    server().script(scripts.tornStream('A first answer that breaks off here.', { chunks: 6, afterDeltas: 3 }), scripts.text('The whole answer.'));
    const cut = await send('Explain it');
    assert.equal(cut.status, 'incomplete');
    const retried = await send('Explain it', { retryOfEventId: cut.userEventId! });
    assert.equal(retried.status, 'complete', JSON.stringify(retried.error));
    const sent = lastSent();
    assert.equal(sent.messages.at(-1)?.role, 'user', 'the retry ends with the question, not a prefill');
    assert.doesNotMatch(JSON.stringify(sent), /breaks off|first answer/, 'the cut answer is not in the request');
    assert.equal(ofKind('message.user').length, 1, 'the question is logged once');
    const [superseded] = ofKind('message.superseded');
    assert.equal(superseded?.kind === 'message.superseded' && superseded.body.eventId, cut.assistantEventId);
    // Later turns do not send it either, and the panel shows it marked.
    server().script(scripts.text('Next.'));
    assert.equal((await send('And then?')).status, 'complete');
    assert.doesNotMatch(JSON.stringify(lastSent()), /breaks off/);
    const entry = toTranscript(events()).find((item) => item.kind === 'assistant' && item.eventId === cut.assistantEventId);
    assert.equal(entry?.kind === 'assistant' && entry.superseded, true);
  });

  it('retry of an older failed question neither answers the newest turn nor keeps its Retry button', async () => {
    server().script(scripts.unauthorized(), scripts.text('Answer to Q2.'));
    const q1 = await send('Q1?');
    assert.equal(q1.status, 'failed');
    assert.equal((await send('Q2?')).status, 'complete');
    const before = server().messageRequests().length;
    const retried = await send('Q1?', { retryOfEventId: q1.userEventId! });
    assert.equal(retried.status, 'failed');
    assert.equal(retried.error?.kind, 'invalid-request');
    assert.match(retried.error?.action ?? '', /as a new message/);
    assert.equal(server().messageRequests().length, before, 'no request was sent');
    assert.equal(ofKind('message.assistant').length, 1, 'Q2 still has one answer');
    const errors = withoutStaleRetries(toTranscript(events())).filter((entry) => entry.kind === 'error');
    assert.equal(errors.length, 1, 'the Q1 failure is shown from the log, once');
    assert.equal(errors[0]?.kind === 'error' && errors[0].retryText, null, "the older error box loses its Retry button");
  });

  it('does not let a throttled count_tokens hold the answer: one call, no retries, the estimate named in the receipt', async () => {
    server().scriptCountTokens(scripts.rateLimited(10));
    server().script(scripts.text('Answered without waiting.'));
    const result = await send('Count me', { settings: { ...settings, timeoutMs: 5000 } });
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const counts = server().requests.filter((request) => request.path === '/v1/messages/count_tokens');
    assert.equal(counts.length, 1, 'count_tokens is asked once, and not retried');
    assert.equal(server().messageRequests().length, 1, '/v1/messages was called');
    assert.match(result.receipt?.tokenSourceNote ?? '', /429/);
    assert.match(result.receipt?.tokenSourceNote ?? '', new RegExp(counts[0]!.requestId));
    // The receipt as the CLI and the status bar show it says why the counts are estimates.
    assert.match(receiptLines(result.receipt!)[0]!, /estimated: count_tokens failed \(rate-limited, HTTP 429/);
  });

  it('goes on with the estimate when count_tokens does not answer within its short deadline', async () => {
    server().scriptCountTokens(scripts.hang());
    server().script(scripts.toolUse('list_files', {}, { id: 'toolu_a' }), scripts.text('Done.'));
    const result = await send('Slow count', { settings: { ...settings, timeoutMs: 6000 } });
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.match(result.receipt?.tokenSourceNote ?? '', /timeout/);
    // The second round of the turn does not ask again.
    assert.equal(server().requests.filter((request) => request.path === '/v1/messages/count_tokens').length, 1);
  });

  it('names the 429 and its request id when the time runs out during a retry-after wait', async () => {
    server().script(scripts.rateLimited(10));
    const result = await send('Busy?', { settings: { ...settings, timeoutMs: 1500 } });
    assert.equal(result.error?.kind, 'timeout');
    const throttled = server().messageRequests()[0]!;
    assert.equal(result.error?.requestId, throttled.requestId);
    assert.match(result.error?.message ?? '', /429/);
    assert.match(result.error?.message ?? '', /10 s/);
  });

  it('names the 429 when Stop lands during a retry-after wait', async () => {
    server().script(scripts.rateLimited(10));
    const pending = send('Busy?', { requestId: 'stop-in-wait' });
    // The SDK has the 429 and waits out its retry-after.
    while (!sdkLog.some((line) => /status 429.*retrying/.test(line))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    chat.cancel('stop-in-wait');
    const result = await pending;
    assert.equal(result.error?.kind, 'cancelled');
    assert.equal(result.error?.requestId, server().messageRequests()[0]!.requestId);
    assert.match(result.error?.message ?? '', /429/);
  });

  it('says the answer held malformed JSON, not that the connection dropped', async () => {
    server().script(scripts.badJson('Some text before the broken event.', { chunks: 4, afterDeltas: 2 }));
    const sse = await send('Break the stream');
    assert.equal(sse.error?.kind, 'malformed-response');
    assert.doesNotMatch(sse.error?.message ?? '', /connection dropped/);
    assert.match(sse.error?.message ?? '', /not valid JSON/);

    server().script(scripts.malformedToolUse('read_file', '{"path": notes.md}', { text: 'Let me look.' }));
    const tool = await send('Read it');
    assert.equal(tool.error?.kind, 'malformed-response');
    assert.match(tool.error?.message ?? '', /read_file/);
    assert.doesNotMatch(tool.error?.message ?? '', /connection dropped/);
  });

  it('keeps the "characters kept" note on a timeout with a partial answer, and a retry writes no second receipt of a request id', async () => {
    server().script(scripts.stall('Half an answer and then nothing more.', { chunks: 4, afterDeltas: 1 }), scripts.text('Full.'));
    const timedOut = await send('Slow', { settings: { ...settings, timeoutMs: 1000 } });
    assert.equal(timedOut.status, 'incomplete');
    assert.equal(timedOut.error?.kind, 'timeout');
    assert.match(timedOut.error?.message ?? '', /characters received so far are kept, marked incomplete/);
    await send('Slow', { retryOfEventId: timedOut.userEventId! });
    const receiptIds = ofKind('context.receipt').map((event) => (event.kind === 'context.receipt' ? event.body.requestId : ''));
    assert.equal(new Set(receiptIds).size, receiptIds.length, `receipt request ids repeat: ${receiptIds.join(', ')}`);
  });

  it('logs the partial answer when the engine stops mid-answer (a reload), so the panel shows it', async () => {
    server().script(scripts.stall('Streaming when the window reloads.', { chunks: 4, afterDeltas: 2 }));
    const pending = send('Long one', { requestId: 'reload' });
    while (texts.length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // What the engine does at shutdown: stop the turns, then close the store at once.
    await chat.stopAll();
    ledger.close();
    const result = await pending;
    assert.equal(result.status, 'cancelled');
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    const transcript = toTranscript(events());
    const answer = transcript.find((entry) => entry.kind === 'assistant');
    assert.equal(answer?.kind === 'assistant' && answer.text, texts.join(''));
    assert.equal(answer?.kind === 'assistant' && answer.incomplete, true);
    assert.ok(!transcript.some((entry) => entry.kind === 'receipt'), 'no "stopped before any text arrived" row');
    assert.ok(transcript.some((entry) => entry.kind === 'error' && entry.error.kind === 'cancelled'), 'how it ended is in the log');
  });

  it('gives every event of a turn an id from its request, so a resent request logs nothing twice', async () => {
    server().script(scripts.text('Once.'));
    const first = await send('Only once', { requestId: 'same' });
    assert.equal(first.status, 'complete');
    assert.equal(first.userEventId, 'chat:same:user');
    const again = await send('Only once', { requestId: 'same' });
    assert.equal(again.status, 'failed');
    assert.equal(ofKind('message.user').length, 1);
    assert.equal(server().messageRequests().length, 1);
  });

  it('starts a new chat session itself, as part of chat/send', async () => {
    server().script(scripts.text('Hello, new chat.'));
    const result = await send('Start here', { sessionId: 'fresh', newSessionName: 'Start here' });
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.equal(ledger.getSession('fresh')?.name, 'Start here');
    assert.deepEqual(
      ledger.readSession('fresh').map((event) => event.kind),
      ['session.started', 'message.user', 'context.receipt', 'message.assistant'],
    );
  });

  it("does not ask while another window's question in the session is still being answered; asks once that turn ended", async () => {
    const other = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    try {
      // The other window asked (its chat request "theirs") and its answer has not arrived.
      await other.append([{ kind: 'message.user', id: 'chat:theirs:user', sessionId: 's', body: { text: 'their question' } }]);
      await other.append([{ kind: 'message.assistant', id: 'chat:theirs:assistant:0', sessionId: 's', body: { text: 'Let me look.', stopReason: 'tool_use' } }]);
      const refused = await send('Mine, meanwhile');
      assert.equal(refused.status, 'failed');
      assert.equal(refused.error?.kind, 'conflict');
      assert.match(refused.error?.message ?? '', /Another window is answering a question in this session/);
      assert.equal(ofKind('message.user').length, 1, 'my question was not logged into their turn');
      assert.equal(server().messageRequests().length, 0, 'nothing was sent to the model');
      // Their turn ends (a final answer): now mine goes through, after theirs.
      await other.append([{ kind: 'message.assistant', id: 'chat:theirs:assistant:1', sessionId: 's', body: { text: 'Done.', stopReason: 'end_turn' } }]);
      server().script(scripts.text('My answer.'));
      const asked = await send('Mine, now');
      assert.equal(asked.status, 'complete', JSON.stringify(asked.error));
      assert.deepEqual(ofKind('message.user').map((event) => event.id), ['chat:theirs:user', asked.userEventId]);
    } finally {
      other.close();
    }
  });

  it('an open question left by this engine before a crash, or one older than a turn can last, does not block', async () => {
    // Written by this engine's own writer: had its turn been running, the ChatService would know.
    await ledger.append([{ kind: 'message.user', id: 'chat:crashed:user', sessionId: 's', body: { text: 'asked before the crash' } }]);
    server().script(scripts.text('Answered.'));
    assert.equal((await send('After the restart')).status, 'complete');
    const question = ofKind('message.user').at(-1)!;
    const foreign = { ...question, id: 'chat:elsewhere:user', writerId: 'vscode-9' };
    assert.ok(openTurnOfOthers([foreign], 'mine', ledger.writerId, question.wallMs + 1_000, 10_000), 'a fresh question of another writer is open');
    assert.equal(openTurnOfOthers([foreign], 'mine', ledger.writerId, question.wallMs + 10_000, 10_000), null, 'one older than a turn can last is abandoned');
    assert.equal(openTurnOfOthers([{ ...foreign, id: 'cli-question' }], 'mine', ledger.writerId, question.wallMs + 1_000, 10_000), null, 'a question not asked by a chat has no turn to wait for');
  });

  it('catches another engine writing to the session: a version check on the first append, a watch after it', async () => {
    const other = await Ledger.open({ storeDir: path.join(temp.dir, 'store') });
    try {
      // Engine A read the session, then engine B asked a question before A's first append.
      const start = ledger.getSession('s')!;
      await other.append([{ kind: 'message.user', sessionId: 's', body: { text: 'from the other window' } }]);
      const turnLog = new TurnLog(ledger, 's', 'late', { version: start.version, lastSeq: Number.MAX_SAFE_INTEGER });
      await assert.rejects(turnLog.append([{ kind: 'message.user', id: 'chat:late:user', sessionId: 's', body: { text: 'mine' } }]), (error: unknown) => error instanceof TurnConflictError && error.reason === 'concurrent');
      assert.equal(ledger.readSession('s').filter((event) => event.id === 'chat:late:user').length, 0, 'the late question is not logged');

      // B answers in the session while A's answer streams: A stops and says so.
      server().script(scripts.text('A slow answer in many pieces.', { chunks: 10, delayMs: 100 }));
      const pending = send('Mine', { requestId: 'watched' });
      while (texts.length < 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await other.append([{ kind: 'message.user', sessionId: 's', body: { text: 'meanwhile, elsewhere' } }]);
      const result = await pending;
      assert.equal(result.error?.kind, 'conflict');
      assert.match(result.error?.message ?? '', /Another window/);

      // B closes the session: A's next send is refused.
      await other.append([{ kind: 'session.closed', sessionId: 's', body: {} }]);
      const closed = await send('Still there?');
      assert.equal(closed.status, 'failed');
      assert.match(closed.error?.message ?? '', /closed/);
    } finally {
      other.close();
    }
  });
});
