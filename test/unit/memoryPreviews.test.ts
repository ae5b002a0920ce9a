import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { Ledger } from '../../src/core/ledger';
import { createModelPort } from '../../src/core/llm/modelPort';
import { MemoryPreviews, NoApiKeyError, type CompactorSource } from '../../src/extension/memory/memoryPreviews';
import { CompactionService } from '../../src/server/compactionService';
import { MemoryPanelService } from '../../src/server/memoryPanelService';
import { CompactionErrorCode } from '../../src/shared/compactionProtocol';
import type { CompactorKind } from '../../src/shared/memoryPanelMessages';
import { generateCodingSession } from '../fixtures/codingSessions';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';
import { scripts } from '../fixtures/messagesApiScripts';
import { makeTempDir } from '../fixtures/tempDir';

// The memory panel's compaction preview uses the compactor the commit will keep: the model
// (the real SDK against the local Messages API server) when it is the chosen one and a key is
// set, else a refusal that says a key is needed; the offline compactor on request. On a real
// store, through the engine's compaction and memory panel services.

describe('memory panel previews and the compactor', () => {
  const server = useMessagesApiServer();
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  let key: string | null = 'test-key';
  let configured: CompactorKind = 'model';
  const session = generateCodingSession(11, 6);
  const counter = new CachedTokenCounter();
  const compaction = new CompactionService({
    counter,
    inFlight: () => false,
    apiKey: async () => key,
    createModel: ({ apiKey, settings }) => createModelPort({ apiKey, baseUrl: settings.baseUrl, model: settings.model, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs, maxRetries: 0, logLevel: 'off' }),
  });
  const memory = new MemoryPanelService({ counter, inFlight: () => false });
  const source: CompactorSource = {
    configured: () => configured,
    hasApiKey: async () => key !== null,
    modelChoice: async () => ({ keyVersion: 1, settings: { model: 'claude-compactor-test', baseUrl: server().baseUrl, maxTokens: 512, timeoutMs: 10_000 } }),
  };
  const previews = () =>
    new MemoryPreviews(
      {
        preview: (params) => compaction.preview(ledger, params),
        compare: async (params) => memory.compare(ledger, params),
        commit: (params) => compaction.commit(ledger, params),
      },
      source,
    );

  before(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store'), snapshotEveryEvents: 0 });
    await ledger.append(session.drafts);
  });
  after(() => {
    ledger.close();
    temp.remove();
  });

  it('previews with the model when it is the configured compactor, and commits that summary', async () => {
    key = 'test-key';
    configured = 'model';
    server().script(scripts.text('Model summary: the parser keeps the offset; tests pass.'));
    const panel = previews();
    const shown = await panel.preview({ sessionId: session.sessionId, firstTurn: 1, lastTurn: 3, tier: 'balanced' });
    assert.equal(shown.preview.body.model, 'claude-compactor-test');
    assert.match(shown.preview.body.summary, /Model summary: the parser keeps the offset/);
    assert.equal(shown.preview.note, null);
    const requests = server().messageRequests();
    assert.equal(requests.length, 1, 'one model request wrote the preview');
    assert.equal((requests[0]!.body as { model: string }).model, 'claude-compactor-test');
    const committed = await panel.commit(shown.previewId);
    assert.match(committed.message, /^Turns 1–3 compacted by claude-compactor-test: /);
    assert.equal(server().messageRequests().length, 1, 'the commit keeps the previewed summary: no second request');
    const stored = ledger.readSession(session.sessionId).find((event) => event.kind === 'compaction.committed');
    assert.ok(stored?.kind === 'compaction.committed');
    assert.equal(stored.body.model, 'claude-compactor-test');
    assert.match(stored.body.summary, /Model summary/);
    await compaction.undo(ledger, { sessionId: session.sessionId });
  });

  it('says a key is needed when the model is chosen and none is set, and previews offline on request', async () => {
    key = null;
    configured = 'model';
    const panel = previews();
    await assert.rejects(panel.preview({ sessionId: session.sessionId, firstTurn: 1, lastTurn: 3, tier: 'balanced' }), (error: unknown) => error instanceof NoApiKeyError && /needs an API key; none is set/.test(error.message));
    assert.equal(server().messageRequests().length, 0, 'no request without a key');
    const offline = await panel.preview({ sessionId: session.sessionId, firstTurn: 1, lastTurn: 3, tier: 'balanced', compactor: 'offline' });
    assert.equal(offline.preview.body.model, 'offline');
    assert.match((await panel.commit(offline.previewId)).message, /compacted by the offline compactor/);
    await compaction.undo(ledger, { sessionId: session.sessionId });
  });

  it('uses the offline compactor when that is configured, with a key set', async () => {
    key = 'test-key';
    configured = 'offline';
    const shown = await previews().preview({ sessionId: session.sessionId, firstTurn: 1, lastTurn: 2, tier: 'aggressive' });
    assert.equal(shown.preview.body.model, 'offline');
    assert.equal(server().messageRequests().length, 0);
  });

  it('passes a failed model request on with its code, writing nothing', async () => {
    key = 'test-key';
    configured = 'model';
    server().script(scripts.httpError(400, 'invalid_request_error', 'model not found'));
    const before = ledger.readSession(session.sessionId).length;
    await assert.rejects(previews().preview({ sessionId: session.sessionId, firstTurn: 1, lastTurn: 2, tier: 'balanced' }), (error: unknown) => (error as { code?: number }).code === CompactionErrorCode.model && /model not found/.test(String((error as Error).message)));
    assert.equal(ledger.readSession(session.sessionId).length, before);
  });
});
