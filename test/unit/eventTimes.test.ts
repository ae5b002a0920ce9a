import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { importMarkdown } from '../../src/core/import/markdownImport';
import { Importer } from '../../src/core/import/importer';
import { Ledger } from '../../src/core/ledger';
import { sessionActivityOf } from '../../src/core/memory/sessionActivity';
import { SessionTimeline } from '../../src/core/memory/sessionTimeline';
import { markdownTranscript } from '../../src/core/report/transcriptReport';
import { runCli } from '../../src/cli/main';
import { readableTime, shortTime, tickStep, timeTicks } from '../../src/shared/timeAxis';
import { oldSessionId, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { makeTempDir } from '../fixtures/tempDir';

// An imported session lives at its transcript's times, not its import's: the Sessions list
// (order and last activity), the memory panel's rows and token chart, and the Markdown export.
// Real Claude Code transcript lines imported into a real store (journal, sql.js).

const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');
const importedId = `claude-${oldSessionId}`;
// The fixture's records: the first at 10:00, the newest question at 10:05 (2025-07-01, UTC).
const firstSourceMs = Date.parse('2025-07-01T10:00:00.000Z');
const lastSourceMs = Date.parse('2025-07-01T10:05:00.000Z');

describe('imported sessions at their own times', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let ledger: Ledger;
  let beforeImportMs: number;

  before(async () => {
    temp = makeTempDir();
    ledger = await Ledger.open({ storeDir: path.join(temp.dir, 'store'), wasmPath, snapshotEveryEvents: 0 });
    // A chat session written here first, then the import: the log has the import as newest.
    await ledger.append([
      { kind: 'session.started', sessionId: 'native', body: { name: 'Written here' } },
      { kind: 'message.user', sessionId: 'native', body: { text: 'How do I parse a date?' } },
      { kind: 'message.assistant', sessionId: 'native', body: { text: 'Use Date.parse.' } },
    ]);
    beforeImportMs = Date.now();
    const projects = path.join(temp.dir, 'projects');
    writeOldProject(projects);
    const summary = await new Importer(ledger).importPaths([projects]);
    assert.deepEqual(summary.problems, []);
  });
  after(() => {
    ledger.close();
    temp.remove();
  });

  it('orders the Sessions list by the events’ own times and gives the transcript’s start and last activity', () => {
    const raw = ledger.listSessions().filter((session) => session.id === importedId || session.id === 'native');
    assert.equal(raw[0]?.id, importedId, 'the store itself lists the import as newest (its writer clock)');
    assert.ok(raw[0].lastActivityMs >= beforeImportMs);
    const listed = sessionActivityOf(ledger).list(ledger.listSessions());
    const ids = listed.map((session) => session.id);
    assert.ok(ids.indexOf('native') < ids.indexOf(importedId), `the session written today comes before the one from 2025: ${ids.join(', ')}`);
    const imported = listed.find((session) => session.id === importedId)!;
    assert.equal(imported.lastActivityMs, lastSourceMs);
    assert.equal(imported.startedMs, firstSourceMs, 'its start is its first record’s time, not the import’s session start');
    assert.equal(imported.activityFromSource, true);
    const native = listed.find((session) => session.id === 'native')!;
    assert.equal(native.activityFromSource, false);
    assert.equal(native.lastActivityMs, raw.find((session) => session.id === 'native')!.lastActivityMs);
  });

  it('follows a session continued in the chat after its import', async () => {
    await ledger.append([{ kind: 'message.user', sessionId: importedId, body: { text: 'One more thing, asked here.' } }]);
    const continued = sessionActivityOf(ledger).of(ledger.getSession(importedId)!);
    assert.equal(continued.activityFromSource, false);
    assert.ok(continued.lastActivityMs >= beforeImportMs, 'the newest turn was asked now');
    assert.equal(continued.startedMs, firstSourceMs);
  });

  it('prints the source time in `context-ledger sessions`', async () => {
    const store = path.join(temp.dir, 'cli-store');
    const cliLedger = await Ledger.open({ storeDir: store, wasmPath, snapshotEveryEvents: 0 });
    try {
      await new Importer(cliLedger).importPaths([path.join(temp.dir, 'projects')]);
    } finally {
      cliLedger.close();
    }
    const lines: string[] = [];
    const code = await runCli(['--store', store, 'sessions'], (line) => lines.push(line), () => Promise.resolve(Buffer.alloc(0)));
    assert.equal(code, 0);
    const line = lines.find((text) => text.startsWith(`${importedId} `));
    assert.ok(line?.includes(`last ${new Date(lastSourceMs).toISOString()} (source)`), lines.join('\n'));
  });

  it('gives the memory panel’s rows and token chart the transcript’s times', () => {
    const timeline = new SessionTimeline(ledger, new CachedTokenCounter());
    const rows = timeline.page(importedId, 0, 200).rows;
    const question = rows.find((row) => row.kind === 'message.user' && row.label.includes('Now add a test'));
    assert.equal(question?.timeMs, lastSourceMs);
    assert.equal(question?.timeFromSource, true);
    assert.ok(question.wallMs >= beforeImportMs, 'the envelope keeps the import’s time');
    const cursor = rows.find((row) => row.kind === 'import.cursor');
    assert.equal(cursor?.timeFromSource, false);
    const growth = timeline.growth(importedId);
    // Up to the question asked here, every point sits in the transcript's time, also the record
    // whose timestamp was bad (a-4) and the import's cursor.
    const askedIndex = rows.length - 1;
    assert.equal(rows[askedIndex]?.kind, 'message.user');
    assert.ok(growth.points.filter((point) => point.index < askedIndex).every((point) => point.timeMs < beforeImportMs), JSON.stringify(growth.points.map((point) => point.timeMs)));
    const sourced = growth.points.filter((point) => point.timeMs < beforeImportMs);
    assert.ok(sourced.length > 0);
    assert.ok(sourced.every((point) => point.timeMs >= firstSourceMs && point.timeMs <= lastSourceMs));
    assert.equal(growth.timeSpan?.startMs, firstSourceMs);
    // The newest event is the question asked here after the import (the test above).
    assert.ok(growth.timeSpan.endMs >= beforeImportMs);
    // A session only imported: its start and cursors (written at import) sit with their neighbours.
    const agent = timeline.growth(`${importedId}-agent-3f2a9c1b`);
    assert.ok(agent.points.length > 2);
    assert.ok(agent.timeSpan!.endMs < beforeImportMs, 'the axis ends at the transcript’s last record, not at the import');
    assert.ok(agent.points.every((point) => point.timeMs < beforeImportMs), JSON.stringify(agent.points.map((point) => point.timeMs)));
  });

  it('writes each section’s time in the Markdown export, the source time for imported ones, and reads it back', () => {
    const session = ledger.getSession(importedId)!;
    const events = ledger.readSession(importedId);
    const markdown = markdownTranscript(session, events);
    const importedAt = new Date(events.find((event) => event.id === `${importedId}:u-6:text`)!.wallMs).toISOString();
    assert.match(markdown, new RegExp(`## User\\n\\n\\*2025-07-01T10:05:00\\.000Z in the source transcript \\(imported ${importedAt.replace(/\./g, '\\.')}\\)\\*\\n\\nNow add a test`));
    // The question asked here has its own (write) time, with nothing about a source.
    const asked = events.find((event) => event.kind === 'message.user' && event.body.text === 'One more thing, asked here.')!;
    assert.ok(markdown.includes(`## User\n\n*${new Date(asked.wallMs).toISOString()}*\n\nOne more thing, asked here.`));
    // A tool result: the time note is not part of the content.
    assert.match(markdown, /### Tool result\n\n\*2025-07-01T10:00:00\.000Z in the source transcript/);

    const file = path.join(temp.dir, 'export.md');
    fs.writeFileSync(file, markdown);
    const back = importMarkdown(file, markdown);
    assert.deepEqual(back.problems, []);
    const question = back.drafts.find((draft) => draft.kind === 'message.user' && (draft.body as { text: string }).text.startsWith('Now add a test'));
    assert.equal((question?.body as { sourceTimeMs?: number }).sourceTimeMs, lastSourceMs);
    const result = back.drafts.find((draft) => draft.kind === 'tool.result');
    assert.equal((result?.body as { content: string }).content, 'export function parse(s: string) { return new Date(s); }', 'the note is left out of the content');
    assert.equal((result?.body as { sourceTimeMs?: number }).sourceTimeMs, firstSourceMs);
  });
});

describe('the token chart’s time axis', () => {
  it('picks a round step that fits the span', () => {
    assert.equal(tickStep(50 * 60_000, 6), 15 * 60_000);
    assert.equal(tickStep(5_000, 6), 1_000);
    assert.equal(tickStep(3 * 86_400_000, 6), 12 * 3_600_000);
    assert.equal(tickStep(40 * 86_400_000, 6), 7 * 86_400_000);
  });

  it('puts ticks at round local times inside the span, labelled as precisely as the step needs', () => {
    const start = new Date(2025, 6, 1, 10, 2, 30).getTime();
    const ticks = timeTicks(start, start + 50 * 60_000);
    assert.deepEqual(ticks.map((tick) => tick.label), ['10:15', '10:30', '10:45']);
    assert.ok(ticks.every((tick) => tick.ms >= start && tick.ms <= start + 50 * 60_000));
    const seconds = timeTicks(start, start + 20_000);
    assert.equal(seconds[0]?.label, '10:02:30');
    const days = timeTicks(new Date(2025, 6, 1, 9).getTime(), new Date(2025, 6, 4, 9).getTime());
    assert.equal(days[0]?.label, 'Jul 1 12:00', 'a span over midnight names the day on every tick');
    assert.ok(days.some((tick) => tick.label === 'Jul 2 00:00'));
    const weeks = timeTicks(new Date(2025, 6, 1, 9).getTime(), new Date(2025, 7, 10).getTime());
    assert.deepEqual(weeks.slice(0, 2).map((tick) => tick.label), ['Jul 2', 'Jul 9']);
    assert.deepEqual(timeTicks(start, start), [], 'an empty span has no ticks');
    assert.deepEqual(timeTicks(Number.NaN, start), []);
  });

  it('writes readable times for tooltips and rows', () => {
    const ms = new Date(2025, 6, 1, 9, 5, 7).getTime();
    assert.equal(readableTime(ms), '2025-07-01 09:05:07');
    assert.equal(shortTime(ms, new Date(2025, 6, 1, 18).getTime()), '09:05');
    assert.equal(shortTime(ms, new Date(2025, 6, 3, 18).getTime()), 'Jul 1 09:05');
  });
});
