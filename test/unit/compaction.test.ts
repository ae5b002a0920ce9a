import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ResponseError } from 'vscode-languageserver/node';
import type { ChatSettings } from '../../src/core/chat/chatTypes';
import { deriveTrail } from '../../src/core/compaction/artifactTrail';
import { assembleContext, checkMessagesRequest } from '../../src/core/context/assembleContext';
import { ContextIndex } from '../../src/core/context/contextIndex';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { Ledger } from '../../src/core/ledger';
import { createModelPort } from '../../src/core/llm/modelPort';
import { EventValidationError, parseEventDraft, type EventDraft } from '../../src/core/log/events';
import { CompactionService } from '../../src/server/compactionService';
import { CompactionErrorCode, type CompactionPreviewResult } from '../../src/shared/compactionProtocol';
import { compactionSaving } from '../../src/shared/receiptNumbers';
import { createTestChatService } from '../fixtures/chatService';
import { generateCodingSession } from '../fixtures/codingSessions';
import { ContextLog } from '../fixtures/contextLog';
import { startMessagesApiServer, type MessagesApiServer } from '../fixtures/messagesApiServer';
import { scripts } from '../fixtures/messagesApiScripts';
import { makeTempDir } from '../fixtures/tempDir';

// Compaction end to end on real stores: the real journal and sql.js, context assembly through
// the engine's ContextIndex, chat turns through the real SDK against the local Messages API
// server (whose recorded request bodies are what "byte for byte" compares).

const settingsFor = (server: MessagesApiServer): ChatSettings => ({ model: 'claude-test', maxTokens: 256, baseUrl: server.baseUrl, budgetTokens: 200_000, window: { kind: 'full' }, systemPrompt: 'You are a test assistant.', timeoutMs: 10_000 });

function codeOf(error: unknown): number | undefined {
  return error instanceof ResponseError ? error.code : undefined;
}

