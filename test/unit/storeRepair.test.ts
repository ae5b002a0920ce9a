import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { StoreAccessError } from '../../src/core/store/storeManifest';
import { jsonLines, runCliProcess } from '../fixtures/cliRunner';
import { makeTempDir } from '../fixtures/tempDir';

// Issue 10 §1: a store.json deleted or damaged next to an intact journal is never silently
// replaced (that would give the records a new store id); open refuses and names `repair`.

const events = [
  { kind: 'session.started', sessionId: 's1', body: { name: 'Kept through repair' } },
  { kind: 'message.user', sessionId: 's1', body: { text: 'first' } },
  { kind: 'message.assistant', sessionId: 's1', body: { text: 'second' } },
];

describe('store.json missing or damaged', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  let manifestFile: string;
  let storeId: string;
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
    manifestFile = path.join(store, 'store.json');
    assert.equal(runCliProcess(store, ['append'], jsonLines(events)).code, 0);
    storeId = (JSON.parse(runCliProcess(store, ['stats', '--json']).stdout) as { storeId: string }).storeId;
  });
  afterEach(() => temp.remove());

  function withSnapshot(): void {
    const snapshot = runCliProcess(store, ['snapshot']);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    assert.match(snapshot.stdout, /snapshot .* written/);
  }

  function assertRefused(reason: RegExp): void {
    const journal = fs.readFileSync(path.join(store, 'journal', '0000000001.log'));
    for (const args of [['sessions'], ['append']]) {
      const result = runCliProcess(store, args, jsonLines([{ kind: 'message.user', sessionId: 's1', body: { text: 'refused' } }]));
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /Run `context-ledger --store \S+ repair`/);
      assert.match(result.stderr, /nothing was changed/);
    }
    assert.deepEqual(fs.readFileSync(path.join(store, 'journal', '0000000001.log')), journal, 'the journal changed');
  }

  function assertOpensWith(expectedId: string): void {
    const stats = JSON.parse(runCliProcess(store, ['stats', '--json']).stdout) as { storeId: string; eventCount: number };
    assert.equal(stats.storeId, expectedId);
    assert.equal(stats.eventCount, events.length);
    assert.equal(runCliProcess(store, ['verify']).code, 0);
  }

  it('missing next to a journal: open refuses (and creates none); repair keeps the id a snapshot recorded', async () => {
    withSnapshot();
    fs.unlinkSync(manifestFile);
    assertRefused(/has a journal \(\d+ bytes in 1 segment\(s\)\) and 1 snapshot\(s\), but its store\.json is missing/);
    assert.equal(fs.existsSync(manifestFile), false, 'store.json was recreated');
    await assert.rejects(Ledger.open({ storeDir: store }), StoreAccessError);
    assert.equal(fs.existsSync(manifestFile), false);

    const repair = runCliProcess(store, ['repair']);
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, /^store\.json was missing\n/);
    assert.match(repair.stdout, new RegExp(`keeping the store id ${storeId} \\(recovered from snapshot snapshot-\\d+-(crc)?[0-9a-f]+(\\.layout\\d+)?\\.sqlite\\)`));
    assert.match(repair.stdout, /the store opens: 3 events in 1 session/);
    assertOpensWith(storeId);
    assert.match(runCliProcess(store, ['repair']).stdout, new RegExp(`store\\.json is intact \\(store id ${storeId}\\); nothing to repair`));
  });

  it('missing, with no snapshot to recover the id from: repair writes a new id and says so', () => {
    fs.unlinkSync(manifestFile);
    assertRefused(/store\.json is missing/);
    const repair = runCliProcess(store, ['repair']);
    assert.equal(repair.code, 0, repair.stderr);
    const newId = /NEW store id ([0-9a-f]+): the old id could not be recovered/.exec(repair.stdout)?.[1];
    assert.ok(newId, repair.stdout);
    assert.notEqual(newId, storeId);
    assertOpensWith(newId);
  });

  it('a truncated store.json: open refuses; repair moves it aside and keeps the id it still holds', () => {
    const original = fs.readFileSync(manifestFile, 'utf8');
    const damaged = original.slice(0, original.indexOf('"createdMs"'));
    fs.writeFileSync(manifestFile, damaged);
    assertRefused(/store\.json is damaged \(it is not valid JSON\)/);
    const repair = runCliProcess(store, ['repair']);
    assert.equal(repair.code, 0, repair.stderr);
    const movedAside = /^store\.json was damaged \(it is not valid JSON\); moved it aside to (store\.json\.damaged-\S+)\n/.exec(repair.stdout)?.[1];
    assert.ok(movedAside, repair.stdout);
    assert.equal(fs.readFileSync(path.join(store, movedAside), 'utf8'), damaged, 'the damaged bytes were not kept');
    assert.match(repair.stdout, new RegExp(`keeping the store id ${storeId} \\(recovered from the damaged store\\.json\\)`));
    assertOpensWith(storeId);
  });

  it('garbage store.json: repair takes the id from the newest snapshot', () => {
    withSnapshot();
    fs.writeFileSync(manifestFile, Buffer.from([0, 0, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65]));
    assertRefused(/store\.json is damaged \(it is not valid JSON\)/);
    const repair = runCliProcess(store, ['repair']);
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, new RegExp(`keeping the store id ${storeId} \\(recovered from snapshot `));
    assert.equal(fs.readdirSync(store).filter((name) => name.startsWith('store.json.damaged-')).length, 1);
    assertOpensWith(storeId);
  });

  it('valid JSON without a storeId counts as damaged; a store.json from a newer version is not repaired and stays untouched', () => {
    fs.writeFileSync(manifestFile, '{"hello": "world"}\n');
    assertRefused(/store\.json is damaged \(it lacks layoutVersion or storeId\)/);
    const future = JSON.stringify({ layoutVersion: 7, storeId, createdMs: 1 });
    fs.writeFileSync(manifestFile, future);
    const repair = runCliProcess(store, ['repair']);
    assert.equal(repair.code, 1);
    assert.match(repair.stderr, /layout version 7.*left untouched/);
    assert.equal(fs.readFileSync(manifestFile, 'utf8'), future);
    assert.deepEqual(fs.readdirSync(store).filter((name) => name.startsWith('store.json.damaged-')), []);
  });

  it('repair of a folder that is not a store changes nothing; a journal with no records gets a store.json as before', () => {
    const empty = path.join(temp.dir, 'empty');
    fs.mkdirSync(empty);
    const repair = runCliProcess(empty, ['repair']);
    assert.equal(repair.code, 1);
    assert.match(repair.stderr, /no store\.json and no journal records/);
    assert.deepEqual(fs.readdirSync(empty), []);
    assert.equal(runCliProcess(path.join(temp.dir, 'absent'), ['repair']).code, 1);
    assert.equal(fs.existsSync(path.join(temp.dir, 'absent')), false);
    // A store that never got a record has nothing a new id could orphan.
    fs.mkdirSync(path.join(empty, 'journal'));
    fs.writeFileSync(path.join(empty, 'journal', '0000000001.log'), '');
    const append = runCliProcess(empty, ['append'], jsonLines(events));
    assert.equal(append.code, 0, append.stderr);
    assert.ok(fs.existsSync(path.join(empty, 'store.json')));
  });
});
