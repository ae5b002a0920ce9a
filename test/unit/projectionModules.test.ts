import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database, Statement } from 'sql.js';
import { nodeFileSystem } from '../../src/core/fs/fileSystem';
import { Ledger } from '../../src/core/ledger';
import type { StoredEvent } from '../../src/core/log/events';
import { Journal } from '../../src/core/log/journal';
import { EventReader } from '../../src/core/store/eventReader';
import type { ProjectionModule } from '../../src/core/store/modules/projectionModule';
import { SessionsModule } from '../../src/core/store/modules/sessionsModule';
import { StoreProjections } from '../../src/core/store/projection';
import { migrate } from '../../src/core/store/schema';
import { listSnapshots } from '../../src/core/store/snapshots';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { makeTempDir } from '../fixtures/tempDir';

/** A read model a later version might add: counts user messages per session. */
class QuestionCountModule implements ProjectionModule {
  readonly name = 'questions';
  readonly migrations = [{ version: 1, description: 'questions', sql: 'CREATE TABLE questions (session_id TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID' }];
  private upsert: Statement | undefined;
  open(db: Database): void {
    this.upsert = db.prepare('INSERT INTO questions (session_id, count) VALUES (?, 1) ON CONFLICT (session_id) DO UPDATE SET count = count + 1');
  }
  apply(event: StoredEvent): void {
    if (event.kind === 'message.user') {
      this.upsert!.run([event.sessionId]);
    }
  }
  rolledBack(): void {}
  digest(db: Database): string {
    return JSON.stringify(db.exec('SELECT * FROM questions ORDER BY session_id')[0]?.values ?? []);
  }
  close(): void {
    this.upsert?.free();
  }
}

const counts = (db: Database): Array<[string, number]> => (db.exec('SELECT session_id, count FROM questions ORDER BY session_id')[0]?.values ?? []).map(([id, count]) => [String(id), Number(count)]);

// Two versions on one store: an older one (Sessions only) and a newer one that adds a module.
describe('projection modules across versions', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.remove());

  async function snapshotDb(storeDir: string): Promise<Database> {
    const sql = await loadSqlJs();
    const newest = listSnapshots(nodeFileSystem, path.join(storeDir, 'snapshots'))[0]!;
    const db = new sql.Database(fs.readFileSync(path.join(storeDir, 'snapshots', newest.name)));
    migrate(db);
    return db;
  }

  it('a version that introduces a module fills it from the stored events; an older version keeps using the snapshot; the newer one catches up from its coverage', async () => {
    const ledger = await Ledger.open({ storeDir: temp.dir, snapshotEveryEvents: 0 });
    await ledger.append([{ kind: 'session.started', sessionId: 'a', body: { name: 'a' } }, { kind: 'session.started', sessionId: 'b', body: { name: 'b' } }]);
    await ledger.append([1, 2, 3].map((i) => ({ kind: 'message.user', sessionId: 'a', body: { text: `a${i}` } })));
    await ledger.append([{ kind: 'message.user', sessionId: 'b', body: { text: 'b1' } }, { kind: 'message.assistant', sessionId: 'b', body: { text: 'answer' } }]);
    assert.equal(ledger.snapshot().written, true); // written by the older version: no questions table
    const reader = new EventReader(new Journal(nodeFileSystem, path.join(temp.dir, 'journal')));

    // The newer version opens the older snapshot: the module is new to the store and is filled.
    const newer = await snapshotDb(temp.dir);
    const newerProjections = new StoreProjections(newer, [new SessionsModule(), new QuestionCountModule()], reader);
    assert.deepEqual(newerProjections.backfills, [{ module: 'questions', fromSeq: 0, events: 7 }]);
    assert.deepEqual(counts(newer), [['a', 3], ['b', 1]]);
    newerProjections.recordCoverage({ segment: 1, offset: fs.statSync(path.join(temp.dir, 'journal', Journal.segmentFileName(1))).size }, '');
    const newerSnapshot = newer.export();
    newerProjections.dispose();
    newer.close();

    // The older version (the real Ledger, Sessions only) opens a snapshot with the newer module's
    // tables: it uses it, numbers new events as before, and leaves those tables alone.
    const sql = await loadSqlJs();
    const older = new sql.Database(newerSnapshot);
    const olderProjections = new StoreProjections(older, [new SessionsModule()], reader);
    assert.deepEqual(olderProjections.backfills, []);
    const seqBefore = olderProjections.lastSeq;
    assert.equal(seqBefore, ledger.lastSeq, 'the two versions number the same journal alike');
    const [appended] = await ledger.append([{ kind: 'message.user', sessionId: 'a', body: { text: 'a4' } }]);
    ledger.close();
    // The older version reads the new record as a Ledger does, and snapshots its database.
    const journal = new Journal(nodeFileSystem, path.join(temp.dir, 'journal'));
    const read = journal.readFrom({ segment: 1, offset: Number(older.exec("SELECT value FROM meta WHERE key = 'journalOffset'")[0]?.values[0]?.[0]) });
    olderProjections.beginBatch();
    const outcomes = read.records.map((record) => olderProjections.apply(record));
    olderProjections.commit();
    assert.deepEqual(outcomes.map((outcome) => outcome.seq), [appended?.status === 'appended' ? appended.seq : -1], 'the older version numbers the new event as the newer one did');
    olderProjections.recordCoverage(read.position, '');
    const olderSnapshot = older.export();
    olderProjections.dispose();
    older.close();
    journal.close();

    // The newer version opens the older version's snapshot: its module's tables were left as they
    // were, with their coverage, so it is behind by one event and catches up from there.
    const again = new sql.Database(olderSnapshot);
    const againProjections = new StoreProjections(again, [new SessionsModule(), new QuestionCountModule()], reader);
    assert.deepEqual(againProjections.backfills, [{ module: 'questions', fromSeq: seqBefore, events: 1 }]);
    assert.deepEqual(counts(again), [['a', 4], ['b', 1]]);
    againProjections.dispose();
    again.close();
  });
});
