// Browser tests of the packaged product: installs dist/context-ledger.vsix into a fresh
// extensions dir, writes two sessions into a temp store with the CLI, starts code-server on a
// copy of samples/workspace whose settings point at that store, and runs the node:test files in
// out/test/e2e one after another, which drive chromium (test/e2e/workbench.ts). The chat tests
// get a second copy of the workspace with a store of their own (so they change no count the
// other tests check) and the local Messages API test server as contextLedger.baseUrl. Expects `npm run package && npm
// run compile-tests` first (npm run test:e2e does both). `--keep` keeps the temp folders.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  chromiumLaunchOptions,
  codeServerDirs,
  ensureTestStack,
  freePort,
  installVsix,
  killProcessesMentioning,
  printDiagnostics,
  repoRoot,
  startCodeServer,
  stopProcessGroup,
  writeUserSettings,
} from './lib/codeServer.mjs';
import { messagesApiServerMain, startMessagesApiServer, testApiKey } from './lib/messagesApi.mjs';
import { Cleanup, Timings, appendWithCli, keepRequested, makeTempDir, makeWorkspace } from './lib/workspace.mjs';

const vsix = path.join(repoRoot, 'dist', 'context-ledger.vsix');
const testDir = path.join(repoRoot, 'out', 'test', 'e2e');
const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
const timeoutMs = Number(process.env.CONTEXT_LEDGER_TEST_TIMEOUT_MS ?? 5 * 60_000);

// Two sessions, as a person would have after two short chats from the terminal.
const seededSessions = [
  {
    id: 'e2e-parser',
    name: 'Refactor the parser',
    events: [
      { kind: 'message.user', body: { text: 'Can the tokenizer stream its input?' } },
      { kind: 'message.assistant', body: { text: 'Yes: read chunks and keep the partial token.', model: 'e2e-model' } },
    ],
  },
  {
    id: 'e2e-release',
    name: 'Plan the 0.2 release',
    events: [{ kind: 'message.user', body: { text: 'What is left before 0.2?' } }],
  },
];

// The chat tests' store: one long conversation (20 questions, 40 messages, each answer several
// paragraphs), so a new answer lands below the fold unless the chat follows it.
const longSession = {
  id: 'e2e-long',
  name: 'Long conversation',
  events: Array.from({ length: 20 }, (_, index) => [
    { kind: 'message.user', body: { text: `Question ${index + 1}: how does part ${index + 1} of the parser work?` } },
    {
      kind: 'message.assistant',
      body: { text: Array.from({ length: 4 }, (__, line) => `Answer ${index + 1}, paragraph ${line + 1}: the parser reads a chunk, keeps the partial token and hands whole tokens on.`).join('\n\n'), model: 'e2e-model' },
    },
  ]).flat(),
};

const timings = new Timings();
const cleanup = new Cleanup();
const keep = keepRequested();
let exitCode = 1;
let dirs;

