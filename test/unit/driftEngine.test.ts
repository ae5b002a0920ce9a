// Prompt drift through the real engine process (compiled src/server/main.ts) over LSP: the
// check reads a real prompt file's workspace, records prompt versions in the store, and the
// chat's receipts name the version they were made under (real SDK, local Messages API server).
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatRequests } from '../../src/shared/chatProtocol';
import { DriftRequests } from '../../src/shared/driftProtocol';
import { EngineRequests } from '../../src/shared/engineProtocol';
import { FactsRequests } from '../../src/shared/factsProtocol';
import { runCliProcess } from '../fixtures/cliRunner';
import { DriftEngine } from '../fixtures/driftEngine';
import { scripts } from '../fixtures/messagesApiScripts';
import { startMessagesApiServer, type MessagesApiServer } from '../fixtures/messagesApiServer';

describe('prompt drift in the engine', () => {
  let server: MessagesApiServer;
  const engines = new DriftEngine();
  const startEngine = (workspaceFolder: string | null) => engines.start({ key: 'sk-ant-drift-test', workspaceFolder, storePrefix: 'context-ledger-drift-engine-' });

  before(async () => {
    server = await startMessagesApiServer();
  });
  after(() => server.close());
  afterEach(() => engines.stop());

  it('checks the workspace, records a version only when the prompt changed, and names it in each receipt', async () => {
    const workspace = engines.copyWorkspace('hashery', 'context-ledger-drift-ws-');
    const { connection, sender, storeDir } = await startEngine(workspace);
    const first = await connection.sendRequest(DriftRequests.check, { systemPrompt: 'Be brief.' });
    assert.deepEqual(first.promptFiles, ['AGENTS.md', 'CLAUDE.md']);
    assert.deepEqual(first.diagnostics.map((diagnostic) => `${diagnostic.path}:${diagnostic.line} ${diagnostic.code}`), ['AGENTS.md:7 runtime-version']);
    assert.equal(first.diagnostics[0]!.fix?.newText, '22.18');
    assert.deepEqual([first.promptVersion?.version, first.promptVersion?.recorded, first.factsChecked], [1, true, true]);
    const same = await connection.sendRequest(DriftRequests.check, { systemPrompt: 'Be brief.' });
    assert.deepEqual([same.promptVersion?.version, same.promptVersion?.recorded], [1, false]);
    fs.appendFileSync(path.join(workspace, 'AGENTS.md'), '- Run `pnpm format` before committing.\n');
    const changed = await connection.sendRequest(DriftRequests.check, { systemPrompt: 'Be brief.' });
    assert.deepEqual([changed.promptVersion?.version, changed.promptVersion?.recorded], [2, true]);
    assert.deepEqual(changed.diagnostics.map((diagnostic) => diagnostic.code), ['runtime-version', 'missing-script']);
    // The prompt stream is no session in the list.
    assert.ok(!(await connection.sendRequest(EngineRequests.listSessions)).some((session) => session.id.startsWith('prompt:')));

    const sessionId = randomUUID();
    await connection.sendRequest(EngineRequests.append, { events: [{ kind: 'session.started', sessionId, body: { name: 'drift' } }] });
    server.reset();
    server.script(scripts.text('Done.'));
    const result = await connection.sendRequest(ChatRequests.send, {
      requestId: randomUUID(),
      sessionId,
      text: 'Which prompt?',
      keyVersion: await sender.sync(),
      settings: { model: 'claude-test', maxTokens: 256, baseUrl: server.baseUrl, budgetTokens: 20_000, window: { kind: 'full' }, systemPrompt: 'Be brief.', timeoutMs: 10_000 },
    });
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    assert.deepEqual(result.receipt?.promptVersion, { version: 2, digest: changed.promptVersion?.digest });

    // The CLI reads the same store (while the engine has it open) and the same folder.
    const cli = runCliProcess(storeDir, ['drift', '--folder', workspace]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, /prompt version 2 \([0-9a-f]{12}\) in the store; the files are the ones it recorded/);
    assert.match(cli.stdout, /AGENTS\.md:9: missing-script: AGENTS\.md runs `pnpm format`, but package\.json has no script "format"/);
    fs.appendFileSync(path.join(workspace, 'CLAUDE.md'), '\n');
    assert.match(runCliProcess(storeDir, ['drift', '--folder', workspace]).stdout, /the files changed since it was recorded/);
    const json = runCliProcess(storeDir, ['drift', '--folder', workspace, '--json']);
    assert.deepEqual(JSON.parse(json.stdout), [
      { path: 'AGENTS.md', line: 7, code: 'runtime-version', message: 'AGENTS.md says Node.js >= 20, but package.json (engines.node ">=22.18") requires 22.18 or later.' },
      { path: 'AGENTS.md', line: 9, code: 'missing-script', message: 'AGENTS.md runs `pnpm format`, but package.json has no script "format".' },
    ]);

    // A fact made now records prompt version 2; once the engine records version 3 (CLAUDE.md
    // changed above), the fact is flagged as made under an older prompt.
    const fact = await connection.sendRequest(FactsRequests.add, { key: 'docs.owner', value: 'the docs team' });
    assert.equal(fact.heads[0]?.promptVersion, '2');
    const later = await connection.sendRequest(DriftRequests.check, { systemPrompt: 'Be brief.' });
    assert.deepEqual([later.promptVersion?.version, later.factsChecked], [3, true]);
    const older = later.diagnostics.find((diagnostic) => diagnostic.code === 'fact-older-prompt');
    assert.ok(older, JSON.stringify(later.diagnostics));
    assert.match(older.message, /"docs\.owner" \(the docs team\) was made under prompt version 2; the prompt is now at version 3/);
  });

  it('without a trusted folder it says so and records nothing; a bad request is refused', async () => {
    const { connection } = await startEngine(null);
    const result = await connection.sendRequest(DriftRequests.check, { systemPrompt: '' });
    assert.equal(result.promptVersion, null);
    assert.match(result.unavailable ?? '', /no trusted workspace folder/);
    await assert.rejects(connection.sendRequest(DriftRequests.check, { systemPrompt: 42 } as never), /drift\/check expects \{ systemPrompt \}/);
  });
});
