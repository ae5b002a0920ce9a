import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger';
import { EventValidationError, maxEventBytes } from '../../src/core/log/events';
import { Journal } from '../../src/core/log/journal';
import { jsonLines, runCliProcess } from '../fixtures/cliRunner';
import { makeTempDir } from '../fixtures/tempDir';

// Issue 10 §4: bad input to `append` gets exit 2 and a message naming the line, and nothing is
// created or written: not even the store folder, when it did not exist.

const start = { kind: 'session.started', sessionId: 's1', body: { name: 'Input checks' } };
const message = (text: string) => ({ kind: 'message.user', sessionId: 's1', body: { text } });

function deeplyNested(depth: number): string {
  return `{"kind":"tool.use","sessionId":"s1","body":{"toolUseId":"t1","name":"read_file","input":${'['.repeat(depth)}${']'.repeat(depth)}}}\n`;
}

describe('append refuses bad input before it creates or writes anything', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: string;
  beforeEach(() => {
    temp = makeTempDir();
    store = path.join(temp.dir, 'new-store');
  });
  afterEach(() => temp.remove());

  function refused(input: string | Buffer, pattern: RegExp): void {
    const result = runCliProcess(store, ['append'], input);
    assert.equal(result.code, 2, `exit ${result.code}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.match(result.stderr, /nothing was appended/);
    assert.doesNotMatch(result.stderr, /\n\s+at |Maximum call stack/);
    assert.equal(fs.existsSync(store), false, 'a store folder was created for bad input');
  }

  it('10,000 levels of nesting: exit 2 naming the line and the limit, no stack overflow', () => {
    refused(jsonLines([start]) + deeplyNested(10_000), /^context-ledger: usage: stdin line 2: the event nests objects and arrays more than 100 levels deep; nothing was appended\n$/);
  });

  it('invalid UTF-8: exit 2 with the line number and the byte, instead of a stored U+FFFD', () => {
    const good = Buffer.from(jsonLines([start, message('fine')]));
    const bad = Buffer.concat([Buffer.from('{"kind":"message.user","sessionId":"s1","body":{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}}\n')]);
    refused(Buffer.concat([good, bad]), /stdin line 3 is not valid UTF-8 \(byte 0xe9 at byte 60 of the line\)/);
    const cutSequence = Buffer.concat([Buffer.from('{"kind":"message.user","sessionId":"s1","body":{"text":"'), Buffer.from('€').subarray(0, 2)]);
    refused(Buffer.concat([good, cutSequence]), /stdin line 3 is not valid UTF-8/);
  });

  it('a whole event over 16 MiB as JSON: exit 2 naming the cap, whichever field makes it big', () => {
    const bigInput = { kind: 'tool.use', sessionId: 's1', body: { toolUseId: 't1', name: 'read_file', input: { blob: 'x'.repeat(maxEventBytes) } } };
    refused(jsonLines([start, bigInput]), /stdin line 2: the event is \d+ bytes as JSON, more than the 16 MiB \(16777216 bytes\) one event may take/);
    // 6 million three-byte characters: under the 10-million-character text cap, over 16 MiB.
    refused(jsonLines([start, message('€'.repeat(6_000_000))]), /stdin line 2: the event is \d+ bytes as JSON, more than the 16 MiB/);
  });

  it('a byte order mark at the start of the input is skipped; one anywhere else is named', () => {
    refused(Buffer.concat([Buffer.from(jsonLines([start])), Buffer.from('\ufeff' + JSON.stringify(message('x')) + '\n')]), /stdin line 2 starts with a byte order mark \(U\+FEFF\)/);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(jsonLines([start, message('after a BOM')]))]);
    const accepted = runCliProcess(store, ['append'], withBom);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /^appended 2, already stored 0/);
    const exported = runCliProcess(store, ['export']).stdout;
    assert.doesNotMatch(exported, /\ufeff/);
    // The ids come from the input without its BOM: the same events without one are a retry.
    assert.match(runCliProcess(store, ['append'], jsonLines([start, message('after a BOM')])).stdout, /^appended 0, already stored 2/);
  });

  it('bad input to an existing store changes none of its files', () => {
    assert.equal(runCliProcess(store, ['append'], jsonLines([start])).code, 0);
    const before = listTree(store);
    for (const input of [deeplyNested(10_000), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), jsonLines([message('€'.repeat(6_000_000))])]) {
      assert.equal(runCliProcess(store, ['append'], input).code, 2);
    }
    assert.deepEqual(listTree(store), before);
  });

  it('the engine refuses a too-deep event the same way (every caller, not only the CLI), and writes nothing', async () => {
    const ledger = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      await ledger.append([start]);
      const segment = path.join(store, 'journal', Journal.segmentFileName(1));
      const size = fs.statSync(segment).size;
      let input: unknown = [];
      for (let i = 0; i < 10_000; i++) {
        input = [input];
      }
      await assert.rejects(
        ledger.append([{ kind: 'tool.use', sessionId: 's1', body: { toolUseId: 't', name: 'n', input } }]),
        (error: unknown) => error instanceof EventValidationError && /more than 100 levels deep/.test(error.message),
      );
      assert.equal(fs.statSync(segment).size, size);
      // 100 levels are fine.
      let ok: unknown = 1;
      for (let i = 0; i < 97; i++) {
        ok = [ok];
      }
      const [verdict] = await ledger.append([{ kind: 'tool.use', sessionId: 's1', body: { toolUseId: 't', name: 'n', input: ok } }]);
      assert.equal(verdict?.status, 'appended');
    } finally {
      ledger.close();
    }
  });
});

function listTree(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return `${path.relative(root, file)} ${entry.isFile() ? fs.statSync(file).size : 'dir'}`;
    })
    .sort();
}
