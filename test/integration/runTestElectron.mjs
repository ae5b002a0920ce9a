// Runs the same integration suites (out/test/integration/index.js) in desktop VS Code through
// @vscode/test-electron, for machines that can download VS Code (this one cannot: npm test runs
// them in code-server through scripts/run-integration.mjs instead). Usage, after
// `npm run build && npm run compile-tests`:
//   node test/integration/runTestElectron.mjs [--vscode-version stable|insiders|1.91.0] [--keep]
// Test results go to test-results/integration-electron/results.txt and to the console.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from '../../scripts/lib/codeServer.mjs';
import { cliPath, keepRequested, makeTempDir, makeWorkspace } from '../../scripts/lib/workspace.mjs';

const versionIndex = process.argv.indexOf('--vscode-version');
const version = versionIndex > 0 ? process.argv[versionIndex + 1] : 'stable';
const tmp = makeTempDir('context-ledger-electron-');
const storeDir = path.join(tmp, 'store');
const workspace = makeWorkspace(path.join(tmp, 'workspace'), storeDir);
const resultsFile = path.join(repoRoot, 'test-results', 'integration-electron', 'results.txt');

try {
  await runTests({
    version,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, 'out', 'test', 'integration', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--user-data-dir', path.join(tmp, 'user-data')],
    extensionTestsEnv: {
      CONTEXT_LEDGER_TEST_RESULTS: resultsFile,
      CONTEXT_LEDGER_TEST_STORE: storeDir,
      CONTEXT_LEDGER_TEST_CLI: cliPath,
      // The extension host runs in Electron; the CLI wants a plain Node.
      CONTEXT_LEDGER_TEST_NODE: process.execPath,
    },
  });
  console.log('integration tests (test-electron) passed');
} catch (error) {
  console.error(`integration tests (test-electron) failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  if (keepRequested()) {
    console.log(`kept ${tmp}`);
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
