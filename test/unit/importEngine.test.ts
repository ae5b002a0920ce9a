import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { describeTranscript } from '../../src/extension/import/transcriptPick';
import { EngineRequests } from '../../src/shared/engineProtocol';
import { ImportNotifications, ImportRequests, type ImportProgressParams, type ImportSummary } from '../../src/shared/importProtocol';
import { oldSessionId, toJsonl, version1Records, writeOldProject } from '../fixtures/claudeCodeTranscripts';
import { makeTempDir } from '../fixtures/tempDir';

// The import requests of the engine process (out/src/server/main.js) over node IPC, as the
// extension sends them: scan for the quick pick, run with progress, cancel, follow a folder.
const engineMain = path.join(__dirname, '..', '..', 'src', 'server', 'main.js');
const wasmPath = require.resolve('sql.js/dist/sql-wasm.wasm');

describe('import through the engine process', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let engine: ChildProcess;
  let connection: MessageConnection;
  let progress: ImportProgressParams[];
  let followed: ImportSummary[];

  beforeEach(async () => {
    temp = makeTempDir();
    progress = [];
    followed = [];
    engine = fork(engineMain, ['--node-ipc'], { stdio: ['pipe', 'ignore', 'pipe', 'ipc'] });
    connection = createMessageConnection(new IPCMessageReader(engine), new IPCMessageWriter(engine));
    connection.onNotification(ImportNotifications.progress.method, (params: ImportProgressParams) => void progress.push(params));
    connection.onNotification(ImportNotifications.followed.method, (summary: ImportSummary) => void followed.push(summary));
    connection.listen();
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { storeDir: path.join(temp.dir, 'store'), wasmPath, snapshotEveryEvents: 5000, workspaceFolder: null } });
    await connection.sendNotification('initialized', {});
  });
  afterEach(() => {
    connection.dispose();
    engine.kill();
    temp.remove();
  });

  it('scans, imports with progress, says what it imported on the next scan, and refuses malformed requests', async () => {
    const { folder, sessionFile } = writeOldProject(path.join(temp.dir, 'projects'));
    const scan = await connection.sendRequest(ImportRequests.scan, { paths: [folder] });
    assert.deepEqual(scan.transcripts.map((item) => [path.basename(item.file), item.title, item.firstPrompt, item.project, item.importedBytes]), [
      [`${oldSessionId}.jsonl`, 'Fix the date parser', 'Fix the date parser in parse.ts', '/home/dev/parser', 0],
      ['agent-3f2a9c1b.jsonl', 'List the test files', 'List the test files', '/home/dev/parser', 0],
    ].sort());
    // The quick pick's rows: title, the first prompt when the title is another, project folder, size, state.
    const rows = scan.transcripts.map(describeTranscript).sort((a, b) => a.label.localeCompare(b.label));
    const kb = (file: string) => Math.max(1, Math.round(fs.statSync(file).size / 1024));
    assert.deepEqual(rows.map((row) => [row.label, row.description, row.picked]), [
      ['Fix the date parser', `/home/dev/parser · ${kb(sessionFile)} KB · new`, true],
      ['List the test files', `subagent · /home/dev/parser · ${kb(path.join(folder, 'agent-3f2a9c1b.jsonl'))} KB · new`, true],
    ]);
    assert.match(rows[0]!.detail!, /^“Fix the date parser in parse\.ts” · /);
    assert.doesNotMatch(rows[1]!.detail!, /“/, 'no prompt repeated when it is the label');
    assert.equal(describeTranscript({ ...scan.transcripts[0]!, bytes: 5 * 1024 * 1024, importedBytes: 1024 }).description, `${scan.transcripts[0]!.project} · 5.0 MB · grown since the last import`);
    const summary = await connection.sendRequest(ImportRequests.run, { requestId: 'r1', paths: [sessionFile] });
    assert.equal(summary.files.length, 1);
    assert.ok(summary.eventsAdded > 10);
    assert.ok(progress.some((item) => item.requestId === 'r1' && item.progress.bytesDone === fs.statSync(sessionFile).size));
    const sessions = await connection.sendRequest(EngineRequests.listSessions);
    assert.ok(sessions.some((session) => session.id === `claude-${oldSessionId}`));
    const rescan = await connection.sendRequest(ImportRequests.scan, { paths: [folder] });
    assert.equal(rescan.transcripts.find((item) => item.file === sessionFile)?.importedBytes, fs.statSync(sessionFile).size);
    assert.equal(describeTranscript(rescan.transcripts.find((item) => item.file === sessionFile)!).picked, false, 'an imported one is not chosen by default');
    await assert.rejects(connection.sendRequest(ImportRequests.run, { requestId: 'r2', paths: 'not a list' } as never), /"paths" must be a list/);
    await assert.rejects(connection.sendRequest(ImportRequests.run, { requestId: 'r3', paths: [path.join(temp.dir, 'missing')] }), /no such file or folder/);
    assert.equal(await connection.sendRequest(ImportRequests.cancel, { requestId: 'nothing-running' }), false);
  });

  it('cancels an import under way, and follows a folder: new lines arrive as events and a notification', async () => {
    const bulk = path.join(temp.dir, 'bulk');
    fs.mkdirSync(bulk);
    const template = version1Records()[1]!;
    for (let file = 0; file < 4; file++) {
      fs.writeFileSync(path.join(bulk, `s${file}.jsonl`), toJsonl(Array.from({ length: 3000 }, (_, index) => ({ ...template, sessionId: `s${file}`, uuid: `s${file}-${index}`, message: { role: 'user', content: `q ${index}` } }))));
    }
    const running = connection.sendRequest(ImportRequests.run, { requestId: 'big', paths: [bulk] });
    for (let attempt = 0; attempt < 200 && !progress.some((item) => item.requestId === 'big'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await connection.sendRequest(ImportRequests.cancel, { requestId: 'big' }), true);
    const cancelled = await running;
    assert.equal(cancelled.cancelled, true);
    assert.ok(cancelled.eventsAdded < 12_000);
    // What the cancelled run stored is whole, and the next run adds exactly the rest.
    assert.deepEqual((await connection.sendRequest(EngineRequests.verify)).problems, []);
    const rest = await connection.sendRequest(ImportRequests.run, { requestId: 'big-again', paths: [bulk] });
    assert.equal(rest.cancelled, false);
    assert.equal(rest.duplicates, 0, 'the cursor of the cancelled run is where the next one starts');
    assert.equal(cancelled.eventsAdded + rest.eventsAdded, 4 * 3001, 'every question once, and one start per session');

    const projects = path.join(temp.dir, 'projects');
    const { sessionFile } = writeOldProject(projects);
    assert.deepEqual(await connection.sendRequest(ImportRequests.follow, { paths: [projects] }), { following: [projects] });
    const waitFor = async (done: () => boolean): Promise<void> => {
      for (let attempt = 0; attempt < 150 && !done(); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(done());
    };
    await waitFor(() => followed.length > 0);
    fs.appendFileSync(sessionFile, toJsonl([{ ...template, uuid: 'u-live', message: { role: 'user', content: 'Asked while followed' } }]));
    await waitFor(() => followed.some((summary) => summary.eventsAdded === 1));
    const { events } = await connection.sendRequest(EngineRequests.readSession, { sessionId: `claude-${oldSessionId}` });
    const last = events.filter((event) => event.kind === 'message.user').at(-1);
    assert.equal(last?.kind === 'message.user' ? last.body.text : undefined, 'Asked while followed');
    assert.deepEqual(await connection.sendRequest(ImportRequests.follow, { paths: [] }), { following: [] });
  });
});