try {
  // CONTEXT_LEDGER_E2E_ONLY=chatView,memoryPanel runs just those files (while working on one).
  const only = (process.env.CONTEXT_LEDGER_E2E_ONLY ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const testFiles = (fs.existsSync(testDir) ? fs.readdirSync(testDir).filter((name) => name.endsWith('.test.js')).sort() : [])
    .filter((name) => only.length === 0 || only.includes(name.replace(/\.test\.js$/, '')));
  if (!fs.existsSync(vsix) || testFiles.length === 0 || !fs.existsSync(messagesApiServerMain)) {
    throw new Error('dist/context-ledger.vsix or out/test/e2e/*.test.js is missing: run `npm run package && npm run compile-tests` (or npm run test:e2e)');
  }
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });

  const stack = await timings.phase('test stack', ensureTestStack);
  const tmp = makeTempDir('context-ledger-e2e-');
  cleanup.add('temp folder', () => (keep ? console.log(`kept ${tmp}`) : fs.rmSync(tmp, { recursive: true, force: true })));
  const storeDir = path.join(tmp, 'store');
  const workspace = makeWorkspace(path.join(tmp, 'workspace'), storeDir);
  // Each test file gets a chat workspace and store of its own (seeded alike), so no file meets
  // the windows, engines and sessions an earlier file left open on its store.
  const chatFolders = (name) => ({ store: path.join(tmp, `chat-store-${name}`), workspace: path.join(tmp, `chat-workspace-${name}`) });
  await timings.phase('seed store (CLI)', async () => {
    const events = seededSessions.flatMap(({ id, name, events: turns }) => [
      { kind: 'session.started', sessionId: id, body: { name } },
      ...turns.map((turn) => ({ ...turn, sessionId: id })),
    ]);
    console.log(`CLI append: ${(await appendWithCli(storeDir, events)).trim()}`);
    const longEvents = [{ kind: 'session.started', sessionId: longSession.id, body: { name: longSession.name } }, ...longSession.events.map((event) => ({ ...event, sessionId: longSession.id }))];
    for (const name of testFiles) {
      const folders = chatFolders(name);
      makeWorkspace(folders.workspace, folders.store);
      console.log(`CLI append (chat store of ${name}): ${(await appendWithCli(folders.store, longEvents)).trim()}`);
    }
  });
  const seeded = {
    sessionNames: seededSessions.map(({ name }) => name),
    // A turn is a question: user messages.
    turnCounts: seededSessions.map(({ events }) => events.filter((event) => event.kind === 'message.user').length),
    eventCount: seededSessions.reduce((sum, { events }) => sum + 1 + events.length, 0),
  };

  // Each test file also gets a VS Code of its own (code-server with fresh user data: settings,
  // secrets, window state), so nothing one file leaves behind can change what another sees.
  const startVsCode = async (name) => {
    // And a Messages API test server of its own: no scripted answer or fault carries over.
    const messagesApi = await timings.phase(`start Messages API test server (${name})`, () => startMessagesApiServer({ logFile: path.join(resultsDir, `messages-api-${name.replace(/\.test\.js$/, '')}.log`) }));
    cleanup.add(`Messages API test server ${name}`, () => messagesApi.stop());
    dirs = codeServerDirs(path.join(tmp, `code-server-${name}`));
    // The empty secondary side bar would take a fifth of every screenshot. The base URL is a
    // User-only setting (application scope: it receives the key).
    writeUserSettings(dirs, { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'contextLedger.baseUrl': messagesApi.baseUrl });
    await timings.phase(`install vsix (${name})`, async () => console.log(await installVsix(stack, dirs, vsix)));
    const port = await freePort();
    const started = await timings.phase(`start code-server (${name})`, () => startCodeServer({ stack, dirs, port, folder: workspace, env: { ANTHROPIC_API_KEY: testApiKey } }));
    cleanup.add(`code-server ${name}`, () => started.stop());
    console.log(`code-server ${started.url} (pid ${started.pid}) for ${name}, workspace ${workspace}, store ${storeDir}`);
    return { server: started, messagesApi };
  };

  const profileDir = path.join(tmp, 'chromium-profile');
  // A chromium the tests leave behind (a test process killed mid-run) is found by its profile.
  cleanup.add('stray chromium', () => killProcessesMentioning(profileDir));
  // One file at a time: each drives its own chromium, and two would need ~2 GB more.
  const runFile = async (name) => {
    const { server, messagesApi } = await startVsCode(name);
    const exit = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--test', '--test-reporter=spec', `--test-timeout=${timeoutMs}`, path.join(testDir, name)], {
        stdio: 'inherit',
        detached: true,
        cwd: repoRoot,
        env: {
          ...process.env,
          CONTEXT_LEDGER_E2E_URL: `${server.url}/?folder=${encodeURIComponent(workspace)}`,
          CONTEXT_LEDGER_E2E_SCREENSHOTS: resultsDir,
          CONTEXT_LEDGER_E2E_PROFILE: profileDir,
          CONTEXT_LEDGER_E2E_CHROMIUM: JSON.stringify(chromiumLaunchOptions()),
          CONTEXT_LEDGER_E2E_SEEDED: JSON.stringify(seeded),
          CONTEXT_LEDGER_E2E_CHAT_URL: `${server.url}/?folder=${encodeURIComponent(chatFolders(name).workspace)}`,
          CONTEXT_LEDGER_E2E_MESSAGES_API: messagesApi.baseUrl,
          CONTEXT_LEDGER_E2E_CHAT_STORE: chatFolders(name).store,
          CONTEXT_LEDGER_E2E_HOME: dirs.home,
        },
      });
      cleanup.add(`test process ${name}`, () => stopProcessGroup(child.pid));
      child.on('error', reject);
      child.on('exit', (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
    });
    if (exit === 0) {
      await server.stop();
      await messagesApi.stop();
    }
    return exit;
  };
  const code = await timings.phase('browser tests', async () => {
    const failed = [];
    for (const name of testFiles) {
      if ((await runFile(name)) !== 0) {
        failed.push(name);
      }
    }
    if (failed.length > 0) {
      console.error(`failing test files: ${failed.join(', ')}`);
    }
    return failed.length === 0 ? 0 : 1;
  });
  if (code === 0) {
    exitCode = 0;
  } else {
    console.error(`browser tests failed (exit code ${code}); screenshots in ${path.relative(repoRoot, resultsDir)}/`);
  }
} catch (error) {
  console.error(`browser tests could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  if (exitCode !== 0 && dirs && !cleanup.interruptedBy) {
    printDiagnostics(dirs);
  }
  await cleanup.run();
  const screenshots = fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir).filter((name) => name.endsWith('.png')) : [];
  console.log(`\nscreenshots (${path.relative(repoRoot, resultsDir)}/): ${screenshots.join(', ') || 'none'}`);
  timings.print('e2e');
  console.log(exitCode === 0 ? 'browser tests passed' : 'browser tests FAILED');
  process.exitCode = exitCode;
}
