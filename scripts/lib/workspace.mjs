// What the test scripts and `npm start` set up around a code-server: a workspace whose settings
// point the extension at a store folder, sessions written into that store with the CLI, phase
// timings, and clean-up that runs on every way out (success, failure, Ctrl-C, SIGTERM).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './codeServer.mjs';

export const sampleWorkspace = path.join(repoRoot, 'samples', 'workspace');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

export function makeTempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Copies the committed sample workspace to `dest` (unless `from` says otherwise) and writes its
 * .vscode/settings.json so the extension keeps its store in `storeDir`.
 */
export function makeWorkspace(dest, storeDir, { from = sampleWorkspace, settings = {} } = {}) {
  fs.mkdirSync(dest, { recursive: true });
  if (from) {
    fs.cpSync(from, dest, { recursive: true });
  }
  const file = path.join(dest, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ 'contextLedger.storePath': storeDir, ...settings }, null, 2) + '\n');
  return dest;
}

/** Runs the built CLI (dist/cli.js) with Node, feeding `stdin`; rejects on a non-zero exit. */
export function runCli(args, stdin = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolve(stdout);
      } else {
        reject(new Error(`context-ledger ${args.join(' ')} exited with ${code}: ${stderr || stdout}`));
      }
    });
    child.stdin.end(stdin);
  });
}

/** Appends events (objects) to a store with `context-ledger --store DIR append`. */
export function appendWithCli(storeDir, events) {
  return runCli(['--store', storeDir, 'append'], events.map((event) => JSON.stringify(event)).join('\n') + '\n');
}

/** Collects clean-up steps; runs them once, last registered first, also on SIGINT/SIGTERM. */
export class Cleanup {
  #steps = [];
  #ran = false;
  /** The signal that cut the run short, if one did. */
  interruptedBy = undefined;

  /** `exitCodeOnSignal`: the exit status after a signal (130 for a test run that was cut short). */
  constructor({ exitCodeOnSignal = 130 } = {}) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => {
        this.interruptedBy = signal;
        console.error(`\n${signal}: cleaning up`);
        void this.run().finally(() => process.exit(exitCodeOnSignal));
      });
    }
  }

  add(label, step) {
    this.#steps.push({ label, step });
  }

  async run() {
    if (this.#ran) {
      return;
    }
    this.#ran = true;
    for (const { label, step } of this.#steps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`clean-up "${label}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** Times named phases and prints them as a table. */
export class Timings {
  #phases = [];
  #started = Date.now();

  async phase(name, run) {
    const start = Date.now();
    try {
      return await run();
    } finally {
      this.#phases.push({ name, ms: Date.now() - start });
    }
  }

  print(title) {
    const width = Math.max(...this.#phases.map((phase) => phase.name.length), 5);
    console.log(`\n${title} timings:`);
    for (const { name, ms } of this.#phases) {
      console.log(`  ${name.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)} s`);
    }
    console.log(`  ${'total'.padEnd(width)}  ${((Date.now() - this.#started) / 1000).toFixed(1).padStart(6)} s`);
  }
}

/** `--keep` (or CONTEXT_LEDGER_KEEP=1) keeps temp folders for a look after the run. */
export function keepRequested() {
  return process.argv.includes('--keep') || process.env.CONTEXT_LEDGER_KEEP === '1';
}
