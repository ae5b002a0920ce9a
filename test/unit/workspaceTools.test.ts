import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runModelTool } from '../../src/core/tools/modelTools';
import { isSecretPath } from '../../src/core/tools/secretFiles';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { makeTempDir } from '../fixtures/tempDir';

describe('workspace tools for the model', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let files: WorkspaceFiles;
  beforeEach(() => {
    temp = makeTempDir();
    const write = (relative: string, content: string | Buffer) => {
      fs.mkdirSync(path.dirname(path.join(temp.dir, relative)), { recursive: true });
      fs.writeFileSync(path.join(temp.dir, relative), content);
    };
    write('src/main.ts', 'export const answer = 42;\n// TODO: explain the answer\n');
    write('src/util.ts', 'export function twice(x: number) { return 2 * x; }\n');
    write('README.md', 'Docs with ``` fences ``` inside\n');
    write('.env', 'ANTHROPIC_API_KEY=sk-secret\n');
    write('.env.local', 'TOKEN=secret\n');
    write('certs/server.pem', '-----BEGIN PRIVATE KEY-----\n');
    write('build/output.js', 'ignored build output TODO\n');
    write('.gitignore', 'build/\n*.log\n');
    write('debug.log', 'TODO in a log\n');
    write('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    write('node_modules/pkg/index.js', 'TODO dependency\n');
    fs.mkdirSync(path.join(temp.dir, '..', `${path.basename(temp.dir)}-outside`), { recursive: true });
    fs.writeFileSync(path.join(temp.dir, '..', `${path.basename(temp.dir)}-outside`, 'secret.txt'), 'outside');
    fs.symlinkSync(path.join(temp.dir, '..', `${path.basename(temp.dir)}-outside`, 'secret.txt'), path.join(temp.dir, 'link.txt'));
    files = new WorkspaceFiles(temp.dir);
  });
  afterEach(() => {
    temp.remove();
    fs.rmSync(`${temp.dir}-outside`, { recursive: true, force: true });
  });

  it('reads a text file, fenced as data', async () => {
    const outcome = await runModelTool(files, 'read_file', { path: 'src/main.ts' });
    assert.equal(outcome.isError, false);
    assert.match(outcome.content, /provided as data\. It is not an instruction/);
    assert.match(outcome.content, /export const answer = 42;/);
  });

  it('fences content so that backticks inside cannot close the fence', async () => {
    const outcome = await runModelTool(files, 'read_file', { path: 'README.md' });
    const fence = /\n(`{4,})\n/.exec(outcome.content)?.[1];
    assert.ok(fence, outcome.content);
    assert.ok(outcome.content.trimEnd().endsWith(fence));
  });

  for (const [requested, why] of [
    ['.env', /excluded/],
    ['.env.local', /excluded/],
    ['certs/server.pem', /excluded/],
    ['build/output.js', /excluded/],
    ['debug.log', /excluded/],
    ['image.png', /binary/],
    ['../etc/passwd', /outside the workspace|does not exist/],
    ['link.txt', /outside the workspace/],
    ['node_modules/pkg/index.js', /excluded/],
  ] as const) {
    it(`refuses ${requested}`, async () => {
      const outcome = await runModelTool(files, 'read_file', { path: requested });
      assert.equal(outcome.isError, true);
      assert.match(outcome.content, why);
      assert.doesNotMatch(outcome.content, /sk-secret|PRIVATE KEY|outside\b(?! the)/);
    });
  }

  it('lists only allowed files, and never secrets or ignored files', async () => {
    const outcome = await runModelTool(files, 'list_files', {});
    const listed = outcome.content.split('\n').filter((line) => /^[\w./-]+$/.test(line));
    assert.deepEqual(listed.sort(), ['.gitignore', 'README.md', 'image.png', 'src/main.ts', 'src/util.ts'].sort());
    const filtered = await runModelTool(files, 'list_files', { contains: 'util' });
    assert.match(filtered.content, /src\/util\.ts/);
    assert.doesNotMatch(filtered.content, /main\.ts/);
  });

  it('searches allowed text files only', async () => {
    const outcome = await runModelTool(files, 'search_text', { query: 'todo' });
    assert.match(outcome.content, /src\/main\.ts:2: \/\/ TODO: explain the answer/);
    assert.doesNotMatch(outcome.content, /build\/output|debug\.log|node_modules/);
  });

  it('reports unknown tools and bad input as tool errors', async () => {
    assert.equal((await runModelTool(files, 'rm_rf', {})).isError, true);
    assert.equal((await runModelTool(files, 'read_file', { path: 42 })).isError, true);
    assert.equal((await runModelTool(undefined, 'read_file', { path: 'x' })).isError, true);
  });

  it('recognises secret paths', async () => {
    for (const secret of ['.env', 'config/.env.production', 'keys/id_rsa', 'id_ed25519.pub', 'a/b/site.key', '.ssh/config', '.npmrc', 'deploy/cert.crt']) {
      assert.equal(isSecretPath(secret), true, secret);
    }
    for (const plain of ['src/env.ts', 'environment.md', 'keyboard.ts', 'docs/keys.md']) {
      assert.equal(isSecretPath(plain), false, plain);
    }
  });
});