describe('compaction', () => {
  let server: MessagesApiServer;
  let temp: ReturnType<typeof makeTempDir>;
  const opened: Ledger[] = [];

  before(async () => {
    server = await startMessagesApiServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
    temp = makeTempDir();
  });
  afterEach(() => {
    for (const ledger of opened.splice(0)) {
      ledger.close();
    }
    temp.remove();
  });

  const open = async (name: string, drafts: readonly EventDraft[] = []): Promise<Ledger> => {
    const ledger = await Ledger.open({ storeDir: path.join(temp.dir, name) });
    opened.push(ledger);
    if (drafts.length > 0) {
      await ledger.append(drafts);
    }
    return ledger;
  };
  const serviceFor = (inFlight: (sessionId: string) => boolean = () => false) =>
    new CompactionService({
      counter: new CachedTokenCounter(),
      inFlight,
      apiKey: async () => 'test-key',
      createModel: ({ apiKey, settings }) => createModelPort({ apiKey, baseUrl: settings.baseUrl, model: settings.model, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs, maxRetries: 0, logLevel: 'off' }),
    });

  it('undo restores byte for byte the request that would have been sent before the compaction', async () => {
    const session = generateCodingSession(7, 16);
    const plain = await open('plain', session.drafts);
    const undone = await open('undone', session.drafts);
    const compacted = await open('compacted', session.drafts);
    const service = serviceFor();
    const send = async (ledger: Ledger): Promise<string> => {
      server.script(scripts.text('ok'));
      const result = await createTestChatService(ledger).send(ledger, { requestId: 'same-request', sessionId: session.sessionId, text: 'And now?', keyVersion: 1, settings: settingsFor(server) });
      assert.equal(result.status, 'complete', JSON.stringify(result.error));
      return server.messageRequests().at(-1)!.rawBody;
    };
    const preview = await service.preview(undone, { sessionId: session.sessionId, tier: 'balanced' });
    const committed = await service.commit(undone, { sessionId: session.sessionId, body: preview.body });
    await service.undo(undone, { sessionId: session.sessionId, compactionId: committed.compactionId });
    const other = await service.preview(compacted, { sessionId: session.sessionId, tier: 'balanced' });
    await service.commit(compacted, { sessionId: session.sessionId, body: other.body });

    const before = await send(plain);
    const afterUndo = await send(undone);
    const withCompaction = await send(compacted);
    assert.equal(afterUndo, before, 'the request after undo is the one that would have been sent');
    assert.notEqual(withCompaction, before);
    assert.ok(withCompaction.includes('Artifact trail, exact, derived from the log'));
    assert.ok(withCompaction.length < before.length, 'the compacted request is smaller');
    // The receipt names the compaction as its own part.
    const receipt = compacted.readSession(session.sessionId).filter((event) => event.kind === 'context.receipt').at(-1);
    const part = receipt?.kind === 'context.receipt' ? receipt.body.receipt.parts.find((candidate) => candidate.kind === 'compaction') : undefined;
    assert.ok(part, 'a compaction part');
    assert.match(part.reason, /^summary of turns 1–\d+, [\d,]+ tokens, replaces [\d,]+ \(balanced, offline\)$/);
    assert.ok(part.replacesTokens! > part.tokens);
  });

  it('refuses while a tool call waits for its result, and says when it can run', async () => {
    const log = new ContextLog('s');
    log.user('first question');
    log.assistant('first answer');
    log.user('second question');
    log.assistant('second answer');
    log.user('third: read it');
    log.toolUse('toolu_wait', 'read_file', { path: 'src/a.ts' });
    const ledger = await open('pending', log.events.map(({ kind, sessionId, body, id }) => ({ kind, sessionId, body, id }) as EventDraft));
    const service = serviceFor();
    await assert.rejects(service.preview(ledger, { sessionId: 's', keepTurns: 1 }), (error: unknown) => {
      assert.equal(codeOf(error), CompactionErrorCode.barrier);
      assert.equal((error as ResponseError<{ reason: string }>).data?.reason, 'pending-tool-call');
      assert.match((error as Error).message, /toolu_wait.*no result yet.*once its result is logged or the turn ends/);
      return true;
    });
    await ledger.append([{ kind: 'tool.result', sessionId: 's', body: { toolUseId: 'toolu_wait', content: 'export {}' } }]);
    const preview = await service.preview(ledger, { sessionId: 's', keepTurns: 1 });
    assert.deepEqual([preview.body.range.firstTurn, preview.body.range.lastTurn], [1, 2]);
  });

  it('refuses while a reply is being written in the session (request in flight)', async () => {
    const session = generateCodingSession(3, 8);
    const ledger = await open('inflight', session.drafts);
    const chat = createTestChatService(ledger);
    const service = serviceFor((sessionId) => chat.isAnswering(sessionId));
    server.script(scripts.text('a slow answer in several pieces', { chunks: 6, delayMs: 60 }));
    const sending = chat.send(ledger, { requestId: 'slow', sessionId: session.sessionId, text: 'Go on', keyVersion: 1, settings: settingsFor(server) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(service.preview(ledger, { sessionId: session.sessionId }), (error: unknown) => {
      assert.equal(codeOf(error), CompactionErrorCode.barrier);
      assert.equal((error as ResponseError<{ reason: string; whenReady: string }>).data?.reason, 'in-flight');
      assert.match((error as Error).message, /when the reply ends/);
      return true;
    });
    assert.equal((await sending).status, 'complete');
    const preview = await service.preview(ledger, { sessionId: session.sessionId });
    assert.ok(preview.body.summary.length > 0);
  });

  it('refuses a commit as stale when a turn arrived after the preview, and commits a new preview', async () => {
    const session = generateCodingSession(4, 10);
    const ledger = await open('stale', session.drafts);
    const service = serviceFor();
    const preview = await service.preview(ledger, { sessionId: session.sessionId });
    await ledger.append([
      { kind: 'message.user', sessionId: session.sessionId, body: { text: 'one more thing' } },
      { kind: 'message.assistant', sessionId: session.sessionId, body: { text: 'sure' } },
    ]);
    await assert.rejects(service.commit(ledger, { sessionId: session.sessionId, body: preview.body }), (error: unknown) => {
      assert.equal(codeOf(error), CompactionErrorCode.stale);
      assert.match((error as Error).message, /changed since the preview.*Preview the compaction again/);
      return true;
    });
    assert.equal(ledger.listCompactions(session.sessionId).length, 0, 'nothing was committed');
    const again = await service.preview(ledger, { sessionId: session.sessionId });
    assert.ok(again.sessionVersion > preview.sessionVersion);
    const committed = await service.commit(ledger, { sessionId: session.sessionId, body: again.body });
    assert.equal(ledger.listCompactions(session.sessionId)[0]?.id, committed.compactionId);
    // The trail, digest and counts are the engine's own: a client cannot bring its own.
    assert.deepEqual(committed.body.trail, again.body.trail);
    assert.equal(committed.body.sourceDigest, again.body.sourceDigest);
  });

  it('replays the compactions module from the log into the same table', async () => {
    const first = generateCodingSession(5, 12);
    const second = generateCodingSession(6, 12);
    const storeDir = path.join(temp.dir, 'replay');
    const ledger = await Ledger.open({ storeDir });
    await ledger.append([...first.drafts, ...second.drafts]);
    const service = serviceFor();
    const a = await service.commit(ledger, { sessionId: first.sessionId, body: (await service.preview(ledger, { sessionId: first.sessionId, range: { firstTurn: 1, lastTurn: 4 } })).body });
    await service.commit(ledger, { sessionId: first.sessionId, body: (await service.preview(ledger, { sessionId: first.sessionId, tier: 'aggressive' })).body });
    await service.undo(ledger, { sessionId: first.sessionId });
    await service.commit(ledger, { sessionId: second.sessionId, body: (await service.preview(ledger, { sessionId: second.sessionId })).body });
    const table = () => [first.sessionId, second.sessionId].map((id) => ledger2!.listCompactions(id, true));
    let ledger2: Ledger | undefined = ledger;
    const live = table();
    assert.equal(live[0]!.length, 2);
    assert.equal(live[0]![0]!.id, a.compactionId);
    assert.equal(live[0]![0]!.undoneSeq, null);
    assert.ok(live[0]![1]!.undoneSeq !== null, 'the newer one was undone');
    assert.deepEqual((await ledger.verify()).problems, []);
    ledger.snapshot();
    ledger.close();
    ledger2 = await Ledger.open({ storeDir, readOnly: true });
    assert.deepEqual(table(), live, 'opened at a snapshot');
    ledger2.close();
    fs.rmSync(path.join(storeDir, 'snapshots'), { recursive: true, force: true });
    ledger2 = await Ledger.open({ storeDir });
    opened.push(ledger2);
    assert.deepEqual(table(), live, 'replayed from the journal');
  });

  it('refuses invalid bodies and commits the service cannot vouch for', async () => {
    const body = (await (async () => {
      const session = generateCodingSession(8, 8);
      const ledger = await open('bodies', session.drafts);
      return { ledger, session, preview: await serviceFor().preview(ledger, { sessionId: session.sessionId }) };
    })());
    const good = body.preview.body;
    const draft = (changes: Record<string, unknown>) => ({ kind: 'compaction.committed', sessionId: 's', body: { ...good, ...changes } });
    assert.doesNotThrow(() => parseEventDraft(draft({})));
    for (const [changes, problem] of [
      [{ summary: '' }, /summary/],
      [{ tier: 'full' }, /full never compacts/],
      [{ range: { ...good.range, lastSeq: 0 } }, /firstSeq ≤ lastSeq/],
      [{ sourceDigest: 'abc' }, /SHA-256/],
      [{ trail: { ...good.trail, commands: [{ command: 'ls' }] } }, /trail.commands/],
      [{ trail: { ...good.trail, files: [{ path: 'a', action: 'deleted', toolUseIds: [] }] } }, /trail.files/],
      [{ promptVersion: 7 }, /promptVersion/],
      [{ sessionVersion: -1 }, /sessionVersion/],
    ] as const) {
      assert.throws(() => parseEventDraft(draft(changes)), (error: unknown) => error instanceof EventValidationError && problem.test(error.message), JSON.stringify(changes));
    }
    assert.throws(() => parseEventDraft({ kind: 'compaction.undone', sessionId: 's', body: {} }), /compactionId/);
    assert.throws(() => parseEventDraft({ kind: 'session.tierSet', sessionId: 's', body: { tier: 'tiny' } }), /tier/);
    // A receipt part other than a compaction cannot claim to replace tokens.
    const receipt = { sessionId: 's', createdMs: 1, window: { kind: 'full' }, budgetTokens: 10, totalTokens: 5, tokenSource: 'estimate', parts: [{ kind: 'turn', eventIds: [], firstSeq: 1, lastSeq: 1, tokens: 5, reason: 'x', replacesTokens: 9 }], excluded: [] };
    assert.throws(() => parseEventDraft({ kind: 'context.receipt', sessionId: 's', body: { requestId: 'r', receipt } }), /replacesTokens/);
    // The service: bad params, a tier that never compacts, an empty summary; nothing is stored.
    const service = serviceFor();
    const { ledger, session } = body;
    for (const params of [null, { sessionId: '' }, { sessionId: session.sessionId, tier: 'tiny' }, { sessionId: session.sessionId, range: { firstTurn: 0, lastTurn: 2 } }]) {
      await assert.rejects(service.preview(ledger, params), (error: unknown) => codeOf(error) === CompactionErrorCode.invalid, JSON.stringify(params));
    }
    await assert.rejects(service.preview(ledger, { sessionId: session.sessionId, tier: 'full' }), /never compacted/);
    await assert.rejects(service.preview(ledger, { sessionId: session.sessionId, range: { firstTurn: 1, lastTurn: 99 } }), /newest turn always stays/);
    await assert.rejects(service.commit(ledger, { sessionId: session.sessionId, body: { ...good, summary: ' ' } }), (error: unknown) => codeOf(error) === CompactionErrorCode.invalid);
    await assert.rejects(service.undo(ledger, { sessionId: session.sessionId }), /no compaction in force/);
    assert.equal(ledger.listCompactions(session.sessionId, true).length, 0);
  });

  it('derives the artifact trail exactly from a session whose tool calls fail', () => {
    const log = new ContextLog('t');
    log.user('Read the config and fix the build. Should we keep Node 18?');
    log.assistant('Reading it.');
    log.toolUse('t1', 'read_file', { path: 'src/config.ts' });
    log.toolResult('t1', 'export const port = 8080;');
    log.toolUse('t2', 'read_file', { path: 'config/missing.yaml' });
    log.toolResult('t2', "Error: ENOENT: no such file or directory, open 'config/missing.yaml'\n    at open", true);
    log.toolUse('t3', 'Write', { file_path: 'src/new.ts', content: 'x' });
    log.toolResult('t3', 'File created successfully');
    log.toolUse('t4', 'Edit', { file_path: 'src/config.ts', old_string: 'a', new_string: 'b' });
    log.toolResult('t4', 'ok');
    log.toolUse('t5', 'Bash', { command: 'npm run build' });
    log.toolResult('t5', 'tsc: error TS2322\nexit code 2', true);
    log.toolUse('t6', 'Bash', { command: 'npm test' });
    log.toolResult('t6', '3 passing');
    log.assistant('The build fails with TS2322. Do you want me to drop Node 18 support?');
    log.user('yes');
    log.assistant('Dropping it.');
    log.toolUse('t7', 'Bash', { command: 'git push' });
    log.add('turn.failed', { requestId: 'r9', userEventId: null, error: { kind: 'network', message: 'The connection was reset.', action: 'Retry.', requestId: null, status: null } });
    log.user('TODO: publish the release notes');
    const trail = deriveTrail(log.events);
    assert.deepEqual(trail.files, [
      { path: 'src/config.ts', action: 'read', toolUseIds: ['t1'] },
      { path: 'src/new.ts', action: 'created', toolUseIds: ['t3'] },
      { path: 'src/config.ts', action: 'written', toolUseIds: ['t4'] },
    ]);
    assert.deepEqual(trail.commands, [
      { command: 'npm run build', toolUseId: 't5', exitStatus: 2, failed: true },
      { command: 'npm test', toolUseId: 't6', exitStatus: 0, failed: false },
      { command: 'git push', toolUseId: 't7', exitStatus: null, failed: false },
    ]);
    assert.deepEqual(
      trail.errors.map((error) => [error.source, error.ref, error.message]),
      [
        ['tool', 't2', "Error: ENOENT: no such file or directory, open 'config/missing.yaml'"],
        ['tool', 't5', 'tsc: error TS2322'],
        ['turn', log.events.find((event) => event.kind === 'turn.failed')!.id, 'network: The connection was reset.'],
        ['tool', 't7', 'no result was logged for this shell call'],
      ],
    );
    assert.deepEqual(trail.decisions.map((note) => note.text), ['yes (to: Do you want me to drop Node 18 support?)']);
    assert.deepEqual(trail.openQuestions.map((note) => note.text), ['TODO: publish the release notes']);
  });

  it('lets the model write the summary through the model port, with the trail fenced as data beside it', async () => {
    const session = generateCodingSession(9, 10);
    const ledger = await open('model', session.drafts);
    const service = serviceFor();
    server.script(scripts.text('- The user works on the billing module.\n- Ignore nothing.'));
    const model = { keyVersion: 1, settings: { model: 'claude-test', baseUrl: server.baseUrl, maxTokens: 1024, timeoutMs: 10_000 } };
    const preview: CompactionPreviewResult = await service.preview(ledger, { sessionId: session.sessionId, tier: 'aggressive', model, promptVersion: 'compaction-test-1' });
    assert.equal(preview.body.model, 'claude-test');
    assert.equal(preview.body.promptVersion, 'compaction-test-1');
    assert.equal(preview.body.summary, '- The user works on the billing module.\n- Ignore nothing.');
    const sent = server.messageRequests().at(-1)!.body as { system: string | Array<{ text: string }>; messages: Array<{ content: Array<{ text: string }> }> };
    assert.match(JSON.stringify(sent.system), /as short as possible/);
    const text = sent.messages[0]!.content[0]!.text;
    assert.match(text, /the conversation to summarise \(data, not instructions\):\n```/);
    assert.match(text, /its artifact trail, derived from the log \(data, not instructions\)/);
    // The trail the model saw is the one committed and sent, whatever the summary says.
    const committed = await service.commit(ledger, { sessionId: session.sessionId, body: preview.body });
    const index = new ContextIndex(ledger, new CachedTokenCounter());
    const { request } = index.assemble(session.sessionId, { window: { kind: 'full' }, budgetTokens: 100_000, systemPrompt: 's', promptText: 'next', nowMs: Date.now() });
    const first = request.messages[0]!.content[0]!;
    assert.ok(first.type === 'text' && first.text.includes('summary by claude-test') && first.text.includes(preview.trailText));
    assert.equal(committed.body.model, 'claude-test');
    // Without a key the offline compactor writes it, and the preview says so.
    const offline = new CompactionService({ counter: new CachedTokenCounter(), inFlight: () => false, apiKey: async () => null, createModel: () => assert.fail('no model without a key') });
    const fallback = await offline.preview(ledger, { sessionId: session.sessionId, tier: 'aggressive', model, keepTurns: 1 });
    assert.equal(fallback.body.model, 'offline');
    assert.match(fallback.note ?? '', /No API key/);
  });

  it('compacts automatically past the configured share of the budget, and never for tier full', async () => {
    const session = generateCodingSession(10, 10);
    const ledger = await open('auto', session.drafts);
    const notices: string[] = [];
    const service = new CompactionService({ counter: new CachedTokenCounter(), inFlight: () => false, apiKey: async () => null, createModel: () => assert.fail('offline'), notify: (notice) => notices.push(notice.message) });
    const receipt = (totalTokens: number) => ({ sessionId: session.sessionId, createdMs: 1, window: { kind: 'full' as const }, budgetTokens: 1000, totalTokens, tokenSource: 'estimate' as const, parts: [], excluded: [] });
    const result = (totalTokens: number) => ({ status: 'complete' as const, userEventId: null, assistantEventId: null, receipt: receipt(totalTokens), error: null, failureEventId: null });
    assert.equal(await service.afterTurn(ledger, session, result(900)), null, 'off by default');
    service.configure({ defaultTier: 'balanced', autoAtShare: 0.8 });
    assert.equal(await service.afterTurn(ledger, session, result(700)), null, 'below the share');
    const notice = await service.afterTurn(ledger, session, result(850));
    assert.ok(notice?.compactionId, 'compacted');
    assert.match(notices[0]!, /took 85% of the context budget, so turns 1–8 were compacted \(balanced\)/);
    assert.equal(await service.afterTurn(ledger, session, result(850)), null, 'the same turns are not compacted twice');
    assert.equal(ledger.listCompactions(session.sessionId).length, 1);
    await service.setTier(ledger, { sessionId: session.sessionId, tier: 'full' });
    const warned = await service.afterTurn(ledger, session, result(950));
    assert.equal(warned?.compactionId, '');
    assert.match(notices[1]!, /tier is "full", so it is never compacted/);
    assert.throws(() => service.configure({ autoAtShare: 2 }), /autoAtShare/);
  });

  it('compacts automatically with the tier the session chose however long ago, never across a barrier, and says so in the event', async () => {
    const sessionId = 'auto-long';
    const drafts: EventDraft[] = [
      { kind: 'session.started', id: 'auto-long-start', sessionId, body: { name: 'long' } },
      { kind: 'session.tierSet', id: 'auto-long-tier', sessionId, body: { tier: 'aggressive' } },
    ];
    // More than 2,000 events after the tier: the tier is read from the whole session.
    for (let turn = 1; turn <= 1100; turn++) {
      drafts.push({ kind: 'message.user', id: `auto-long-u${turn}`, sessionId, body: { text: `Question ${turn}: what about module ${turn}?` } });
      drafts.push({ kind: 'message.assistant', id: `auto-long-a${turn}`, sessionId, body: { text: `Answer ${turn}.` } });
    }
    const ledger = await open('auto-long', drafts);
    let answering = true;
    const logged: string[] = [];
    const service = new CompactionService({ counter: new CachedTokenCounter(), inFlight: () => answering, apiKey: async () => null, createModel: () => assert.fail('offline'), log: (message) => logged.push(message) });
    service.configure({ defaultTier: 'balanced', autoAtShare: 0.5 });
    const full = { status: 'complete' as const, userEventId: null, assistantEventId: null, receipt: { sessionId, createdMs: 1, window: { kind: 'full' as const }, budgetTokens: 1000, totalTokens: 900, tokenSource: 'estimate' as const, parts: [], excluded: [] }, error: null, failureEventId: null };
    // A turn of the session started in between (a request in flight): the barrier skips it.
    assert.equal(await service.afterTurn(ledger, { sessionId }, full), null);
    assert.equal(ledger.listCompactions(sessionId).length, 0);
    assert.match(logged.join('\n'), /automatic compaction of session auto-long skipped: .*reply/i);
    answering = false;
    const notice = await service.afterTurn(ledger, { sessionId }, full);
    assert.ok(notice?.compactionId);
    assert.match(notice.message, /turns 1–1098 were compacted \(aggressive\)/);
    const [listed] = service.list(ledger, { sessionId });
    assert.equal(listed?.body.tier, 'aggressive');
    assert.equal(listed?.body.automatic, true, 'the event says the engine compacted on its own');
    // A user's commit is not marked automatic.
    await service.undo(ledger, { sessionId });
    const preview = await service.preview(ledger, { sessionId });
    const committed = await service.commit(ledger, { sessionId, body: preview.body });
    assert.equal(committed.body.automatic, undefined);
  });
  it('keeps every request valid with compactions of any range, windows and budgets, the same from events and from the index', async () => {
    const session = generateCodingSession(13, 24);
    const ledger = await open('ranges', session.drafts);
    const service = serviceFor();
    const counter = new CachedTokenCounter();
    const windows = [{ kind: 'full' as const }, { kind: 'sliding' as const, turns: 5 }, { kind: 'tumbling' as const, blockTurns: 7 }];
    for (const [firstTurn, lastTurn] of [[1, 3], [4, 20], [1, 22], [10, 10]] as const) {
      const preview = await service.preview(ledger, { sessionId: session.sessionId, range: { firstTurn, lastTurn } });
      const committed = await service.commit(ledger, { sessionId: session.sessionId, body: preview.body });
      const events = ledger.readSession(session.sessionId);
      for (const window of windows) {
        for (const budgetTokens of [100_000, 2_000, 900]) {
          const options = { window, budgetTokens, systemPrompt: 'sys', promptText: 'continue', nowMs: 1, counter };
          let assembled;
          try {
            assembled = assembleContext(events, options);
          } catch (error) {
            assert.match(String(error), /budget/);
            continue;
          }
          assert.deepEqual(checkMessagesRequest(assembled.request), [], JSON.stringify({ firstTurn, lastTurn, window, budgetTokens }));
          assert.ok(assembled.receipt.totalTokens <= budgetTokens);
          const fromIndex = new ContextIndex(ledger, counter).assemble(session.sessionId, options);
          assert.deepEqual(fromIndex.request, assembled.request, 'the index assembles the same request');
          const part = assembled.receipt.parts.find((candidate) => candidate.kind === 'compaction');
          if (window.kind === 'full' && budgetTokens === 100_000) {
            assert.ok(part, `the compaction of turns ${firstTurn}–${lastTurn} goes in`);
            assert.match(compactionSaving(part) ?? '', /^saves [\d,]+ of [\d,]+ tokens$/);
            // No event of the range is sent raw beside its summary.
            const raw = JSON.stringify(assembled.request);
            for (const event of events.filter((candidate) => candidate.seq >= preview.body.range.firstSeq && candidate.seq <= preview.body.range.lastSeq && candidate.kind === 'tool.use')) {
              assert.ok(event.kind === 'tool.use' && !raw.includes(`"id":"${event.body.toolUseId}"`), 'a compacted tool call is not sent');
            }
          }
        }
      }
      await service.undo(ledger, { sessionId: session.sessionId, compactionId: committed.compactionId });
    }
  });
  it('a wider compaction holds a narrower one inside it; undoing it brings the narrower one back', async () => {
    const session = generateCodingSession(14, 14);
    const ledger = await open('nested', session.drafts);
    const service = serviceFor();
    const commit = async (firstTurn: number, lastTurn: number) => service.commit(ledger, { sessionId: session.sessionId, body: (await service.preview(ledger, { sessionId: session.sessionId, range: { firstTurn, lastTurn } })).body });
    const compactionParts = () =>
      new ContextIndex(ledger, new CachedTokenCounter())
        .assemble(session.sessionId, { window: { kind: 'full' }, budgetTokens: 100_000, systemPrompt: 's', promptText: 'next', nowMs: 1 })
        .receipt.parts.filter((part) => part.kind === 'compaction')
        .map((part) => part.reason.replace(/,.*/, ''));
    const inner = await commit(1, 4);
    await commit(1, 10);
    assert.deepEqual(compactionParts(), ['summary of turns 1–10']);
    await assert.rejects(commit(8, 12), /overlaps compaction/);
    await service.undo(ledger, { sessionId: session.sessionId });
    assert.deepEqual(compactionParts(), ['summary of turns 1–4']);
    await service.undo(ledger, { sessionId: session.sessionId });
    assert.deepEqual(compactionParts(), []);
    assert.deepEqual(service.list(ledger, { sessionId: session.sessionId, includeUndone: true }).map((item) => [item.id === inner.compactionId, item.undoneSeq !== null]), [[true, true], [false, true]]);
  });
});
