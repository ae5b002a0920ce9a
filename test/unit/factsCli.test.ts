import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FactsStore } from '../../src/core/facts/factsStore';
import { Ledger } from '../../src/core/ledger';
import { runCliProcess } from '../fixtures/cliRunner';
import { makeTempDir } from '../fixtures/tempDir';

describe('context-ledger facts', () => {
  it('adds, lists, shows a conflict made with an engine, merges it, and refuses bad input with nothing written', async () => {
    const temp = makeTempDir();
    const store = path.join(temp.dir, 'store');
    try {
      const bad = runCliProcess(store, ['facts', 'add', 'not a key', 'v']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /may hold only letters/);
      assert.equal(fs.existsSync(store), false, 'bad input creates nothing');
      assert.equal(runCliProcess(store, ['facts', 'merge', 'k']).code, 2);

      const added = runCliProcess(store, ['facts', 'add', 'build.command', 'npm run build']);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /build\.command = "npm run build" {2}\[user, cli-1\]/);
      // An engine (a VS Code window) and the CLI write concurrently: neither saw the other.
      const ledger = await Ledger.open({ storeDir: store, writerKind: 'vscode', snapshotEveryEvents: 0 });
      try {
        const engine = new FactsStore(ledger);
        const seen = engine.get('build.command')!.vector;
        await engine.add({ key: 'build.command', value: 'pnpm build', expectedVector: seen });
        // The CLI's write was made from the same version it read before the engine wrote.
        await ledger.append([{ kind: 'fact.updated', sessionId: 'facts:workspace', body: { key: 'build.command', value: 'make', scope: 'workspace', trust: 'user', provenance: { sessionId: null, eventId: null, path: null, line: null }, citations: [], promptVersion: null, seen, policy: 'surface' } }]);
      } finally {
        ledger.close();
      }
      const list = runCliProcess(store, ['facts']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /build\.command {2}\(conflicted: 2 values/);
      const json = JSON.parse(runCliProcess(store, ['facts', '--json']).stdout) as { facts: Array<{ key: string; state: string; heads: unknown[] }> };
      assert.equal(json.facts.find((fact) => fact.key === 'build.command')?.state, 'conflicted');
      assert.equal(runCliProcess(store, ['facts', 'add', 'build.command', 'x']).code, 2, 'a conflicted key is merged, not overwritten');
      assert.equal(runCliProcess(store, ['facts', 'merge', 'build.command', '--pick', '3']).code, 2);
      const merged = runCliProcess(store, ['facts', 'merge', 'build.command', '--value', 'pnpm run build']);
      assert.equal(merged.code, 0, merged.stderr);
      assert.match(merged.stdout, /build\.command = "pnpm run build"/);
      const history = runCliProcess(store, ['facts', 'history', 'build.command']);
      assert.match(history.stdout, /was "npm run build" .*superseded/);
      assert.match(history.stdout, /was "make" .*merged/);
      assert.equal(runCliProcess(store, ['sessions']).stdout.trim(), 'no sessions', 'the facts stream is not a session');
    } finally {
      temp.remove();
    }
  });
});
