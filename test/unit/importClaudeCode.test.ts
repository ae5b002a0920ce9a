import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Importer } from '../../src/core/import/importer';
import type { ImportOptions } from '../../src/core/import/importer';
import { maxImportedTextChars } from '../../src/core/import/importTypes';
import { Ledger } from '../../src/core/ledger';
import { transcriptLines } from '../../src/core/report/transcriptReport';
import { parseEventDraft, type StoredEvent } from '../../src/core/log/events';
import { oldSessionId, toJsonl, version1Records, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { makeTempDir } from '../fixtures/tempDir';

// Import of Claude Code transcripts written from the format (older shapes), damaged lines, and
// idempotency (twice, grown, rewritten, cancelled part-way). The real client's own files are
// imported in importRealClaudeCode.test.ts.

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
const mainId = `claude-${oldSessionId}`;

function texts(events: readonly StoredEvent[], kind: StoredEvent['kind']): string[] {
  return events.filter((event) => event.kind === kind).map((event) => (event.body as { text: string }).text);
}

describe('importing Claude Code transcripts of older shapes', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let projects: string;
  let store: string;
  beforeEach(() => {
    temp = makeTempDir();
    projects = path.join(temp.dir, 'projects');
    store = path.join(temp.dir, 'store');
  });
  afterEach(() => temp.remove());

  const withLedger = async <T>(run: (ledger: Ledger) => Promise<T>): Promise<T> => {
    const ledger = await Ledger.open({ storeDir: store, wasmPath, snapshotEveryEvents: 0 });
    try {
      return await run(ledger);
    } finally {
      ledger.close();
    }
  };
  const importInto = (paths: string[], options: ImportOptions = {}) => withLedger((ledger) => new Importer(ledger).importPaths(paths, options));

  it('maps every record type: split and repeated blocks once, thinking, sidechains and agent files as sessions of their own, meta and system lines not as user input, the compaction kept', async () => {
    const { agentId } = writeOldProject(projects);
    const summary = await importInto([projects]);
    assert.deepEqual(summary.problems, []);
    assert.deepEqual(summary.notImported, { 'file-history-snapshot': 1, progress: 1 });
    await withLedger(async (ledger) => {
      const sessions = Object.fromEntries(ledger.listSessions().map((session) => [session.id, session.name]));
      assert.deepEqual(Object.keys(sessions).sort(), [mainId, `${mainId}-agent-${agentId}`, `${mainId}-agent-sidechain`].sort());
      assert.equal(sessions[mainId], 'Fix the date parser', 'the title line names the session');
      const events = ledger.readSession(mainId);
      assert.deepEqual(texts(events, 'message.user'), ['Fix the date parser in parse.ts', 'Now add a test\n[image]']);
      assert.deepEqual(texts(events, 'message.assistant'), ['Let me read parse.ts.', 'I will keep the offset.', 'Added parse.test.ts.']);
      const thinking = events.filter((event) => event.kind === 'import.thinking');
      assert.deepEqual(thinking.map(({ body: { text, redacted } }) => ({ text, ...(redacted ? { redacted } : {}) })), [{ text: 'The parser drops the time zone.' }, { text: '', redacted: true }]);
      assert.deepEqual(events.filter((event) => event.kind === 'tool.use').map((event) => event.body.toolUseId), ['toolu_01', 'toolu_02']);
      assert.deepEqual(events.filter((event) => event.kind === 'tool.result').map((event) => event.body.content), ['export function parse(s: string) { return new Date(s); }', 'The file was updated.']);
      const records = events.filter((event) => event.kind === 'import.record').map((event) => [event.body.recordType, event.body.subtype]);
      assert.deepEqual(records, [['system', 'informational'], ['user', 'meta'], ['user', 'command']]);
      const boundary = events.find((event) => event.kind === 'import.compactBoundary');
      assert.deepEqual(boundary?.body, { trigger: 'auto', preTokens: 155000, sourceTimeMs: Date.parse('2025-07-01T10:00:00.000Z') });
      // Each event keeps the time of the record it came from (the envelope's wallMs is the import's).
      const timeOf = (id: string) => (events.find((event) => event.id === id)?.body as { sourceTimeMs?: number } | undefined)?.sourceTimeMs;
      assert.equal(timeOf(`${mainId}:start`), undefined, 'the session starts at its title line, which has no time');
      assert.equal(timeOf(`${mainId}:u-1:text`), Date.parse('2025-07-01T10:00:00.000Z'));
      assert.equal(timeOf(`${mainId}:u-6:text`), Date.parse('2025-07-01T10:05:00.000Z'));
      assert.equal(timeOf(`${mainId}:a-4:b0`), undefined, 'a timestamp that is not one gives no time');
      assert.throws(() => parseEventDraft({ kind: 'message.user', sessionId: 's', body: { text: 'x', sourceTimeMs: 'noon' } }), /"sourceTimeMs" must be a whole number/);
      assert.ok(events.find((event) => event.id === `${mainId}:u-6:text`)!.wallMs > Date.parse('2026-01-01'));
      const shown = transcriptLines(ledger.getSession(mainId)!, events);
      assert.ok(shown.some((line) => /^\[\d+\] 2025-07-01 10:05:00 \(source\)  user: Now add a test/.test(line)), shown.join('\n'));
      assert.ok(shown.some((line) => /^\[\d+\] 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d  assistant: I will keep the offset/.test(line)), 'without a source time: the time it was written');
      assert.match(texts(events, 'import.compactSummary')[0]!, /keeps the offset/);
      // Order is the file's order.
      const kinds = events.map((event) => event.kind);
      assert.ok(kinds.indexOf('import.compactBoundary') < kinds.indexOf('import.compactSummary'));
      assert.deepEqual(texts(ledger.readSession(`${mainId}-agent-sidechain`), 'message.user'), ['Search for other date parsing']);
      const agent = ledger.readSession(`${mainId}-agent-${agentId}`);
      assert.deepEqual(texts(agent, 'message.assistant'), ['One test file: parse.test.ts']);
      assert.equal(agent.filter((event) => event.kind === 'tool.result').length, 1);
      assert.deepEqual((await ledger.verify()).problems, []);
    });
  });

  it('reports malformed lines with file and line and keeps every other line (truncated JSON, wrong types, a 20 MB line, an unfinished last line)', async () => {
    fs.mkdirSync(projects);
    const file = path.join(projects, `${oldSessionId}.jsonl`);
    const good = version1Records();
    const huge = 'x'.repeat(20 * 1024 * 1024);
    const lines = [
      JSON.stringify(good[1]), // 1: the first question
      JSON.stringify(good[2]).slice(0, 40), // 2: truncated JSON
      JSON.stringify({ ...(good[1] as object), uuid: 'w-1', message: 'not an object' }), // 3: wrong type
      JSON.stringify({ ...(good[4] as object), uuid: 'w-2', message: { id: 'm', role: 'assistant', content: [{ type: 'tool_use', name: 'Read' }] } }), // 4: a tool_use without an id
      JSON.stringify({ type: 42 }), // 5: a type that is not a string
      '[1, 2, 3]', // 6: not an object
      JSON.stringify({ ...(good[5] as object), uuid: 'big-1', message: { role: 'user', content: [{ tool_use_id: 'toolu_01', type: 'tool_result', content: huge }] } }), // 7: 20 MB result
      `{"type":"user","junk":"${huge}`, // 8: a 20 MB line that is not JSON
      JSON.stringify({ ...(good[1] as object), uuid: 'u-last', message: { role: 'user', content: 'The last whole question' } }), // 9
      '{"type":"user","message":{"role":"us', // 10: unfinished, no line end
    ];
    fs.writeFileSync(file, lines.join('\n'));
    const summary = await importInto([projects]);
    const where = summary.problems.map((problem) => `${path.basename(problem.file)}:${problem.line}${problem.partial ? ' (partial)' : ''}`);
    assert.deepEqual(where, ['2', '3', '4', '5', '6', '7 (partial)', '8', '10'].map((line) => `${oldSessionId}.jsonl:${line}`));
    assert.match(summary.problems[0]!.problem, /not valid JSON/);
    assert.match(summary.problems[1]!.problem, /"message" must be an object/);
    assert.match(summary.problems[2]!.problem, /tool_use block 0 needs an "id"/);
    assert.match(summary.problems[5]!.problem, /cut to fit/);
    assert.match(summary.problems[7]!.problem, /no line end/);
    await withLedger(async (ledger) => {
      const events = ledger.readSession(mainId);
      assert.deepEqual(texts(events, 'message.user'), ['Fix the date parser in parse.ts', 'The last whole question']);
      const result = events.find((event) => event.kind === 'tool.result');
      assert.ok(result && result.kind === 'tool.result');
      assert.ok(result.body.content.startsWith('x'.repeat(1000)) && result.body.content.length < maxImportedTextChars + 200);
      assert.match(result.body.content, /more characters not imported/);
    });
    // The unfinished line is read once it is whole.
    fs.appendFileSync(file, 'er","content":"Finished now"},"uuid":"u-fin","sessionId":"' + oldSessionId + '"}\n');
    const later = await importInto([projects]);
    assert.deepEqual(later.problems, []);
    assert.equal(later.eventsAdded, 1);
    await withLedger(async (ledger) => assert.deepEqual(texts(ledger.readSession(mainId), 'message.user').at(-1), 'Finished now'));
  });

  it('is idempotent: twice adds nothing, a grown file adds only its new lines, a rewritten file only what the store lacks', async () => {
    const { sessionFile } = writeOldProject(projects);
    const first = await importInto([projects]);
    assert.ok(first.eventsAdded > 20);
    const stats = await withLedger(async (ledger) => ledger.stats());
    const again = await importInto([projects]);
    assert.equal(again.eventsAdded, 0);
    assert.equal(again.duplicates, 0, 'nothing was even offered again');
    assert.ok(again.files.every((file) => file.unchanged));
    assert.equal((await withLedger(async (ledger) => ledger.stats())).journal.bytes, stats.journal.bytes, 'not a byte written');

    fs.appendFileSync(sessionFile, toJsonl([{ ...version1Records()[1]!, uuid: 'u-new', message: { role: 'user', content: 'A new question' } }]));
    const grown = await importInto([projects]);
    assert.equal(grown.eventsAdded, 1);
    assert.equal(grown.files.find((file) => file.file === sessionFile)?.linesRead, 1);

    // Rewritten (the head changed): read from the start, and only what is new is stored.
    const records = version1Records();
    fs.writeFileSync(sessionFile, toJsonl([{ ...records[1]!, message: { role: 'user', content: 'Fix the date parser in parse.ts ' } }, ...records.slice(2), { ...records[1]!, uuid: 'u-new', message: { role: 'user', content: 'A new question' } }]));
    const rewritten = await importInto([sessionFile]);
    assert.equal(rewritten.eventsAdded, 0, 'every id is known: the changed first line has the same uuid');
    assert.ok(rewritten.duplicates > 15, String(rewritten.duplicates));
    await withLedger(async (ledger) => {
      assert.deepEqual(texts(ledger.readSession(mainId), 'message.user'), ['Fix the date parser in parse.ts', 'Now add a test\n[image]', 'A new question']);
      assert.deepEqual((await ledger.verify()).problems, []);
    });
  });

  it('a cancelled import leaves a consistent store and the next one completes it without storing anything twice', async () => {
    const { sessionFile } = writeOldProject(projects);
    const many = version1Records();
    const extra = Array.from({ length: 300 }, (_, index) => ({ ...many[1]!, uuid: `bulk-${index}`, message: { role: 'user', content: `question ${index}` } }));
    fs.appendFileSync(sessionFile, toJsonl(extra));
    const controller = new AbortController();
    const cancelled = await importInto([projects], { batchEvents: 50, signal: controller.signal, onProgress: () => controller.abort() });
    assert.equal(cancelled.cancelled, true);
    assert.ok(cancelled.eventsAdded > 0 && cancelled.eventsAdded < 300);
    await withLedger(async (ledger) => assert.deepEqual((await ledger.verify()).problems, []));
    const rest = await importInto([projects]);
    assert.equal(rest.cancelled, false);
    assert.equal(rest.duplicates, 0);
    const clean = path.join(temp.dir, 'clean-store');
    const cleanLedger = await Ledger.open({ storeDir: clean, wasmPath, snapshotEveryEvents: 0 });
    const once = await new Importer(cleanLedger).importPaths([projects]);
    cleanLedger.close();
    assert.equal(cancelled.eventsAdded + rest.eventsAdded, once.eventsAdded);
    await withLedger(async (ledger) => assert.equal(texts(ledger.readSession(mainId), 'message.user').filter((text) => text.startsWith('question ')).length, 300));
  });
});
