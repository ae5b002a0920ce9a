import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { factsStreamId } from '../../src/core/facts/factEvents';
import { FactChangedError, FactsInputError, FactsStore } from '../../src/core/facts/factsStore';
import { Ledger } from '../../src/core/ledger';
import { makeTempDir } from '../fixtures/tempDir';

describe('facts', () => {
  let temp: { dir: string; remove: () => void };
  const open: Ledger[] = [];
  const openLedger = async (writerKind = 'engine'): Promise<Ledger> => {
    const ledger = await Ledger.open({ storeDir: temp.dir, writerKind, snapshotEveryEvents: 0 });
    open.push(ledger);
    return ledger;
  };
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => {
    open.splice(0).forEach((ledger) => ledger.close());
    temp.remove();
  });

  it('keeps a superseded value with when it stopped being current, and answers "what did we believe then"', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger);
    const first = await facts.add({ key: 'build.command', value: 'npm run build' });
    assert.equal(first.state, 'active');
    assert.equal(first.heads[0]!.trust, 'user');
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 15));
    const second = await facts.add({ key: 'build.command', value: 'pnpm build', expectedVector: first.vector });
    assert.equal(second.state, 'active');
    assert.deepEqual(second.heads.map((head) => head.value), ['pnpm build']);
    const history = facts.queries.history('build.command');
    assert.equal(history.length, 1);
    assert.equal(history[0]!.value, 'npm run build');
    assert.equal(history[0]!.ended, 'superseded');
    assert.equal(history[0]!.endedBy, second.heads[0]!.eventId);
    assert.deepEqual(facts.queries.believedAt(before), [{ key: 'build.command', values: ['npm run build'] }]);
    assert.deepEqual(facts.queries.believedAt(Date.now()), [{ key: 'build.command', values: ['pnpm build'] }]);
    assert.deepEqual(facts.queries.believedAt(first.createdMs - 1), []);
  });

  it('refuses an edit made from a stale read (optimistic concurrency) and says what it is now', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger);
    const first = await facts.add({ key: 'test.command', value: 'npm test' });
    await facts.add({ key: 'test.command', value: 'npm run test:unit', expectedVector: first.vector });
    await assert.rejects(facts.add({ key: 'test.command', value: 'jest', expectedVector: first.vector }), (error: unknown) => error instanceof FactChangedError && /changed since you read it.*npm run test:unit/.test(error.message));
    assert.deepEqual(facts.get('test.command')!.heads.map((head) => head.value), ['npm run test:unit']);
  });

  it('surfaces concurrent writes of two windows as a conflict that keeps both values until the merge', async () => {
    const left = await openLedger();
    const right = await openLedger();
    assert.notEqual(left.writerId, right.writerId);
    const a = new FactsStore(left);
    const b = new FactsStore(right);
    await a.add({ key: 'seed', value: 'x' }); // starts the stream
    await Promise.all([a.add({ key: 'runtime.node', value: '20' }), b.add({ key: 'runtime.node', value: '22' })]);
    const fact = a.get('runtime.node')!;
    assert.equal(fact.state, 'conflicted');
    assert.deepEqual(fact.heads.map((head) => head.value).sort(), ['20', '22']);
    assert.deepEqual(b.get('runtime.node')!.heads.map((head) => head.value).sort(), ['20', '22']);
    // A plain add on a conflicted key is refused: the user merges.
    await assert.rejects(a.add({ key: 'runtime.node', value: '24' }), FactsInputError);
    const [merged] = await b.merge('runtime.node', { pick: 2 }, fact.vector);
    assert.equal(merged!.state, 'active');
    assert.deepEqual(merged!.heads.map((head) => head.value), [fact.heads[1]!.value]);
    assert.deepEqual(
      a.queries.history('runtime.node').map((entry) => entry.ended),
      ['merged', 'merged'],
    );
  });

  it('sees two sessions of one engine writing one key at once as concurrent (dots, not counts)', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger);
    await facts.add({ key: 'seed', value: 'x' });
    await Promise.all([facts.add({ key: 'style.indent', value: '2 spaces' }), facts.add({ key: 'style.indent', value: 'tabs' })]);
    const fact = facts.get('style.indent')!;
    assert.equal(fact.state, 'conflicted');
    assert.equal(fact.heads[0]!.writerId, fact.heads[1]!.writerId);
    // Keep both under separate keys.
    const [old, first, second] = await facts.merge('style.indent', { split: ['style.indent.ts', 'style.indent.go'] });
    assert.equal(old!.state, 'retired');
    assert.deepEqual([first!.heads[0]!.value, second!.heads[0]!.value], ['2 spaces', 'tabs']);
  });

  it('under last-writer-wins replaces a concurrent value and records what it overwrote', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger, { conflictPolicy: () => 'lastWriterWins' });
    await facts.add({ key: 'seed', value: 'x' });
    await Promise.all([facts.add({ key: 'pkg.manager', value: 'npm' }), facts.add({ key: 'pkg.manager', value: 'pnpm' })]);
    const fact = facts.get('pkg.manager')!;
    assert.equal(fact.state, 'active');
    assert.deepEqual(fact.heads.map((head) => head.value), ['pnpm']);
    const history = facts.queries.history('pkg.manager');
    assert.deepEqual(history.map((entry) => [entry.value, entry.ended]), [['npm', 'overwritten']]);
  });

  it('a proposal changes no fact until the user confirms it; a rejected one never does', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger);
    const proposal = await facts.propose({ key: 'deploy.target', value: 'prod', trust: 'model-proposed', provenance: { sessionId: 's1', eventId: 'e1' } });
    assert.equal(facts.get('deploy.target'), undefined);
    assert.equal(facts.queries.proposals('pending').length, 1);
    const confirmed = await facts.confirm(proposal.proposalId, 'staging');
    assert.deepEqual(confirmed.heads.map((head) => [head.value, head.trust, head.provenance.sessionId]), [['staging', 'model-proposed', 's1']]);
    await assert.rejects(facts.confirm(proposal.proposalId), /already confirmed/);
    const other = await facts.propose({ key: 'deploy.target', value: 'everything', trust: 'extracted-tool' });
    await facts.reject(other.proposalId, 'no');
    assert.deepEqual(facts.get('deploy.target')!.heads.map((head) => head.value), ['staging']);
    assert.equal(facts.queries.proposal(other.proposalId)!.status, 'rejected');
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const ledger = await openLedger();
    const facts = new FactsStore(ledger);
    await assert.rejects(facts.add({ key: 'has space', value: 'v' }), /may hold only letters/);
    await assert.rejects(facts.add({ key: 'ok', value: '   ' }), /non-empty/);
    await assert.rejects(facts.add({ key: 'ok', value: 'v', citations: [{ path: 'a', startLine: 3, endLine: 1, sha256: 'x' }] }), /startLine/);
    await assert.rejects(facts.merge('missing', { pick: 1 }), /no fact missing/);
    assert.equal(ledger.getSession(factsStreamId), undefined, 'nothing was written');
  });

  it('keeps the facts stream out of the Sessions list', async () => {
    const ledger = await openLedger();
    await ledger.append([{ kind: 'session.started', sessionId: 'chat-1', body: { name: 'A chat' } }]);
    await new FactsStore(ledger).add({ key: 'k', value: 'v' });
    assert.deepEqual(
      ledger.listSessions().map((session) => session.id),
      ['chat-1'],
    );
  });

  it('rebuilding the facts module from the log gives the same table (replay)', async () => {
    const ledger = await openLedger();
    const other = await openLedger();
    const a = new FactsStore(ledger);
    const b = new FactsStore(other, { conflictPolicy: () => 'lastWriterWins' });
    await a.add({ key: 'seed', value: 'x' });
    for (let round = 0; round < 20; round++) {
      await Promise.all([a.add({ key: `k${round % 5}`, value: `a${round}` }).catch(() => undefined), b.add({ key: `k${round % 5}`, value: `b${round}` }).catch(() => undefined)]);
      if (round % 7 === 3) {
        const fact = a.get(`k${round % 5}`)!;
        await a.merge(fact.key, { value: `merged${round}` }, fact.vector);
      }
    }
    const proposal = await a.propose({ key: 'p', value: 'v', trust: 'model-proposed' });
    await a.confirm(proposal.proposalId);
    await a.pin('p', true);
    const live = { facts: a.list(), history: [0, 1, 2, 3, 4].map((n) => a.queries.history(`k${n}`)), proposals: a.queries.proposals() };
    assert.ok(live.facts.some((fact) => fact.historyCount > 0));
    const report = await ledger.verify();
    assert.deepEqual(report.problems, []);
    open.splice(0).forEach((entry) => entry.close());
    // No snapshot was written (snapshotEveryEvents 0): a new open replays the whole journal.
    const snapshots = path.join(temp.dir, 'snapshots');
    assert.deepEqual(fs.existsSync(snapshots) ? fs.readdirSync(snapshots).filter((name) => name.endsWith('.sqlite')) : [], []);
    const replayed = await openLedger('cli');
    const rebuilt = new FactsStore(replayed);
    assert.deepEqual(
      { facts: rebuilt.list(), history: [0, 1, 2, 3, 4].map((n) => rebuilt.queries.history(`k${n}`)), proposals: rebuilt.queries.proposals() },
      live,
    );
  });
});
