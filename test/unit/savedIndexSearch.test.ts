import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SqlJsStatic } from 'sql.js';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { SavedIndexSearch } from '../../src/core/mcp/memoryTools';
import { RetrievalIndex } from '../../src/core/retrieval/retrievalIndex';
import type { RetrievalSearchResult } from '../../src/core/retrieval/retrievalTypes';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { makeTempDir } from '../fixtures/tempDir';

// The MCP server keeps the store's saved index open between calls, and opens it again only
// when another writer (VS Code's engine re-indexing) saved the file since.
describe('the MCP server searches the saved index', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let workspace: string;
  let store: string;
  let sql: SqlJsStatic;
  let saved: SavedIndexSearch;

  beforeEach(async () => {
    temp = makeTempDir('context-ledger-saved-index-');
    workspace = path.join(temp.dir, 'workspace');
    store = path.join(temp.dir, 'store');
    fs.mkdirSync(workspace);
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(workspace, 'billing.ts'), 'export function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n');
    sql = await loadSqlJs();
    saved = new SavedIndexSearch({ storeDir: store, fs: nodeFileSystem, sql });
  });
  afterEach(() => {
    saved.dispose();
    temp.remove();
  });

  /** What VS Code's engine does: open the store's index, index the folder, save, close. */
  async function engineIndexes(): Promise<void> {
    const index = RetrievalIndex.open({ sql, fs: nodeFileSystem, workspace: new WorkspaceFiles(workspace), storeDir: store });
    try {
      await index.indexWorkspace();
      index.save();
    } finally {
      index.close();
    }
  }
  const paths = (result: RetrievalSearchResult | string) => (typeof result === 'string' ? [result] : result.hits.map((hit) => hit.path));

  it('says there is nothing to search before any index exists, then finds what the engine saved', async () => {
    assert.match(paths(await saved.search('invoice', 5))[0] ?? '', /no retrieval index in this store/);
    await engineIndexes();
    assert.deepEqual(paths(await saved.search('computeInvoiceTotal', 5)), ['billing.ts']);
  });

  it('opens the index once for many calls, and again after another writer saved it', async () => {
    await engineIndexes();
    for (let call = 0; call < 5; call++) {
      assert.deepEqual(paths(await saved.search('computeInvoiceTotal', 5)), ['billing.ts']);
    }
    assert.equal(saved.openCount, 1);

    // A new file the engine indexes and saves: the next call sees it (the read-time check alone
    // would not find a file the open index never had).
    fs.writeFileSync(path.join(workspace, 'shipping.ts'), 'export function estimateShippingWindow(days: number): string {\n  return `${days} days`;\n}\n');
    await engineIndexes();
    assert.deepEqual(paths(await saved.search('estimateShippingWindow', 5)), ['shipping.ts']);
    assert.equal(saved.openCount, 2);
  });
});
