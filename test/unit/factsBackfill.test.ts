import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FactQueries } from '../../src/core/facts/factQueries';
import { FactsStore } from '../../src/core/facts/factsStore';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { Ledger } from '../../src/core/ledger';
import { Journal } from '../../src/core/log/journal';
import { EventReader } from '../../src/core/store/eventReader';
import { FactsModule } from '../../src/core/store/modules/factsModule';
import { SessionsModule } from '../../src/core/store/modules/sessionsModule';
import { StoreProjections } from '../../src/core/store/projection';
import { migrate } from '../../src/core/store/schema';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { makeTempDir } from '../fixtures/tempDir';

describe('the facts read model on a store from a version without it', () => {
  it('is filled from the stored fact events at open and matches the live one', async () => {
    const temp = makeTempDir();
    try {
      const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
      const facts = new FactsStore(ledger);
      await facts.add({ key: 'a', value: '1' });
      await Promise.all([facts.add({ key: 'b', value: 'x' }), facts.add({ key: 'b', value: 'y' })]);
      const proposal = await facts.propose({ key: 'c', value: 'z', trust: 'extracted-file' });
      await facts.confirm(proposal.proposalId);
      await facts.add({ key: 'a', value: '2' });
      const live = { list: facts.list(), history: facts.queries.history('a'), proposals: facts.queries.proposals() };
      ledger.close();

      // An older version's projections (Sessions only), replayed from the journal.
      const sql = await loadSqlJs();
      const db = new sql.Database();
      migrate(db);
      const journal = new Journal(nodeFileSystem, path.join(temp.dir, 'journal'));
      const reader = new EventReader(journal);
      const older = new StoreProjections(db, [new SessionsModule()], reader);
      const read = journal.readFrom({ segment: journal.firstSegment(), offset: 0 });
      older.beginBatch();
      read.records.forEach((record) => older.apply(record));
      older.commit();
      older.recordCoverage(read.position, '');
      older.dispose();

      const newer = new StoreProjections(db, [new SessionsModule(), new FactsModule()], reader);
      assert.equal(newer.backfills.length, 1);
      assert.equal(newer.backfills[0]!.module, 'facts');
      const queries = new FactQueries(db);
      assert.deepEqual({ list: queries.list(), history: queries.history('a'), proposals: queries.proposals() }, live);
      assert.equal(queries.get('b')!.state, 'conflicted');
      newer.dispose();
      db.close();
      journal.close();
    } finally {
      temp.remove();
    }
  });
});
