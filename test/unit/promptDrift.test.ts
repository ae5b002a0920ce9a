import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { applyFix, checkDrift } from '../../src/core/drift/checkDrift';
import type { DriftDiagnostic } from '../../src/core/drift/driftTypes';
import { RepositoryView } from '../../src/core/drift/repositoryView';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { makeTempDir } from '../fixtures/tempDir';

// Real prompt files (test/fixtures/drift/<repo>/README.md names each source and commit) with
// the parts of their repositories they name, checked as they are, then with drift injected.

const fixtures = path.resolve(__dirname, '../../../test/fixtures/drift');
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((remove) => remove()));

function copyFixture(name: string): string {
  const temp = makeTempDir('context-ledger-drift-');
  cleanups.push(temp.remove);
  fs.cpSync(path.join(fixtures, name), temp.dir, { recursive: true });
  return temp.dir;
}

async function check(folder: string): Promise<DriftDiagnostic[]> {
  return checkDrift({ repository: await RepositoryView.read(new WorkspaceFiles(folder)) });
}

function brief(diagnostics: readonly DriftDiagnostic[]): string[] {
  return diagnostics.map((diagnostic) => `${diagnostic.path}:${diagnostic.line} ${diagnostic.code}`);
}

function edit(folder: string, file: string, change: (text: string) => string): void {
  const target = path.join(folder, file);
  const before = fs.readFileSync(target, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the edit of ${file} changed nothing`);
  fs.writeFileSync(target, after);
}

function lineOf(folder: string, file: string, needle: string): number {
  const index = fs.readFileSync(path.join(folder, file), 'utf8').split('\n').findIndex((line) => line.includes(needle));
  assert.ok(index >= 0, `${needle} is not in ${file}`);
  return index + 1;
}

describe('prompt drift on real prompt files', () => {
  it('slack-tools CLAUDE.md (npm, package-lock.json) is clean', async () => {
    assert.deepEqual(brief(await check(copyFixture('slack-tools'))), []);
  });

  it('hashery AGENTS.md + CLAUDE.md (@AGENTS.md import) has one true drift: "Node.js >= 20" where engines.node is >=22.18', async () => {
    const folder = copyFixture('hashery');
    const diagnostics = await check(folder);
    assert.deepEqual(brief(diagnostics), ['AGENTS.md:7 runtime-version']);
    assert.match(diagnostics[0]!.message, /Node\.js >= 20.*engines\.node ">=22\.18".*22\.18 or later/);
    // Update the line, and the file agrees with the repository.
    edit(folder, 'AGENTS.md', (text) => applyFix(text, diagnostics[0]!));
    assert.match(fs.readFileSync(path.join(folder, 'AGENTS.md'), 'utf8'), /Node\.js >= 22\.18 is required/);
    assert.deepEqual(brief(await check(folder)), []);
  });

  it('yao-pkg CLAUDE.md + copilot-instructions.md: exactly its true drift (a removed test:20 script, Node.js 20 under engines >=22, lib/*.js that are .ts now)', async () => {
    const folder = copyFixture('yao-pkg');
    const diagnostics = await check(folder);
    const copilot = '.github/copilot-instructions.md';
    assert.deepEqual(brief(diagnostics), [
      `${copilot}:118 missing-script`,
      `${copilot}:118 runtime-version`,
      `${copilot}:176 missing-path`,
      `${copilot}:177 missing-path`,
      `${copilot}:280 runtime-version`,
      `${copilot}:281 runtime-version`,
      `${copilot}:299 runtime-version`,
    ]);
    const script = diagnostics[0]!;
    assert.equal(script.fix?.newText, 'test:22');
    assert.equal(diagnostics[2]!.fix?.newText, 'lib/index.ts');
    // Its prose negations are not claims: "`npm` is only used in `docs-site/`", "Do not create a root `package-lock.json`", "uses `yarn`, not `npm`".
    assert.ok(!diagnostics.some((diagnostic) => diagnostic.code === 'package-manager' || diagnostic.path === 'CLAUDE.md'));
  });
});

describe('prompt drift injected into real prompt files', () => {
  it('a renamed script is found, and the fix names the new one', async () => {
    const folder = copyFixture('slack-tools');
    edit(folder, 'package.json', (text) => text.replace('"typecheck":', '"type-check":').replace('typecheck audit', 'type-check audit'));
    const diagnostics = await check(folder);
    const line = lineOf(folder, 'CLAUDE.md', '`npm run typecheck`');
    assert.deepEqual(brief(diagnostics), [`CLAUDE.md:${line} missing-script`]);
    assert.equal(diagnostics[0]!.fix?.newText, 'type-check');
    edit(folder, 'CLAUDE.md', (text) => applyFix(text, diagnostics[0]!));
    assert.deepEqual(brief(await check(folder)), []);
  });

  it('a swapped lockfile (package-lock.json → pnpm-lock.yaml) flags every npm command, with the pnpm command as the fix', async () => {
    const folder = copyFixture('slack-tools');
    fs.renameSync(path.join(folder, 'package-lock.json'), path.join(folder, 'pnpm-lock.yaml'));
    const diagnostics = await check(folder);
    const npmCommands = fs.readFileSync(path.join(folder, 'CLAUDE.md'), 'utf8').match(/`npm run [^`]*`/g)!.length;
    assert.equal(diagnostics.length, npmCommands);
    assert.ok(diagnostics.every((diagnostic) => diagnostic.code === 'package-manager' && /says npm, but the repository uses pnpm \(pnpm-lock\.yaml\)/.test(diagnostic.message)));
    assert.deepEqual([...new Set(diagnostics.map((diagnostic) => diagnostic.fix?.newText))], ['pnpm run']);
    let text = fs.readFileSync(path.join(folder, 'CLAUDE.md'), 'utf8');
    // Fixes on one line shift each other's columns: apply from the right.
    for (const diagnostic of [...diagnostics].sort((a, b) => b.line - a.line || (b.fix?.start ?? 0) - (a.fix?.start ?? 0))) {
      text = applyFix(text, diagnostic);
    }
    fs.writeFileSync(path.join(folder, 'CLAUDE.md'), text);
    assert.deepEqual(brief(await check(folder)), []);
  });

  it('a deleted path is found (hashery test/, yao-pkg prelude/bootstrap.js)', async () => {
    const hashery = copyFixture('hashery');
    fs.rmSync(path.join(hashery, 'test'), { recursive: true });
    assert.deepEqual(brief(await check(hashery)), ['AGENTS.md:7 runtime-version', 'AGENTS.md:8 missing-path']);
    const pkg = copyFixture('yao-pkg');
    fs.rmSync(path.join(pkg, 'prelude', 'bootstrap.js'));
    const found = (await check(pkg)).filter((diagnostic) => diagnostic.code === 'missing-path' && /prelude\/bootstrap\.js/.test(diagnostic.message));
    assert.deepEqual(brief(found), [`.github/copilot-instructions.md:${lineOf(pkg, '.github/copilot-instructions.md', '`prelude/bootstrap.js`')} missing-path`]);
  });

  it('a contradiction between two prompt files (AGENTS.md says pnpm, CLAUDE.md says npm)', async () => {
    const folder = copyFixture('hashery');
    edit(folder, 'CLAUDE.md', (text) => `${text}\n\nInstall dependencies with \`npm install\`.\n`);
    const diagnostics = await check(folder);
    const line = lineOf(folder, 'CLAUDE.md', 'npm install');
    assert.deepEqual(brief(diagnostics), ['AGENTS.md:3 cross-file-contradiction', 'AGENTS.md:7 runtime-version', `CLAUDE.md:${line} package-manager`, `CLAUDE.md:${line} cross-file-contradiction`]);
    assert.match(diagnostics.find((diagnostic) => diagnostic.path === 'CLAUDE.md' && diagnostic.code === 'cross-file-contradiction')!.message, /CLAUDE\.md says npm, but AGENTS\.md says pnpm/);
    assert.equal(diagnostics.find((diagnostic) => diagnostic.code === 'package-manager')!.fix?.newText, 'pnpm install');
  });

  // The five lines of 30 characters or more; "Node.js >= 20 is required." is too short to count.
  it('instructions copied from one prompt file into another are reported once per pair', async () => {
    const folder = copyFixture('hashery');
    fs.writeFileSync(path.join(folder, 'CLAUDE.md'), fs.readFileSync(path.join(folder, 'AGENTS.md'), 'utf8'));
    const duplicates = (await check(folder)).filter((diagnostic) => diagnostic.code === 'duplicate-instructions');
    assert.deepEqual(brief(duplicates), ['CLAUDE.md:3 duplicate-instructions']);
    assert.match(duplicates[0]!.message, /repeats 5 lines of AGENTS\.md/);
  });

  it('a make target the Makefile lacks, a Makefile that is missing, and a Node.js version .nvmrc contradicts', async () => {
    const folder = copyFixture('slack-tools');
    edit(folder, 'CLAUDE.md', (text) => `${text}\n- Release: \`make release\`, then \`make publish\`.\n- Needs Node.js 20 or later.\n`);
    let diagnostics = await check(folder);
    const release = lineOf(folder, 'CLAUDE.md', 'make release');
    assert.deepEqual(brief(diagnostics), [`CLAUDE.md:${release} missing-make-target`, `CLAUDE.md:${release} missing-make-target`]);
    assert.match(diagnostics[0]!.message, /there is no Makefile/);
    fs.writeFileSync(path.join(folder, 'Makefile'), '.PHONY: release\nVERSION := 1\nrelease: build\n\tnpm publish\n');
    fs.writeFileSync(path.join(folder, '.nvmrc'), 'v18.20.1\n');
    diagnostics = await check(folder);
    assert.deepEqual(brief(diagnostics), [`CLAUDE.md:${release} missing-make-target`, `CLAUDE.md:${release + 1} runtime-version`]);
    assert.match(diagnostics[0]!.message, /Makefile has no target "publish"/);
    assert.match(diagnostics[1]!.message, /\.nvmrc pins Node\.js 18/);
  });
});
