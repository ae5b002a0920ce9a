import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { cliMain } from '../../src/cli/main';
import { cliScript, type CliResult } from '../fixtures/cliRunner';
import { oldSessionId, toJsonl, version1Records, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { makeTempDir } from '../fixtures/tempDir';

// `context-ledger import` and `export` as a user runs them: summary and skipped lines, the
// JSONL and Markdown round trips, Ctrl-C in the middle, --follow.

const mainId = `claude-${oldSessionId}`;

/** The CLI in this process (as `context-ledger --store STORE ...args`): spawning each costs seconds on a loaded machine. */
async function run(store: string, args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await cliMain(['--store', store, ...args], { out: (line) => out.push(line), err: (line) => err.push(line), readStdin: () => Promise.resolve(Buffer.alloc(0)) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

async function sessionsOf(store: string): Promise<Array<{ id: string; name: string; eventCount: number; turnCount: number }>> {
  const listed = await run(store, ['sessions', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  return JSON.parse(listed.stdout) as Array<{ id: string; name: string; eventCount: number; turnCount: number }>;
}

async function conversation(store: string, sessionId: string): Promise<Array<[string, unknown]>> {
  const shown = await run(store, ['show', sessionId, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  const { events } = JSON.parse(shown.stdout) as { events: Array<{ kind: string; body: { text?: string; content?: string; name?: string } }> };
  return events.filter((event) => ['message.user', 'message.assistant', 'tool.use', 'tool.result'].includes(event.kind)).map((event) => [event.kind, event.body.text ?? event.body.content ?? event.body.name]);
}

/** A folder of `files` sessions of `lines` questions each. */
function writeBulk(dir: string, files: number, lines: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const template = version1Records()[1]!;
  for (let file = 0; file < files; file++) {
    const sessionId = `bulk-${String(file).padStart(4, '0')}`;
    const records = Array.from({ length: lines }, (_, index) => ({ ...template, sessionId, uuid: `${sessionId}-${index}`, message: { role: 'user', content: `question ${index} ${'pad '.repeat(50)}` } }));
    fs.writeFileSync(path.join(dir, `${sessionId}.jsonl`), toJsonl(records));
  }
}

describe('context-ledger import and export', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
  });
  afterEach(() => temp.remove());

  it('imports a projects folder and prints sessions, events and each skipped line as file:line; a missing path is a clear error', async () => {
    const { sessionFile } = writeOldProject(path.join(temp.dir, 'projects'));
    fs.appendFileSync(sessionFile, '{"type":"user","message":\n');
    const result = await run(store, ['import', path.join(temp.dir, 'projects')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 files \(0 unchanged since the last import\), 3 sessions with new events, \d+ events added, 0 already stored, 1 lines skipped/);
    assert.ok(result.stdout.includes(`skipped ${sessionFile}:${version1Records().length + 1}: not valid JSON`), result.stdout);
    assert.match(result.stderr, /import: file 2\/2 .*100%/);
    assert.deepEqual((await sessionsOf(store)).map((session) => session.id).sort(), [mainId, `${mainId}-agent-3f2a9c1b`, `${mainId}-agent-sidechain`]);
    const again = await run(store, ['import', path.join(temp.dir, 'projects')]);
    assert.match(again.stdout, /2 files \(2 unchanged since the last import\), 0 sessions with new events, 0 events added/);
    const missing = await run(store, ['import', path.join(temp.dir, 'nowhere')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot import .*nowhere: no such file or folder/);
    assert.equal((await run(store, ['import'])).code, 2);
  });

  it('exports a session as JSON lines and Markdown, and imports both back with the same conversation', async () => {
    writeOldProject(path.join(temp.dir, 'projects'));
    assert.equal((await run(store, ['import', path.join(temp.dir, 'projects')])).code, 0);
    const jsonl = path.join(temp.dir, 'session.jsonl');
    const markdown = path.join(temp.dir, 'session.md');
    assert.equal((await run(store, ['export', mainId, '--format', 'jsonl', '--out', jsonl])).code, 0);
    assert.equal((await run(store, ['export', mainId, '--format', 'md', '--out', markdown])).code, 0);
    const expected = (await conversation(store, mainId));

    const other = path.join(temp.dir, 'other');
    const imported = await run(other, ['import', jsonl]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual((await conversation(other, mainId)), expected, 'same session id, same events');
    assert.match((await run(other, ['import', jsonl])).stdout, /0 events added/);
    // Into the store it came from: every event is already there.
    assert.match((await run(store, ['import', jsonl])).stdout, /0 events added/);

    const fromMarkdown = await run(other, ['import', markdown]);
    assert.equal(fromMarkdown.code, 0, fromMarkdown.stderr);
    const mdSession = (await sessionsOf(other)).find((session) => session.id.startsWith('md-'))!;
    assert.equal(mdSession.name, 'Fix the date parser');
    assert.deepEqual((await conversation(other, mdSession.id)), expected);
    assert.match((await run(other, ['import', markdown])).stdout, /1 unchanged since the last import/);
  });

  it('Ctrl-C stops after the batch being written: exit 130, a consistent store, and the next run imports the rest exactly once', async () => {
    const bulk = path.join(temp.dir, 'bulk');
    writeBulk(bulk, 6, 1500);
    const child = spawn(process.execPath, [cliScript, '--store', store, 'import', bulk], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/events added/.test(stderr) && !child.killed) {
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stderr);
    assert.match(stdout, /import cancelled/);
    assert.match(stderr, /stopping the import after the batch being written/);
    const verify = await run(store, ['verify']);
    assert.equal(verify.code, 0, verify.stdout);
    const partial = (await sessionsOf(store)).reduce((sum, session) => sum + session.eventCount, 0);
    assert.ok(partial > 0);
    const rest = await run(store, ['import', bulk]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, / 0 already stored/);
    const sessions = (await sessionsOf(store));
    assert.equal(sessions.length, 6);
    assert.deepEqual(sessions.map((session) => session.turnCount), [1500, 1500, 1500, 1500, 1500, 1500], 'every question once');
  });

  it('--follow imports what a session file gains while it is written, until Ctrl-C', async () => {
    const folder = path.join(temp.dir, 'projects', '-home-dev');
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `${oldSessionId}.jsonl`);
    const records = version1Records();
    fs.writeFileSync(file, toJsonl(records.slice(0, 2)));
    const child = spawn(process.execPath, [cliScript, '--store', store, 'import', '--follow', path.join(temp.dir, 'projects')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      for (let attempt = 0; attempt < 100 && !pattern.test(stdout); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(stdout, pattern);
    };
    try {
      await waitFor(/events added/);
      // Half a line, as a writer leaves it mid-write: not imported, not reported, read once whole.
      const next = JSON.stringify({ ...records[1]!, uuid: 'u-live', message: { role: 'user', content: 'Written while followed' } });
      fs.appendFileSync(file, next.slice(0, 30));
      await new Promise((resolve) => setTimeout(resolve, 700));
      fs.appendFileSync(file, `${next.slice(30)}\n`);
      await waitFor(/1 sessions with new events, 1 events added/);
      assert.doesNotMatch(stdout, /[1-9]\d* lines skipped|skipped \//);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
    assert.deepEqual((await conversation(store, mainId)).filter(([kind]) => kind === 'message.user').map(([, text]) => text), ['Fix the date parser in parse.ts', 'Written while followed']);
  });
});
