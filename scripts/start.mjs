// `npm start`: builds and packages the extension, installs it into a code-server kept under
// .context-ledger-dev/ (git-ignored: workspace, store, settings and extensions survive restarts),
// and serves VS Code on http://127.0.0.1:PORT (PORT from the environment, else a free one) until
// Ctrl-C or SIGTERM, which end code-server's whole process group.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeServerDirs, ensureTestStack, freePort, installVsix, repoRoot, startCodeServer, stopProcessGroup, tail, writeUserSettings } from './lib/codeServer.mjs';
import { Cleanup, Timings, cliPath, makeWorkspace } from './lib/workspace.mjs';

const stateDir = path.join(repoRoot, '.context-ledger-dev');
const workspace = path.join(stateDir, 'workspace');
const storeDir = path.join(stateDir, 'store');
const pidFile = path.join(stateDir, 'code-server.pid');
const vsix = path.join(repoRoot, 'dist', 'context-ledger.vsix');

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: repoRoot });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

function requestedPort() {
  if (!process.env.PORT) {
    return freePort();
  }
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT=${process.env.PORT} is not a TCP port`);
  }
  return port;
}

/** The workspace's settings must keep pointing at our store; anything else in them is the user's. */
function ensureWorkspace() {
  if (!fs.existsSync(workspace)) {
    makeWorkspace(workspace, storeDir);
    return;
  }
  const settingsFile = path.join(workspace, '.vscode', 'settings.json');
  let settings = {};
  try {
    settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  } catch {
    if (fs.existsSync(settingsFile)) {
      console.warn(`${settingsFile} is not plain JSON; leaving it as it is`);
      return;
    }
  }
  if (!settings['contextLedger.storePath']) {
    makeWorkspace(workspace, storeDir, { from: null, settings });
  }
}

/** A code-server left running by an earlier `npm start` that was killed outright. */
async function stopEarlierInstance(dirs) {
  let earlier;
  try {
    earlier = JSON.parse(fs.readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  fs.rmSync(pidFile, { force: true });
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${Number(earlier.pid)}/cmdline`, 'utf8');
  } catch {
    // Not running any more.
  }
  if (cmdline.includes(dirs.userDataDir)) {
    console.log(`stopping the code-server an earlier npm start left running (pid ${earlier.pid})`);
    await stopProcessGroup(Number(earlier.pid));
  }
  if (typeof earlier.tmp === 'string' && path.basename(earlier.tmp).startsWith('cl-vscode-')) {
    fs.rmSync(earlier.tmp, { recursive: true, force: true });
  }
}

const timings = new Timings();
const cleanup = new Cleanup({ exitCodeOnSignal: 0 });
try {
  await timings.phase('build + package', () => run('npm', ['run', 'package']));
  const stack = await timings.phase('test stack', ensureTestStack);
  fs.mkdirSync(storeDir, { recursive: true });
  ensureWorkspace();
  const dirs = codeServerDirs(path.join(stateDir, 'code-server'));
  if (!fs.existsSync(path.join(dirs.userDataDir, 'User', 'settings.json'))) {
    writeUserSettings(dirs);
  }
  await stopEarlierInstance(dirs);
  await timings.phase('install vsix', async () => console.log(await installVsix(stack, dirs, vsix)));
  const port = await requestedPort();
  const server = await timings.phase('start code-server', () => startCodeServer({ stack, dirs, port, folder: workspace }));
  fs.writeFileSync(pidFile, JSON.stringify({ pid: server.pid, tmp: server.tmp }));
  let stopping = false;
  cleanup.add('code-server', async () => {
    stopping = true;
    await server.stop();
    fs.rmSync(pidFile, { force: true });
    console.log('code-server stopped');
  });
  timings.print('start');
  console.log(`\nContext Ledger is running in VS Code at ${server.url}/?folder=${encodeURIComponent(workspace)}`);
  console.log(`  store:  ${storeDir}  (CLI: node ${path.relative(repoRoot, cliPath)} --store ${path.relative(repoRoot, storeDir)} sessions)`);
  console.log(`  logs:   ${dirs.log} and ${path.join(dirs.userDataDir, 'logs')}`);
  console.log('Press Ctrl-C to stop.');
  const exit = await server.exit;
  // After Ctrl-C or SIGTERM the clean-up is already under way and ends the process.
  if (!stopping) {
    console.error(`code-server exited on its own (${JSON.stringify(exit)}); its log:\n${tail(dirs.log, 30)}`);
    await cleanup.run();
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  await cleanup.run();
  process.exitCode = 1;
}
