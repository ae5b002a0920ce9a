import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ReindexQueue } from '../../src/core/retrieval/reindexQueue';
import { RetrievalIndex } from '../../src/core/retrieval/retrievalIndex';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { assertNoStaleHits, sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { git, hasGit, writeTree } from '../fixtures/workspaceTree';

// The coherence replay: edits, deletes, renames and branch switches on a real git workspace,
// some announced by an event and some not (another tool's edit, a checkout), with queries after
// every step. No query may return a chunk its file no longer holds.

const queries = ['computeTotal invoice', 'parseHeader tokens', 'renderWidget colour', 'featureFlag rollout', 'legacyAdapter bridge', 'factor filler'];

describe('retrieval coherence replay', { skip: !hasGit && 'git is not installed' }, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let root: string;
  let storeDir: string;
  before(() => {
    temp = makeTempDir('context-ledger-retrieval-');
    root = path.join(temp.dir, 'work');
    storeDir = path.join(temp.dir, 'store');
    fs.mkdirSync(root);
    git(root, ['init', '-q', '-b', 'main']);
    writeTree(root, {
      'src/total.ts': sourceFile('computeTotal', 'sums the invoice lines'),
      'src/header.ts': sourceFile('parseHeader', 'splits the header into tokens'),
      'src/widget.ts': sourceFile('renderWidget', 'paints the widget in its colour'),
      'src/legacy.ts': sourceFile('legacyAdapter', 'the bridge to the old API'),
      'README.md': '# Demo\n\nA workspace for the coherence replay.\n',
    });
    git(root, ['add', '-A']);
    git(root, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'main']);
    git(root, ['checkout', '-q', '-b', 'feature']);
    writeTree(root, {
      'src/total.ts': sourceFile('computeTotal', 'sums the invoice lines with tax and rounding', 44),
      'src/flags.ts': sourceFile('featureFlag', 'rollout percentages per flag'),
      'src/widget.ts': sourceFile('renderWidget', 'paints the widget in its colour, now themed', 12),
    });
    fs.rmSync(path.join(root, 'src/legacy.ts'));
    git(root, ['add', '-A']);
    git(root, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'feature']);
    git(root, ['checkout', '-q', 'main']);
  });
  after(() => temp.remove());

  it('returns no stale chunk after edits, deletes, renames and 20 branch switches, with and without events, and the index does not grow', async () => {
    const sql = await loadSqlJs();
    const index = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), storeDir });
    const queue = new ReindexQueue(index, { debounceMs: 5 });
    let returned = 0;
    const check = (label: string) => {
      for (const query of queries) {
        const result = index.search(query, { limit: 8 });
        assert.equal(result.partial, false);
        returned += result.hits.length;
        assertNoStaleHits(root, result.hits, `${label} / ${query}`);
      }
    };
    try {
      await index.indexWorkspace();
      check('first index');
      const firstBytes = index.save();
      const write = (relative: string, content: string) => fs.writeFileSync(path.join(root, relative), content);

      // An edit with an event, then one by another tool with none.
      write('src/total.ts', sourceFile('computeTotal', 'sums the invoice lines twice', 20));
      queue.invalidate('src/total.ts');
      await queue.flush();
      check('edit with event');
      write('src/header.ts', sourceFile('parseHeader', 'splits the header into tokens and quotes', 25));
      check('edit without event');

      // A delete with no event: the hits of the file go away at read time.
      fs.rmSync(path.join(root, 'src/widget.ts'));
      check('delete without event');
      assert.ok(index.search('renderWidget colour').hits.every((hit) => hit.path !== 'src/widget.ts'));

      // A rename with events for both names, and one without.
      fs.renameSync(path.join(root, 'src/legacy.ts'), path.join(root, 'src/bridge.ts'));
      queue.invalidate('src/legacy.ts');
      queue.invalidate('src/bridge.ts');
      await queue.flush();
      check('rename with events');
      assert.ok(index.search('legacyAdapter bridge').hits.some((hit) => hit.path === 'src/bridge.ts'), 'the renamed file is found under its new name');
      fs.renameSync(path.join(root, 'README.md'), path.join(root, 'NOTES.md'));
      check('rename without event');

      // Same size, new content, mtime within the racy window: only the hash can tell.
      const header = fs.readFileSync(path.join(root, 'src/header.ts'), 'utf8');
      write('src/header.ts', header.replace('quotes', 'QUOTES'));
      check('same-size edit');

      git(root, ['checkout', '-q', '--', '.']);
      git(root, ['clean', '-q', '-fd']);
      await index.indexWorkspace();
      const baseBytes = index.save();

      // Twenty branch switches, no watcher event at all; every other one rescanned.
      for (let switchNumber = 1; switchNumber <= 20; switchNumber++) {
        git(root, ['checkout', '-q', switchNumber % 2 === 1 ? 'feature' : 'main']);
        check(`switch ${switchNumber}`);
        if (switchNumber % 2 === 0) {
          await index.indexWorkspace();
        }
      }
      await index.indexWorkspace();
      const finalBytes = index.save();
      const stats = index.stats();
      console.log(`coherence replay: ${returned} hits returned, 0 stale; ${stats.staleReadsPrevented} stale reads prevented at read time; index ${firstBytes} -> ${baseBytes} -> ${finalBytes} bytes after 20 branch switches`);
      assert.ok(stats.staleReadsPrevented > 0, 'the read-time check dropped stale hits (the steps without events needed it)');
      assert.ok(finalBytes <= 1.2 * firstBytes && baseBytes <= 1.2 * firstBytes, `index ${finalBytes} bytes after 20 switches, first ${firstBytes}`);
      assert.ok(returned > 50, 'the queries found something to check');
      const indexedChunks = stats.chunks;
      assert.ok(indexedChunks <= 40, `no chunk outlives every file that held it (${indexedChunks} chunks)`);
    } finally {
      queue.dispose();
      index.close();
    }
  });

  it('reopens the saved index and re-reads only what changed', async () => {
    const sql = await loadSqlJs();
    const first = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), storeDir });
    await first.indexWorkspace();
    first.save();
    first.close();
    fs.writeFileSync(path.join(root, 'src/total.ts'), sourceFile('computeTotal', 'sums the invoice lines after reopen', 21));
    const reopened = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), storeDir });
    try {
      assert.equal(reopened.stats().rebuiltBecause, null);
      assert.equal(reopened.complete, true);
      const progress = await reopened.indexWorkspace();
      assert.equal(progress.filesIndexed, 1, 'only the edited file is read again');
      assert.ok(progress.filesUnchanged >= 3);
      assertNoStaleHits(root, reopened.search('computeTotal invoice').hits, 'after reopen');
    } finally {
      reopened.close();
    }
  });

  it('rebuilds a damaged saved index and says why', async () => {
    const sql = await loadSqlJs();
    const file = path.join(storeDir, 'retrieval', 'index.sqlite');
    fs.writeFileSync(file, Buffer.from('not a database at all, just bytes'));
    const index = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), storeDir });
    try {
      assert.match(index.stats().rebuiltBecause ?? '', /damaged/);
      assert.equal(index.complete, false);
      assert.equal(index.search('computeTotal').partial, true, 'before the first scan a query says the index is partial');
      await index.indexWorkspace();
      assert.ok(index.search('computeTotal invoice').hits.length > 0);
    } finally {
      index.close();
    }
  });
});
