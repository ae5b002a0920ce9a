// The local Messages API test server (test/fixtures/messagesApiServerMain.ts, compiled to
// out/test/fixtures) as a child process for the integration and browser test runs: the extension
// under test reaches it through the contextLedger.baseUrl setting with a test key, so no test
// ever talks to Anthropic. Suites script its answers over HTTP (POST /_test/script).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, stopProcessGroup } from './codeServer.mjs';

export const messagesApiServerMain = path.join(repoRoot, 'out', 'test', 'fixtures', 'messagesApiServerMain.js');

/** The key the test runs hand the extension (ANTHROPIC_API_KEY); the test server takes any. */
export const testApiKey = 'sk-ant-test-0000000000000000';

/**
 * Starts the server on a free loopback port; resolves to { baseUrl, pid, stop() } once it has
 * printed its base URL. One line per answered request goes to `logFile`.
 */
export async function startMessagesApiServer({ logFile, timeoutMs = 15_000 } = {}) {
  if (!fs.existsSync(messagesApiServerMain)) {
    throw new Error(`${path.relative(repoRoot, messagesApiServerMain)} is missing: run \`npm run compile-tests\` first`);
  }
  const log = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [messagesApiServerMain, '--verbose'], { stdio: ['ignore', 'pipe', log], detached: true });
  if (typeof log === 'number') {
    fs.closeSync(log);
  }
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const baseUrl = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the Messages API test server printed no base URL within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        if (/^http:\/\/127\.0\.0\.1:\d+$/.test(line.trim())) {
          resolve(line.trim());
        } else {
          reject(new Error(`the Messages API test server printed "${line}" instead of its base URL`));
        }
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exit.then((status) => {
      clearTimeout(timer);
      reject(new Error(`the Messages API test server exited during start-up (${JSON.stringify(status)})`));
    });
  });
  return {
    baseUrl,
    pid: child.pid,
    stop: () => stopProcessGroup(child.pid, exit, 3000),
  };
}
