import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { makeTempDir } from '../fixtures/tempDir';

const cli = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function run(store: string, args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, '--store', store, ...args], { input, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (...events: object[]) => events.map((event) => JSON.stringify(event)).join('\n') + '\n';

describe('context-ledger CLI', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'store');
    const appended = run(
      store,
      ['append'],
      lines(
        { kind: 'session.started', sessionId: 's1', body: { name: 'Parsing work' } },
        { kind: 'message.user', sessionId: 's1', body: { text: 'How do I parse a date?' } },
        { kind: 'message.assistant', sessionId: 's1', body: { text: 'Use `Date.parse`, or better a library.' } },
        { kind: 'message.user', sessionId: 's1', body: { text: 'And a time zone?' } },
        { kind: 'message.assistant', sessionId: 's1', body: { text: 'Keep UTC inside, convert at the edges.' } },
      ),
    );
    assert.equal(appended.code, 0, appended.stderr);
    assert.match(appended.stdout, /appended 5, already stored 0, conflicts 0/);
  });
  afterEach(() => temp.remove());

  it('lists, shows and exports sessions', () => {
    assert.match(run(store, ['sessions']).stdout, /s1 {2}Parsing work {2}2 turns/);
    const shown = run(store, ['show', 's1', '--last', '2']);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /user: And a time zone\?/);
    assert.doesNotMatch(shown.stdout, /parse a date/);
    const jsonl = run(store, ['export']).stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number });
    assert.deepEqual(jsonl.map((event) => event.seq), [1, 2, 3, 4, 5]);
    const out = path.join(temp.dir, 'session.md');
    assert.equal(run(store, ['export', '--format', 'md', '--out', out]).code, 0);
    assert.match(fs.readFileSync(out, 'utf8'), /## User\n\n\*\d{4}-\d\d-\d\dT[\d:.]+Z\*\n\nHow do I parse a date\?/);
    const again = run(store, ['export', '--format', 'md', '--out', out]);
    assert.equal(again.code, 1, 'an existing file is never overwritten');
    assert.match(again.stderr, /cannot write/);
  });

  it('reports duplicates and conflicts on append', () => {
    const first = run(store, ['append', '--json'], lines({ kind: 'message.user', sessionId: 's1', id: 'fixed', body: { text: 'once' } }));
    assert.equal(first.code, 0);
    const again = run(store, ['append', '--json'], lines({ kind: 'message.user', sessionId: 's1', id: 'fixed', body: { text: 'once' } }));
    assert.match(again.stdout, /"status":"duplicate"/);
    const stale = run(store, ['append'], lines({ kind: 'message.user', sessionId: 's1', expectedVersion: 1, body: { text: 'stale' } }));
    assert.equal(stale.code, 3);
    assert.match(stale.stdout, /conflict: .*another writer got there first/);
  });

  it('appends nothing when any input line is bad, and says which line', () => {
    const before = run(store, ['stats', '--json']).stdout;
    const bad = run(store, ['append'], lines({ kind: 'message.user', sessionId: 's1', body: { text: 'fine' } }) + '{"kind":"message.user","sessionId":"s1","body":{}}\n');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /stdin line 2: message\.user body: "text" must be a string; nothing was appended/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    const notJson = run(store, ['append'], 'this is not json\n');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /stdin line 1 is not JSON/);
    const after = JSON.parse(run(store, ['stats', '--json']).stdout) as { eventCount: number };
    assert.equal(after.eventCount, (JSON.parse(before) as { eventCount: number }).eventCount);
  });

  it('prints the request and receipt that would be sent, by window and budget', () => {
    const full = run(store, ['context', 's1', '--json', '--prompt', 'One more question']);
    assert.equal(full.code, 0, full.stderr);
    const parsed = JSON.parse(full.stdout) as { request: { messages: Array<{ role: string }>; tools: unknown[] }; receipt: { parts: unknown[]; excluded: unknown[]; totalTokens: number } };
    assert.deepEqual(parsed.request.messages.map((message) => message.role), ['user', 'assistant', 'user', 'assistant', 'user']);
    assert.equal(parsed.request.tools.length, 3);
    assert.deepEqual(parsed.receipt.excluded, []);

    const sliding = JSON.parse(run(store, ['context', 's1', '--json', '--window', 'sliding', '--turns', '1', '--prompt', 'Next']).stdout) as typeof parsed;
    assert.ok(sliding.request.messages.length < parsed.request.messages.length);
    assert.ok(sliding.receipt.excluded.length > 0, 'what the window left out is in the receipt');

    const text = run(store, ['context', 's1', '--budget', '60']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /context receipt for session s1: \d+ of 60 tokens/);
    assert.match(text.stdout, /request body \(POST \/v1\/messages\):/);
  });

  it('explains bad usage without a stack trace', () => {
    for (const args of [['context', 's1', '--window', 'circular'], ['context', 's1', '--budget', '-3'], ['frobnicate'], ['show'], ['context', 'nope']]) {
      const result = run(store, args);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, /^context-ledger: (usage|error): /);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
    const tiny = run(store, ['context', 's1', '--budget', '5', '--prompt', 'A long question about time zones and dates']);
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /more than the budget of 5/);
  });
});
