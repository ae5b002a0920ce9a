// Runs the integration suites (out/test/integration) inside a real VS Code: code-server with the
// smoke-test driver loads this repository as the extension under development and runs the
// suites' run(); chromium opens the workbench and receives the exit code through
// codeAutomationExit. Expects `npm run build && npm run compile-tests` first (npm run
// test:integration does both). `--keep` keeps the temp folders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  codeServerDirs,
  deadline,
  ensureTestStack,
  extensionHostLogs,
  freePort,
  launchChromium,
  printDiagnostics,
  repoRoot,
  startCodeServer,
  writeUserSettings,
} from './lib/codeServer.mjs';
import { messagesApiServerMain, startMessagesApiServer, testApiKey } from './lib/messagesApi.mjs';
import { Cleanup, Timings, cliPath, keepRequested, makeTempDir, makeWorkspace } from './lib/workspace.mjs';

const timeoutMs = Number(process.env.CONTEXT_LEDGER_TEST_TIMEOUT_MS ?? 5 * 60_000);
const suiteIndex = path.join(repoRoot, 'out', 'test', 'integration', 'index.js');
const resultsDir = path.join(repoRoot, 'test-results', 'integration');
const resultsFile = path.join(resultsDir, 'results.txt');

const timings = new Timings();
const cleanup = new Cleanup();
const keep = keepRequested();
let exitCode = 1;
let dirs;

try {
  for (const file of [suiteIndex, path.join(repoRoot, 'dist', 'extension.js'), cliPath, messagesApiServerMain]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${path.relative(repoRoot, file)} is missing: run \`npm run build && npm run compile-tests\` (or npm run test:integration)`);
    }
  }
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });

  const stack = await timings.phase('test stack', ensureTestStack);
  const tmp = makeTempDir('context-ledger-integration-');
  cleanup.add('temp folder', () => (keep ? console.log(`kept ${tmp}`) : fs.rmSync(tmp, { recursive: true, force: true })));
  const storeDir = path.join(tmp, 'store');
  fs.mkdirSync(storeDir);
  // The chat talks to a local Messages API server, never to Anthropic.
  const messagesApi = await timings.phase('start Messages API test server', () => startMessagesApiServer({ logFile: path.join(resultsDir, 'messages-api.log') }));
  cleanup.add('Messages API test server', () => messagesApi.stop());
  const workspace = makeWorkspace(path.join(tmp, 'workspace'), storeDir, { settings: { 'contextLedger.baseUrl': messagesApi.baseUrl } });
  dirs = codeServerDirs(path.join(tmp, 'code-server'));
  writeUserSettings(dirs);

  const port = await freePort();
  const server = await timings.phase('start code-server', () =>
    startCodeServer({
      stack,
      dirs,
      port,
      folder: workspace,
      vscodeOptions: ['enable-smoke-test-driver'],
      // The extension host inherits these; the suites read them (test/integration/helpers.ts).
      env: {
        CONTEXT_LEDGER_TEST_RESULTS: resultsFile,
        CONTEXT_LEDGER_TEST_STORE: storeDir,
        CONTEXT_LEDGER_TEST_CLI: cliPath,
        CONTEXT_LEDGER_TEST_NODE: process.execPath,
        CONTEXT_LEDGER_TEST_MESSAGES_API: messagesApi.baseUrl,
        ANTHROPIC_API_KEY: testApiKey,
      },
    }),
  );
  cleanup.add('code-server', () => server.stop());
  console.log(`code-server ${server.url} (pid ${server.pid}), workspace ${workspace}, store ${storeDir}, Messages API ${messagesApi.baseUrl}`);

  const browser = await timings.phase('start chromium', () => launchChromium(path.join(tmp, 'chromium-profile')));
  cleanup.add('chromium', () => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());
  const browserLog = fs.createWriteStream(path.join(resultsDir, 'browser-console.log'));
  cleanup.add('browser log', () => new Promise((resolve) => browserLog.end(resolve)));
  page.on('console', (message) => browserLog.write(`[console.${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => browserLog.write(`[pageerror] ${error.stack ?? error.message}\n`));

  let reportExit;
  const exited = new Promise((resolve) => (reportExit = resolve));
  // Must exist before the workbench loads: it looks for it when the extension host exits.
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    for (const log of Array.isArray(logs) ? logs : []) {
      const file = path.join(resultsDir, 'workbench-logs', String(log.relativePath).replace(/\.\.+/g, '_'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, String(log.contents));
    }
    reportExit(code);
  });

  const authority = `127.0.0.1:${port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${repoRoot}`],
    ['extensionTestsPath', `vscode-remote://${authority}${suiteIndex}`],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const outcome = await timings.phase('run suites', async () => {
    await page.goto(url);
    return Promise.race([
      exited.then((code) => ({ code })),
      server.exit.then((exit) => ({ error: `code-server exited while the tests ran (${JSON.stringify(exit)})` })),
      deadline(timeoutMs).then(() => ({ error: `no result within ${timeoutMs / 1000} s` })),
    ]);
  });
  await page.screenshot({ path: path.join(resultsDir, 'workbench.png') }).catch((error) => console.error(`no screenshot: ${error.message}`));

  console.log(`\n--- ${path.relative(repoRoot, resultsFile)} ---`);
  const results = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
  console.log(results || '(no results written: the suites did not start)');
  if (outcome.error) {
    console.error(`integration tests: ${outcome.error}`);
  } else if (outcome.code !== 0) {
    console.error(`integration tests failed (extension host exit code ${outcome.code})`);
  } else if (!/^passed [1-9]\d*, failed 0,/m.test(results)) {
    // Exit code 0 without a full result means the suites never ran: not a pass.
    console.error('integration tests: exit code 0 but no passing result was written');
  } else {
    exitCode = 0;
  }
} catch (error) {
  console.error(`integration tests could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  if (exitCode !== 0 && dirs && !cleanup.interruptedBy) {
    printDiagnostics(dirs);
    const logs = extensionHostLogs(dirs);
    console.error(`\nextension host logs: ${logs.join(', ') || '(none)'}${keep ? '' : ' (deleted with the temp folder; run with --keep to keep them)'}`);
    console.error(`browser console and workbench logs: ${path.relative(repoRoot, resultsDir)}/`);
  }
  await cleanup.run();
  timings.print('integration');
  console.log(exitCode === 0 ? 'integration tests passed' : 'integration tests FAILED');
  process.exitCode = exitCode;
}
