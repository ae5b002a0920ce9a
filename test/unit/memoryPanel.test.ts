import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResponseError } from 'vscode-languageserver/node';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { Ledger } from '../../src/core/ledger';
import type { EventDraft } from '../../src/core/log/events';
import { compareCompaction } from '../../src/core/memory/compactionCompare';
import { detailSpans, droppedDetails } from '../../src/core/memory/droppedDetails';
import { timelinePageSize } from '../../src/core/memory/timelineTypes';
import { CompactionService } from '../../src/server/compactionService';
import { MemoryPanelService } from '../../src/server/memoryPanelService';
import { CompactionErrorCode } from '../../src/shared/compactionProtocol';
import { generateCodingSession } from '../fixtures/codingSessions';
import { makeTempDir } from '../fixtures/tempDir';

// The memory panel's core parts (dropped details, the side-by-side comparison) and its engine
// requests on real stores: real journal, real sql.js, the real compaction service.

describe('dropped details', () => {
  it('finds paths, identifiers and numbers in their places, none overlapping', () => {
    const text = 'Edit src/core/parse.ts: parseWithOffset() returns MAX_OFFSET of 1,024 and retry_count 3.';
    assert.deepEqual(
      detailSpans(text).map(({ kind, text: value }) => [kind, value]),
      [
        ['path', 'src/core/parse.ts'],
        ['identifier', 'parseWithOffset()'],
        ['identifier', 'MAX_OFFSET'],
        ['number', '1,024'],
        ['identifier', 'retry_count'],
      ],
    );
  });

  it('names what the summary left out, and counts a number kept in another spelling as kept', () => {
    const source = 'We read src/app/config.ts and lib/db.ts. Set maxRetries to 1,000 and timeoutMs to 2500. maxRetries stays.';
    const dropped = droppedDetails(source, 'Summary: config.ts sets maxRetries to 1000.');
    assert.deepEqual(
      dropped.map(({ kind, text, occurrences }) => [kind, text, occurrences]),
      [
        ['number', '2500', 1],
        ['path', 'lib/db.ts', 1],
        ['identifier', 'timeoutMs', 1],
      ],
    );
    assert.deepEqual(droppedDetails(source, source), []);
  });

  it('highlights the dropped details in the raw turns and counts the kept ones', () => {
    const events = [
      { seq: 2, id: 'u1', kind: 'message.user', sessionId: 's', parentId: null, writerId: 'w', hlc: '', wallMs: 0, formatVersion: 1, body: { text: 'Fix parseDate in src/date.ts, it breaks at 1970.' } },
      { seq: 3, id: 'a1', kind: 'message.assistant', sessionId: 's', parentId: null, writerId: 'w', hlc: '', wallMs: 0, formatVersion: 1, body: { text: 'Fixed parseDate.' } },
    ] as const;
    const comparison = compareCompaction(events as never, 'parseDate was fixed.', 'Files written:\n- src/date.ts (toolu_1)');
    assert.deepEqual(comparison.dropped.map((detail) => detail.text), ['1970']);
    const [first] = comparison.raw;
    assert.equal(first?.highlights.length, 1);
    assert.equal(first?.text.slice(first.highlights[0]!.start, first.highlights[0]!.end), '1970');
    assert.equal(comparison.detailCount, 3);
    assert.equal(comparison.keptCount, 2);
  });
});

