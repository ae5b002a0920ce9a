import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';

// The snapshot code relies on how sql.js's export() behaves; pin it, so an upgrade that changes
// it fails here rather than in a user's store. (Older sql.js closed and reopened the database in
// export(), dropping prepared statements and PRAGMAs; 1.16 uses SQLite's backup API.)
describe('sql.js export()', () => {
  it('keeps prepared statements and PRAGMAs, and refuses to run inside a transaction', async () => {
    const sql = await loadSqlJs();
    const db = new sql.Database();
    try {
      db.exec('PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE t (a); INSERT INTO t VALUES (1)');
      const count = db.prepare('SELECT COUNT(*) FROM t');
      const bytes = db.export();
      assert.ok(bytes.length > 0);
      assert.equal(count.step(), true);
      assert.deepEqual(count.get(), [1]);
      count.free();
      assert.equal(db.exec('PRAGMA journal_mode')[0]?.values[0]?.[0], 'memory');
      db.exec('BEGIN; INSERT INTO t VALUES (2)');
      assert.throws(() => db.export(), /busy or locked|transaction/i);
      db.exec('COMMIT');
      const copy = new sql.Database(db.export());
      assert.equal(copy.exec('SELECT COUNT(*) FROM t')[0]?.values[0]?.[0], 2);
      copy.close();
    } finally {
      db.close();
    }
  });
});
