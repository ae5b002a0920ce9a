// Shared by the integration suites: the extension's API, the runner's environment, the CLI, and
// polling for things that happen asynchronously (the engine tails the journal).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContextLedgerApi } from '../../src/extension/extension';

export const extensionId = 'context-ledger.context-ledger';

/** Set by the runner (scripts/run-integration.mjs or runTestElectron.mjs). */
export interface RunnerEnvironment {
  /** The store folder the workspace settings point the extension at. */
  readonly storeDir: string;
  /** dist/cli.js of the extension under test. */
  readonly cliPath: string;
  /** A Node to run the CLI with (the extension host's own binary may be Electron). */
  readonly nodePath: string;
}

export function runnerEnvironment(): RunnerEnvironment {
  const read = (name: string): string => {
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set: run the integration tests through scripts/run-integration.mjs or test/integration/runTestElectron.mjs`);
    }
    return value;
  };
  return { storeDir: read('CONTEXT_LEDGER_TEST_STORE'), cliPath: read('CONTEXT_LEDGER_TEST_CLI'), nodePath: read('CONTEXT_LEDGER_TEST_NODE') };
}

/** Activates the extension (idempotent) and returns its API, failing if activation failed. */
export async function activateExtension(): Promise<ContextLedgerApi> {
  const extension = vscode.extensions.getExtension<ContextLedgerApi | undefined>(extensionId);
  if (!extension) {
    throw new Error(`extension ${extensionId} is not loaded`);
  }
  const api = await extension.activate();
  if (!api) {
    throw new Error('activate() returned no API: activation failed (see the "Context Ledger" output channel)');
  }
  return api;
}

/** Calls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `context-ledger --store <store> ...args` with `stdin`, as a user would from a terminal. */
export function runCli(environment: RunnerEnvironment, args: readonly string[], stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(environment.nodePath, [environment.cliPath, '--store', environment.storeDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export function jsonLines(events: readonly object[]): string {
  return events.map((event) => JSON.stringify(event)).join('\n') + '\n';
}

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix} ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Answers the open input box whose widget shows `title`, typing `text` and Enter with the
 * keyboard in the browser (the runner's quick input bridge: scripts/lib/quickInputBridge.mjs).
 */
export async function answerInputBox(title: string, text: string): Promise<void> {
  const bridge = process.env.CONTEXT_LEDGER_TEST_QUICK_INPUT;
  if (!bridge) {
    throw new Error('CONTEXT_LEDGER_TEST_QUICK_INPUT is not set: the runner (scripts/run-integration.mjs) types into input boxes');
  }
  const response = await fetch(`${bridge}/quick-input`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title, text }) });
  if (!response.ok) {
    throw new Error(`the runner could not answer the input box "${title}": ${await response.text()}`);
  }
}

/** Every file under `dir` (none if it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The key a request to the Messages API carried (x-api-key, or the SDK's bearer token). */
export function keyReceived(headers: Readonly<Record<string, string>> | undefined): string | undefined {
  return headers?.['x-api-key'] ?? /^Bearer (.+)$/.exec(headers?.authorization ?? '')?.[1];
}
