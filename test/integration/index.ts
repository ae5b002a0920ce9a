// The integration suites' entry, in the shape every VS Code test runner expects (code-server
// with the smoke-test driver here, @vscode/test-electron elsewhere): `run()` runs mocha over the
// compiled *.test.js files beside it and rejects when any test fails. The extension host's
// console is not visible from a browser-driven run, so the result is also written, test by
// test, to the file named by CONTEXT_LEDGER_TEST_RESULTS.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

class ResultsFile {
  constructor(private readonly file: string | undefined) {
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '');
    }
  }

  line(text: string): void {
    console.log(text);
    if (this.file) {
      fs.appendFileSync(this.file, `${text}\n`);
    }
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    return (error.stack ?? `${error.name}: ${error.message}`).split('\n').slice(0, 12).join('\n');
  }
  return String(error);
}

function indent(text: string): string {
  return text.replace(/^/gm, '      ');
}

export function run(): Promise<void> {
  return runSuitesIn(__dirname);
}

/** Runs the *.test.js files of `dir` (not of its subfolders: untrusted/ is a run of its own). */
export function runSuitesIn(dir: string): Promise<void> {
  const results = new ResultsFile(process.env.CONTEXT_LEDGER_TEST_RESULTS);
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  // CONTEXT_LEDGER_INTEGRATION_ONLY=name runs only the suites whose file starts with it, where one does (while working on one).
  const only = process.env.CONTEXT_LEDGER_INTEGRATION_ONLY;
  if (only && files.some((name) => name.startsWith(only))) {
    files.splice(0, files.length, ...files.filter((name) => name.startsWith(only)));
  }
  for (const name of files) {
    mocha.addFile(path.join(dir, name));
  }
  results.line(`Context Ledger integration tests in VS Code ${vscode.version} (${vscode.env.appName}, ${vscode.env.appHost}), extension host Node ${process.version}`);
  results.line(`files: ${files.join(', ') || '(none)'} (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'})`);
  const started = Date.now();
  let passed = 0;
  let pending = 0;
  const failures: string[] = [];

  return new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failureCount) => {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        results.line('');
        results.line(`passed ${passed}, failed ${failures.length}, pending ${pending}, in ${seconds} s`);
        if (failures.length > 0) {
          results.line(`FAILED: ${failures.join('; ')}`);
        }
        // A test that fails twice (test, then its hook) counts once in mocha's number.
        if (failureCount > 0 || failures.length > 0) {
          reject(new Error(`${Math.max(failureCount, failures.length)} integration test(s) failed`));
        } else if (passed === 0) {
          reject(new Error('no integration tests ran'));
        } else {
          resolve();
        }
      });
      runner.on('pass', (test) => {
        passed++;
        results.line(`  ✔ ${test.fullTitle()} (${test.duration ?? 0} ms)`);
      });
      runner.on('pending', (test) => {
        pending++;
        results.line(`  - ${test.fullTitle()} (pending)`);
      });
      runner.on('fail', (test, error) => {
        failures.push(test.fullTitle());
        results.line(`  ✘ ${test.fullTitle()}`);
        results.line(indent(describeError(error)));
      });
    } catch (error) {
      results.line(`the suites could not be loaded: ${describeError(error)}`);
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
