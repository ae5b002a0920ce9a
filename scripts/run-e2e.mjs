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
  const testFiles = fs.existsSync(testDir) ? fs.readdirSync(testDir).filter((name) => name.endsWith('.test.js')).sort() : [];
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
  const messagesApi = await timings.phase('start Messages API test server', () => startMessagesApiServer({ logFile: path.join(resultsDir, 'messages-api.log') }));
  cleanup.add('Messages API test server', () => messagesApi.stop());
  const chatStore = path.join(tmp, 'chat-store');
  const chatWorkspace = makeWorkspace(path.join(tmp, 'chat-workspace'), chatStore);
  dirs = codeServerDirs(path.join(tmp, 'code-server'));
  // The empty secondary side bar would take a fifth of every screenshot. The base URL is a
  // User-only setting (application scope: it receives the key).
  writeUserSettings(dirs, { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'contextLedger.baseUrl': messagesApi.baseUrl });

  await timings.phase('install vsix', async () => console.log(await installVsix(stack, dirs, vsix)));
  await timings.phase('seed store (CLI)', async () => {
    const events = seededSessions.flatMap(({ id, name, events: turns }) => [
      { kind: 'session.started', sessionId: id, body: { name } },
      ...turns.map((turn) => ({ ...turn, sessionId: id })),
    ]);
    console.log(`CLI append: ${(await appendWithCli(storeDir, events)).trim()}`);
    const longEvents = [{ kind: 'session.started', sessionId: longSession.id, body: { name: longSession.name } }, ...longSession.events.map((event) => ({ ...event, sessionId: longSession.id }))];
    console.log(`CLI append (chat store): ${(await appendWithCli(chatStore, longEvents)).trim()}`);
  });
  const seeded = {
    sessionNames: seededSessions.map(({ name }) => name),
    // A turn is a question: user messages.
    turnCounts: seededSessions.map(({ events }) => events.filter((event) => event.kind === 'message.user').length),
    eventCount: seededSessions.reduce((sum, { events }) => sum + 1 + events.length, 0),
  };

  const port = await freePort();
  const server = await timings.phase('start code-server', () => startCodeServer({ stack, dirs, port, folder: workspace, env: { ANTHROPIC_API_KEY: testApiKey } }));
  cleanup.add('code-server', () => server.stop());
  console.log(`code-server ${server.url} (pid ${server.pid}), workspace ${workspace}, store ${storeDir}`);

  const profileDir = path.join(tmp, 'chromium-profile');
  // A chromium the tests leave behind (a test process killed mid-run) is found by its profile.
  cleanup.add('stray chromium', () => killProcessesMentioning(profileDir));
  const code = await timings.phase('browser tests', () =>
    new Promise((resolve, reject) => {
      // One file at a time: each drives its own chromium, and two would need ~2 GB more.
      const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', `--test-timeout=${timeoutMs}`, ...testFiles.map((name) => path.join(testDir, name))], {
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
          CONTEXT_LEDGER_E2E_CHAT_URL: `${server.url}/?folder=${encodeURIComponent(chatWorkspace)}`,
          CONTEXT_LEDGER_E2E_MESSAGES_API: messagesApi.baseUrl,
        },
      });
      cleanup.add('test process', () => stopProcessGroup(child.pid));
      child.on('error', reject);
      child.on('exit', (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
    }),
  );
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
