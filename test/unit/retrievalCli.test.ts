import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runCliProcess } from '../fixtures/cliRunner';
import { sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { writeTree } from '../fixtures/workspaceTree';

// `index FOLDER` and `search "query" [--json]` as a user runs them: real processes, real files.

describe('context-ledger index and search', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  let folder: string;
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
    folder = path.join(temp.dir, 'work');
    writeTree(folder, {
      'src/invoice.ts': sourceFile('computeInvoiceTotal', 'adds the invoice lines'),
      'src/header.ts': sourceFile('parseHeader', 'splits a header'),
      '.env': 'SECRET=canaryCliEnvZq11\n',
    });
  });
  afterEach(() => temp.remove());

  it('indexes a folder, then prints hits as JSON after the read-time check', () => {
    const indexed = runCliProcess(store, ['index', folder]);
    assert.equal(indexed.code, 0, indexed.stderr);
    assert.match(indexed.stdout, /indexed .*: 2 files \(2 read, 0 unchanged since the saved index\)/);
    assert.ok(fs.existsSync(path.join(store, 'retrieval', 'index.sqlite')));

    const searched = runCliProcess(store, ['search', 'invoice total', '--json']);
    assert.equal(searched.code, 0, searched.stderr);
    const hits = JSON.parse(searched.stdout) as Array<{ path: string; startLine: number; endLine: number; text: string; score: number }>;
    assert.equal(hits[0]?.path, 'src/invoice.ts');
    assert.deepEqual(Object.keys(hits[0] ?? {}).sort(), ['endLine', 'path', 'score', 'startLine', 'text']);
    assert.ok(hits[0]?.text.includes('computeInvoiceTotal'));

    // Edited with no index run in between: search re-checks the file and shows what it holds now.
    fs.writeFileSync(path.join(folder, 'src/invoice.ts'), sourceFile('computeInvoiceTotal', 'adds the invoice lines and the freshly edited tax', 5));
    const again = JSON.parse(runCliProcess(store, ['search', 'invoice total', '--json']).stdout) as Array<{ text: string }>;
    assert.ok(again[0]!.text.includes('freshly edited tax'));
    assert.ok(!runCliProcess(store, ['search', 'canaryCliEnvZq11', '--json']).stdout.includes('canaryCliEnvZq11'));

    const reindexed = runCliProcess(store, ['index', folder]);
    assert.match(reindexed.stdout, /2 files \(0 read, 2 unchanged since the saved index\)/);
  });

  it('says what to do without an index, and refuses a missing folder or query', () => {
    const none = runCliProcess(store, ['search', 'anything']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no retrieval index in .*: run `context-ledger --store .* index FOLDER` first/);
    assert.equal(runCliProcess(store, ['index']).code, 2);
    assert.equal(runCliProcess(store, ['index', path.join(temp.dir, 'missing')]).code, 2);
    assert.equal(runCliProcess(store, ['search']).code, 2);
  });
});