describe('memory panel requests', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let big: Ledger;
  let small: Ledger;
  const counter = new CachedTokenCounter();
  const service = new MemoryPanelService({ counter, inFlight: () => false });
  const bigEvents = 50_000;

  before(async () => {
    temp = makeTempDir();
    big = await Ledger.open({ storeDir: path.join(temp.dir, 'big'), snapshotEveryEvents: 0 });
    const drafts: EventDraft[] = [{ kind: 'session.started', sessionId: 'long', body: { name: 'Long session' } }];
    for (let i = 1; drafts.length < bigEvents; i++) {
      drafts.push({ kind: 'message.user', sessionId: 'long', body: { text: `Question ${i}: what does step${i} of the build do?` } });
      if (drafts.length < bigEvents) {
        drafts.push({ kind: 'message.assistant', sessionId: 'long', body: { text: `Step ${i} compiles module_${i} into dist/part${i}.js.` } });
      }
    }
    const appendStarted = performance.now();
    for (let from = 0; from < drafts.length; from += 5000) {
      await big.append(drafts.slice(from, from + 5000));
    }
    console.log(`appended ${drafts.length} events in ${(performance.now() - appendStarted).toFixed(0)} ms`);
    const session = generateCodingSession(3, 8);
    small = await Ledger.open({ storeDir: path.join(temp.dir, 'small') });
    await small.append(session.drafts);
  });
  after(() => {
    big.close();
    small.close();
    temp.remove();
  });

  it('pages a 50,000-event session by seq, reading only the rows asked for', () => {
    const started = performance.now();
    const overview = service.overview(big, { sessionId: 'long' });
    const first = service.page(big, { sessionId: 'long', fromSeq: overview.pageStarts[0]! });
    const firstPageMs = performance.now() - started;
    assert.equal(overview.eventCount, bigEvents);
    assert.equal(overview.turnCount, bigEvents / 2);
    assert.equal(overview.pageStarts.length, Math.ceil(bigEvents / timelinePageSize));
    assert.equal(first.rows.length, timelinePageSize);
    assert.deepEqual(first.rows.slice(0, 3).map((row) => [row.index, row.category, row.turn]), [
      [0, 'other', 0],
      [1, 'turn', 1],
      [2, 'answer', 1],
    ]);
    // A page deep in the session: its rows carry their positions and turns, and tokens.
    const page = 173;
    const deep = service.page(big, { sessionId: 'long', fromSeq: overview.pageStarts[page]! });
    assert.equal(deep.rows[0]!.index, page * timelinePageSize);
    assert.equal(deep.rows[0]!.seq, overview.pageStarts[page]);
    const user = deep.rows.find((row) => row.category === 'turn')!;
    assert.match(user.label, new RegExp(`^user: Question ${user.turn}: what does step${user.turn} of the build do\\?$`));
    assert.ok(deep.rows.every((row) => row.tokens > 0));
    // The last page is short; past the end is empty.
    const last = service.page(big, { sessionId: 'long', fromSeq: overview.pageStarts.at(-1)! });
    assert.equal(last.rows.at(-1)!.index, bigEvents - 1);
    assert.deepEqual(service.page(big, { sessionId: 'long', fromSeq: big.lastSeq + 1 }).rows, []);
    console.log(`time to first page of a ${bigEvents.toLocaleString('en-US')}-event session: ${firstPageMs.toFixed(1)} ms`);
  });

  it('grows the token series as the session grows, and finds text in any page', async () => {
    const growth = service.growth(big, { sessionId: 'long' });
    assert.equal(growth.eventCount, bigEvents);
    assert.ok(growth.points.length <= 300 && growth.points.length > 100);
    assert.equal(growth.points.at(-1)!.tokens, growth.totalTokens);
    assert.ok(growth.points.every((point, i) => i === 0 || point.tokens >= growth.points[i - 1]!.tokens), 'cumulative');
    await big.append([{ kind: 'message.user', sessionId: 'long', body: { text: 'One more question about needle_in_haystack?' } }]);
    const grown = service.growth(big, { sessionId: 'long' });
    assert.equal(grown.eventCount, bigEvents + 1);
    assert.ok(grown.totalTokens > growth.totalTokens);
    const found = service.search(big, { sessionId: 'long', query: 'NEEDLE_in' });
    assert.deepEqual(found.hits.map((hit) => [hit.index, hit.category]), [[bigEvents, 'turn']]);
    const many = service.search(big, { sessionId: 'long', query: 'compiles' });
    assert.equal(many.hits.length, 200);
    assert.equal(many.truncated, true);
  });

  it('refuses bad params with a clear error and the invalid code', () => {
    const invalid = (run: () => unknown, message: RegExp): void =>
      assert.throws(run, (error: unknown) => error instanceof ResponseError && error.code === CompactionErrorCode.invalid && message.test(error.message));
    invalid(() => service.page(big, { sessionId: 'long', fromSeq: -1 }), /"fromSeq" must be a whole number from 0/);
    invalid(() => service.page(big, { sessionId: 'long', fromSeq: 0, limit: 5000 }), /"limit" must be a whole number from 1 to 1000/);
    invalid(() => service.overview(big, { sessionId: 'nope' }), /there is no session nope/);
    invalid(() => service.search(big, { sessionId: 'long', query: '  ' }), /write something to search for/);
    invalid(() => service.overview(big, []), /expects an object/);
  });

  it('shows a compaction preview beside its raw turns, then the committed and undone compaction in the timeline', async () => {
    const compaction = new CompactionService({ counter, inFlight: () => false, apiKey: async () => null, createModel: () => assert.fail('no model') });
    const session = generateCodingSession(3, 8);
    const preview = await compaction.preview(small, { sessionId: session.sessionId, tier: 'aggressive' });
    const comparison = service.compare(small, { sessionId: session.sessionId, firstSeq: preview.body.range.firstSeq, lastSeq: preview.body.range.lastSeq, summary: preview.body.summary, trailText: preview.trailText });
    assert.equal(comparison.raw.length, preview.sourceEventCount);
    assert.ok(comparison.dropped.length > 0, 'the aggressive tier drops details');
    assert.ok(comparison.keptCount < comparison.detailCount);
    // Every highlight is a dropped detail's text.
    const droppedTexts = new Set(comparison.dropped.map((detail) => detail.text));
    for (const item of comparison.raw) {
      for (const mark of item.highlights) {
        const marked = item.text.slice(mark.start, mark.end);
        assert.ok(droppedTexts.has(mark.kind === 'number' ? marked.replace(/[,_]/g, '') : marked), marked);
      }
    }
    const committed = await compaction.commit(small, { sessionId: session.sessionId, body: preview.body });
    const rowOf = () => {
      const overview = service.overview(small, { sessionId: session.sessionId });
      return service.page(small, { sessionId: session.sessionId, fromSeq: 0, limit: 1000 }).rows.find((row) => row.eventId === committed.compactionId && overview.version > 0);
    };
    assert.deepEqual(rowOf()?.compaction && { undone: rowOf()!.compaction!.undone, first: rowOf()!.compaction!.firstTurn }, { undone: false, first: preview.body.range.firstTurn });
    assert.equal(service.growth(small, { sessionId: session.sessionId }).compactions.length, 1);
    await compaction.undo(small, { sessionId: session.sessionId, compactionId: committed.compactionId });
    assert.equal(rowOf()?.compaction?.undone, true);
    assert.equal(service.growth(small, { sessionId: session.sessionId }).compactions.length, 0);
    const rows = service.page(small, { sessionId: session.sessionId, fromSeq: 0, limit: 1000 }).rows;
    assert.equal(rows.at(-1)?.category, 'undo');
  });

  it('reports the store health and a pending tool call as a barrier', async () => {
    await small.append([
      { kind: 'message.user', sessionId: 'gen-3', body: { text: 'Read it' } },
      { kind: 'tool.use', sessionId: 'gen-3', body: { toolUseId: 'toolu_wait', name: 'read_file', input: { path: 'a.ts' } } },
    ]);
    const health = service.health(small, { sessionId: 'gen-3' });
    assert.equal(health.eventCount, small.stats().eventCount);
    assert.ok(health.journalBytes > 0 && health.databaseBytes > 0);
    assert.equal(health.bytesPerDay, null, 'less than a day of history');
    assert.equal(health.barriers.length, 1);
    assert.match(health.barriers[0]!, /toolu_wait.*no result yet/);
    assert.deepEqual(service.health(small, { sessionId: null }).barriers, []);
    const busy = new MemoryPanelService({ counter, inFlight: () => true });
    assert.match(busy.health(small, { sessionId: 'gen-3' }).barriers[0]!, /A reply is being written/);
  });
});
