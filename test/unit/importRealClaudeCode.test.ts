import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Importer } from '../../src/core/import/importer';
import { Ledger } from '../../src/core/ledger';
import { toTranscript } from '../../src/extension/chat/transcript';
import type { StoredEvent } from '../../src/core/log/events';
import { ensureClaudeCode } from '../fixtures/claudeCodeBinary';
import { scripts } from '../fixtures/messagesApiScripts';
import { startMessagesApiServer, type MessagesApiServer } from '../fixtures/messagesApiServer';
import { makeTempDir } from '../fixtures/tempDir';

// Import on real transcripts: the real Claude Code client (npm @anthropic-ai/claude-code, run
// offline) talks to the local Messages API server, which scripts its answers (Write, Read, Edit,
// a failing Bash, a subagent, /compact, --resume); then we import what it wrote under
// $HOME/.claude/projects. Heavy only the first time (the package is installed into a cache).

const binary = ensureClaudeCode();
const skip = 'unavailable' in binary ? `the Claude Code binary could not be obtained: ${binary.unavailable}` : false;
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');


describe('importing what the real Claude Code writes', { skip }, () => {
  let server: MessagesApiServer;
  let temp: ReturnType<typeof makeTempDir>;
  let home: string;
  let work: string;
  let store: string;

  const claude = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        (binary as { path: string }).path,
        args,
        {
          cwd: work,
          timeout: 60_000,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            ANTHROPIC_BASE_URL: server.baseUrl,
            ANTHROPIC_API_KEY: 'sk-ant-test-dummy',
            DISABLE_TELEMETRY: '1',
            DISABLE_AUTOUPDATER: '1',
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          },
        },
        (error, stdout, stderr) => (error ? reject(new Error(`claude ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });

  const importAll = async (): Promise<{ ledger: Ledger; summary: Awaited<ReturnType<Importer['importPaths']>> }> => {
    const ledger = await Ledger.open({ storeDir: store, wasmPath, snapshotEveryEvents: 0 });
    const summary = await new Importer(ledger).importPaths([path.join(home, '.claude', 'projects')]);
    return { ledger, summary };
  };

  before(async () => {
    server = await startMessagesApiServer({ allowConsecutiveRoles: true });
    temp = makeTempDir('context-ledger-claude-');
    home = path.join(temp.dir, 'home');
    work = path.join(temp.dir, 'work');
    store = path.join(temp.dir, 'store');
    fs.mkdirSync(home);
    fs.mkdirSync(work);
  });
  after(async () => {
    await server.close();
    temp.remove();
  });

  it('imports tool calls, a file edit, a failed command, a subagent, /compact and a resumed turn; again: nothing; grown: only the new lines', async () => {
    const startedMs = Date.now();
    const notes = path.join(work, 'notes.txt');
    server.script(
      scripts.toolUse('Write', { file_path: notes, content: 'alpha\n' }, { text: 'I will write the notes.' }),
      scripts.toolUse('Read', { file_path: notes }),
      scripts.toolUse('Edit', { file_path: notes, old_string: 'alpha', new_string: 'beta' }),
      scripts.toolUse('Bash', { command: 'cat notes.txt && exit 3', description: 'Show the notes' }),
      scripts.toolUse('Agent', { description: 'Count files', prompt: 'Count the files here', subagent_type: 'general-purpose' }),
      // The subagent runs in the background: these two answers go to it and to the main loop, in either order.
      scripts.text('ANSWER-ONE: there is one file.'),
      scripts.text('ANSWER-TWO: notes.txt says beta.'),
    );
    await claude(['-p', 'Edit the notes', '--allowedTools', 'Read', 'Write', 'Edit', 'Bash', 'Agent']);
    assert.equal(fs.readFileSync(notes, 'utf8'), 'beta\n', 'the real client ran the scripted Write and Edit');
    const projects = path.join(home, '.claude', 'projects');
    const [folder] = fs.readdirSync(projects);
    const mainFile = fs.readdirSync(path.join(projects, folder!)).find((name) => name.endsWith('.jsonl'))!;
    const sourceId = mainFile.replace(/\.jsonl$/, '');
    server.script(scripts.text('<summary>The notes went from alpha to beta; a subagent counted the files.</summary>'));
    await claude(['-p', '/compact', '--resume', sourceId]);

    const first = await importAll();
    let ledger = first.ledger;
    try {
      assert.deepEqual(first.summary.problems, []);
      const mainId = `claude-${sourceId}`;
      const sessions = ledger.listSessions().map((session) => session.id).sort();
      assert.equal(sessions.length, 2, `the session and its subagent: ${sessions.join(', ')}`);
      assert.ok(sessions.includes(mainId));
      const agentSession = sessions.find((id) => id.startsWith(`${mainId}-agent-`))!;
      const events = ledger.readSession(mainId);
      const of = <K extends StoredEvent['kind']>(kind: K) => events.filter((event): event is Extract<StoredEvent, { kind: K }> => event.kind === kind);
      assert.deepEqual(of('message.user').map((event) => event.body.text), ['Edit the notes']);
      assert.deepEqual(of('tool.use').map((event) => event.body.name), ['Write', 'Read', 'Edit', 'Bash', 'Agent']);
      const results = of('tool.result');
      assert.equal(results.length, 5);
      const bash = results.find((event) => event.body.toolUseId === of('tool.use')[3]!.body.toolUseId)!;
      assert.equal(bash.body.isError, true);
      assert.match(bash.body.content, /Exit code 3/);
      assert.match(results[1]!.body.content, /alpha/, 'the Read result holds the file as it was then');
      const boundary = of('import.compactBoundary');
      assert.equal(boundary.length, 1);
      assert.equal(boundary[0]!.body.trigger, 'manual');
      assert.match(of('import.compactSummary')[0]!.body.text, /alpha to beta/);
      // The /compact command and its output are Claude Code's, not the user's words.
      assert.ok(of('import.record').some((event) => event.body.subtype === 'command' && event.body.text.includes('/compact')));
      const answers = of('message.assistant').map((event) => event.body.text);
      assert.ok(answers.includes('I will write the notes.'));
      // Each answer links to the API request Claude Code recorded for it: the turn's receipt.
      const requests = new Set(of('import.request').map((event) => event.id));
      assert.ok(requests.size >= 5);
      const linked = of('message.assistant').filter((event) => event.parentId !== null);
      assert.ok(linked.length >= 2 && linked.every((event) => requests.has(event.parentId!)), 'answers point at recorded requests');
      // The chat shows them as the turns' receipts.
      assert.equal(toTranscript(events).filter((entry) => entry.kind === 'importedRequest').length, requests.size);
      // Every conversation event keeps the time its record had (the store's wallMs is the import's).
      const conversation = events.filter((event) => ['message.user', 'message.assistant', 'tool.use', 'tool.result'].includes(event.kind));
      const times = conversation.map((event) => (event.body as { sourceTimeMs?: number }).sourceTimeMs);
      assert.ok(times.every((ms) => ms !== undefined && ms >= startedMs - 1000 && ms <= Date.now()), `source times within the run: ${JSON.stringify(times)}`);
      assert.deepEqual([...times].sort((a, b) => a! - b!), times, 'in the order Claude Code wrote them');
      const agentEvents = ledger.readSession(agentSession);
      assert.deepEqual(agentEvents.filter((event) => event.kind === 'message.user').map((event) => (event.body as { text: string }).text), ['Count the files here']);
      const agentAnswers = agentEvents.filter((event) => event.kind === 'message.assistant').map((event) => (event.body as { text: string }).text);
      assert.equal(agentAnswers.length, 1);
      assert.deepEqual([...answers, ...agentAnswers].filter((text) => /^ANSWER-(ONE|TWO)/.test(text)).sort(), ['ANSWER-ONE: there is one file.', 'ANSWER-TWO: notes.txt says beta.']);
      assert.deepEqual((await ledger.verify()).problems, []);
    } finally {
      ledger.close();
    }

    const again = await importAll();
    ledger = again.ledger;
    const eventCount = ledger.stats().eventCount;
    try {
      assert.equal(again.summary.eventsAdded, 0);
      assert.ok(again.summary.files.every((file) => file.unchanged));
    } finally {
      ledger.close();
    }

    server.script(scripts.text('Resumed: still beta.'));
    await claude(['-p', 'What do the notes say now?', '--resume', sourceId]);
    const grown = await importAll();
    ledger = grown.ledger;
    try {
      assert.deepEqual(grown.summary.problems, []);
      assert.equal(grown.summary.duplicates, 0, 'only the new lines were read');
      const main = grown.summary.files.find((file) => file.file.endsWith(mainFile))!;
      assert.ok(main.linesBefore > 0 && main.linesRead > 0);
      const texts = ledger.readSession(`claude-${sourceId}`).filter((event) => event.kind === 'message.user').map((event) => (event.body as { text: string }).text);
      assert.deepEqual(texts, ['Edit the notes', 'What do the notes say now?']);
      assert.ok(ledger.readSession(`claude-${sourceId}`).some((event) => event.kind === 'message.assistant' && event.body.text === 'Resumed: still beta.'));
      assert.equal(ledger.stats().eventCount, eventCount + grown.summary.eventsAdded + grown.summary.files.filter((file) => !file.unchanged).length, 'the new events and one cursor per grown file');
    } finally {
      ledger.close();
    }
  });
});
