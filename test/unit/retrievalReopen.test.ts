import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { IndexProgress } from '../../src/core/retrieval/retrievalTypes';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { RetrievalService } from '../../src/server/retrievalService';
import { assertNoStaleHits, sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';

// The engine's retrieval service across engine starts: a reopened workspace reuses the saved
// index and reads only what changed (so the extension has no progress to show), and a scan
// cancelled midway keeps what it indexed, answers as partial, and the next scan finishes it.

const configuration = { excludeGlobs: [], maxFileBytes: 512 * 1024 };
const fileCount = 600;

describe('retrieval service: reopen and cancel', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let workspace: string;
  let store: string;
  const services: RetrievalService[] = [];

  function service(onProgress: (progress: IndexProgress) => void = () => undefined): RetrievalService {
    const started = new RetrievalService({
      engine: () => ({ storeDir: store, wasmPath: require.resolve('sql.js/dist/sql-wasm.wasm'), snapshotEveryEvents: 1000, workspaceFolder: workspace }),
      onProgress,
      log: () => undefined,
    });
    services.push(started);
    return started;
  }

  beforeEach(() => {
    temp = makeTempDir('context-ledger-retrieval-reopen-');
    workspace = path.join(temp.dir, 'workspace');
    store = path.join(temp.dir, 'store');
    fs.mkdirSync(path.join(workspace, 'src'), { recursive: true });
    fs.mkdirSync(store);
    for (let file = 0; file < fileCount; file++) {
      fs.writeFileSync(path.join(workspace, 'src', `module${file}.ts`), sourceFile(`moduleFunction${file}`, `marker${file} of the reopen test`));
    }
  });
  afterEach(() => {
    services.splice(0).forEach((started) => started.dispose());
    temp.remove();
  });

  it('reuses the saved index at the next engine start and reads only the files that changed', async () => {
    const first = await service().runIndex({ configuration });
    assert.equal(first.progress.filesIndexed, fileCount);
    services.pop()!.dispose();

    fs.writeFileSync(path.join(workspace, 'src', 'module7.ts'), sourceFile('moduleFunction7', 'changedWhileClosed'));
    fs.rmSync(path.join(workspace, 'src', 'module8.ts'));
    const reopened = service();
    const second = await reopened.runIndex({ configuration });
    assert.equal(second.stats.rebuiltBecause, null, 'the saved index was reused');
    assert.equal(second.progress.filesIndexed, 1, 'only the edited file is read again');
    assert.equal(second.progress.filesUnchanged, fileCount - 2);
    assert.equal(second.stats.files, fileCount - 1);
    const hits = (await reopened.search({ query: 'changedWhileClosed' })).hits;
    assert.equal(hits[0]?.path, 'src/module7.ts');
    assertNoStaleHits(workspace, hits, 'after the reopen');
    assert.ok(!(await reopened.search({ query: 'marker8' })).hits.some((hit) => hit.path === 'src/module8.ts'), 'the deleted file is gone');
  });

  it('opens from the saved copy of the term index, and derives it from the chunks when that copy is damaged', async () => {
    const first = service();
    await first.runIndex({ configuration });
    const expected = (await first.search({ query: 'moduleFunction42 marker42' })).hits.map((hit) => `${hit.path}:${hit.startLine}`);
    services.pop()!.dispose();
    assert.equal(expected[0], 'src/module42.ts:1');

    const reopened = service();
    assert.deepEqual((await reopened.search({ query: 'moduleFunction42 marker42' })).hits.map((hit) => `${hit.path}:${hit.startLine}`), expected, 'from the saved copy');
    services.pop()!.dispose();

    // Damage the copy (its postings cut short): it is ignored, not trusted.
    const file = path.join(store, 'retrieval', 'index.sqlite');
    const sql = await loadSqlJs();
    const db = new sql.Database(fs.readFileSync(file));
    db.run("UPDATE term_index SET postings = substr(postings, 1, 40) WHERE name = 'chunks'");
    fs.writeFileSync(file, db.export());
    db.close();
    const rederived = service();
    assert.deepEqual((await rederived.search({ query: 'moduleFunction42 marker42' })).hits.map((hit) => `${hit.path}:${hit.startLine}`), expected, 'derived from the chunks');
  });

  it('stops a cancelled scan, keeps what it indexed, answers as partial, and finishes on the next scan', async () => {
    const controller = new AbortController();
    const running = service((progress) => {
      if (progress.filesIndexed >= 64) {
        controller.abort();
      }
    });
    const cancelled = await running.runIndex({ configuration }, controller.signal);
    assert.equal(cancelled.cancelled, true);
    assert.ok(cancelled.stats.files >= 64 && cancelled.stats.files < fileCount, `${cancelled.stats.files} files indexed before the cancel`);
    assert.equal(cancelled.stats.complete, false);
    // Batches are written as they are ready (the scan's two threads), not strictly in walk order:
    // find a file the cancelled scan wrote, then ask for it by name.
    const written = (await running.search({ query: 'of the reopen test' })).hits[0]?.path ?? '';
    const number = /module(\d+)\.ts$/.exec(written)?.[1];
    assert.ok(number !== undefined, `a file was written before the cancel (${written})`);
    const partial = await running.search({ query: `moduleFunction${number} marker${number}` });
    assert.equal(partial.partial, true);
    assert.equal(partial.hits[0]?.path, `src/module${number}.ts`);

    const resumed = await running.runIndex({ configuration });
    assert.equal(resumed.cancelled, false);
    assert.equal(resumed.stats.files, fileCount);
    assert.equal(resumed.progress.filesIndexed, fileCount - cancelled.stats.files, 'the files indexed before the cancel are not read again');
    assert.equal((await running.search({ query: 'marker599' })).partial, false);
  });
});
