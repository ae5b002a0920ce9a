import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BatchBuilder } from '../../src/core/retrieval/preparedFile';
import { TermCounter } from '../../src/core/retrieval/termCounter';
import { knownKeyHints, mayHoldKnownKey, tokenCandidates } from '../../src/core/retrieval/redaction';
import { RetrievalIndex } from '../../src/core/retrieval/retrievalIndex';
import { ScanWorker } from '../../src/core/retrieval/scanWorker';
import { TermIndex, TermNumbers } from '../../src/core/retrieval/termIndex';
import { termList } from '../../src/core/retrieval/terms';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { makeTempDir } from '../fixtures/tempDir';

// The scan's second thread (scanWorker.ts, retrievalWorker.ts) reads, redacts, chunks and
// counts terms; the index it leads to must be the one the single-threaded scan builds, term
// for term. Texts that stress the tokenizer: non-ASCII words, compound identifiers, a term
// repeated past the 255 a posting holds, words too long to be terms, chunks two files share.

const trickyTexts = [
  'const getUserName = (user_id: number) => fetchHTTPRequest(user_id, "naïve café");',
  'Grüße aus Köln: 東京 und São Paulo, ÆØÅ æøå — parseJSON_v2 $scope.$apply',
  `${'repeat '.repeat(300)}end`,
  `short ${'x'.repeat(70)} ${'AbC'.repeat(30)} tail_`,
  'a_a __init__ $$ _ 123abc ABCDef HTTPServer utf8Decode',
  '',
];

function snapshot(index: TermIndex): { documents: Array<[number, number]>; terms: Array<[string, number[]]> } {
  return { documents: [...index.documents()], terms: [...index.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

describe('retrieval scan on two threads', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let root: string;
  before(() => {
    temp = makeTempDir('context-ledger-retrieval-prepare-');
    root = path.join(temp.dir, 'work');
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    const sources = path.join(__dirname, '..', '..', '..', 'src', 'core', 'retrieval');
    // Real source files, each twice (the copies share every chunk), and enough files for several batches.
    for (const name of fs.readdirSync(sources).filter((file) => file.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(sources, name), 'utf8');
      fs.writeFileSync(path.join(root, 'src', name), text);
      fs.writeFileSync(path.join(root, 'src', `copy-${name}`), text);
    }
    trickyTexts.forEach((text, number) => fs.writeFileSync(path.join(root, `tricky${number}.txt`), `${text}\n`));
    for (let file = 0; file < 150; file++) {
      fs.writeFileSync(path.join(root, `note${file}.md`), `# Note ${file}\n\nmarker${file} about retrievalScan${file % 7} and ${trickyTexts[file % trickyTexts.length]}\n`);
    }
    fs.writeFileSync(path.join(root, 'config.ts'), `export const key = 'sk-ant-api03-${'Zq8xW2'.repeat(8)}';\nexport const other = 1;\n`);
    fs.writeFileSync(path.join(root, 'blob.bin'), Buffer.from([0, 1, 2, 0, 255, 0, 3]));
    fs.writeFileSync(path.join(root, '.env'), 'TOKEN=never-indexed\n');
  });
  after(() => temp.remove());

  it("counts a chunk's terms as TermIndex.addText counts its text", () => {
    const direct = new TermIndex();
    const counted = new TermIndex();
    const counter = new TermCounter();
    const builder = new BatchBuilder(counter, { minLines: 1, maxLines: 1, overlapLines: 0, maxChars: 6000 });
    builder.add('tricky', { kind: 'text', text: trickyTexts.join('\n'), version: { size: 0, mtimeMs: 0, hash: '' } });
    const batch = builder.done();
    const numbers = new TermNumbers(batch.newTerms);
    const reading = batch.files[0]!.reading;
    assert.equal(reading.kind, 'text');
    const chunks = reading.kind === 'text' ? reading.chunks : [];
    assert.equal(chunks.length, trickyTexts.filter((text) => text.trim() !== '').length);
    chunks.forEach((chunk, number) => {
      direct.addText(number + 1, Buffer.from(batch.bytes.subarray(chunk.byteStart, chunk.byteEnd)).toString('utf8'));
      counted.addCounted(number + 1, numbers, batch.terms, chunk.termStart, chunk.termPairs, chunk.length);
    });
    assert.deepEqual(snapshot(counted), snapshot(direct));
    assert.ok(snapshot(direct).terms.some(([term, postings]) => term === 'repeat' && postings[0]! % 256 === 255), 'the repeated term saturates');
    assert.throws(() => counted.addCounted(99, new TermNumbers([]), Int32Array.of(0, 1), 0, 1, 1), /never named/);
  });

  it('counts, chunk by chunk, the terms termList gives for any text', () => {
    // termList (terms.ts) reads words with the Unicode pattern; the counter scans code units
    // over each chunk's span of the file. Surrogate pairs, lone surrogates, marks and digits of
    // other scripts, long words and CRLF lines are in the mix.
    const pieces = ['get', 'User', 'NAME', '_', '$', ' ', '\n', '\r\n', '.', '-', '9', 'é', 'e\u0301', 'ß', '東京', '٣', '𝒳', '😀', '\ud800', '\udc00', 'x'.repeat(70), '\u00a0', 'Ⅻ'];
    const textArbitrary = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 120 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(textArbitrary, fc.integer({ min: 1, max: 4 }), (text, lines) => {
        const counter = new TermCounter();
        const builder = new BatchBuilder(counter, { minLines: 1, maxLines: lines, overlapLines: lines > 1 ? 1 : 0, maxChars: 6000 });
        builder.add('any', { kind: 'text', text, version: { size: 0, mtimeMs: 0, hash: '' } });
        const batch = builder.done();
        const reading = batch.files[0]!.reading;
        const vocabulary = batch.newTerms;
        for (const chunk of reading.kind === 'text' ? reading.chunks : []) {
          const chunkText = Buffer.from(batch.bytes.subarray(chunk.byteStart, chunk.byteEnd)).toString('utf8');
          const expected = new Map<string, number>();
          const terms = termList(chunkText);
          for (const term of terms) {
            expected.set(term, Math.min(255, (expected.get(term) ?? 0) + 1));
          }
          const counted = new Map<string, number>();
          for (let pair = chunk.termStart; pair < chunk.termStart + chunk.termPairs; pair++) {
            counted.set(vocabulary[batch.terms[pair * 2]!]!, batch.terms[pair * 2 + 1]!);
          }
          assert.deepEqual(counted, expected, JSON.stringify(chunkText));
          assert.equal(chunk.length, terms.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('builds the same index as the scan on one thread', async () => {
    const sql = await loadSqlJs();
    const open = (scanWorker: boolean) => RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), scanWorker });
    const one = open(false);
    const two = open(true);
    try {
      const [first, second] = [await one.indexWorkspace(), await two.indexWorkspace()];
      assert.deepEqual(second, first);
      assert.ok(first.filesIndexed > 64 * 2, 'several batches');
      assert.deepEqual(two.indexedPaths(), one.indexedPaths());
      assert.deepEqual(two.skippedFiles(), one.skippedFiles());
      assert.deepEqual(two.redactedStrings(), one.redactedStrings());
      assert.equal(two.redactedStrings().length, 1, 'the inline key was redacted');
      const { chunks, chunkPlaces } = one.stats();
      assert.deepEqual({ chunks: two.stats().chunks, chunkPlaces: two.stats().chunkPlaces }, { chunks, chunkPlaces });
      const queries = ['getUserName user', 'Grüße Köln', '東京', 'repeat end', 'parseJSON v2', 'chunk options overlap', 'marker42 retrievalScan3', 'redact secrets token', 'term index postings', 'HTTPServer'];
      // The same scores; equal scores are ordered by chunk id, which follows the order of writing
      // (batches are written as they are ready), so the hits are compared as sets but for the
      // group of equal scores the limit cuts.
      for (const query of queries) {
        const answer = (index: RetrievalIndex) => {
          const hits = index.search(query, { limit: 8 }).hits;
          const last = hits[hits.length - 1]?.score;
          return {
            scores: hits.map((hit) => hit.score.toFixed(9)),
            above: hits.filter((hit) => hit.score !== last).map((hit) => `${hit.path}:${hit.startLine}-${hit.endLine} ${hit.score.toFixed(9)} ${hit.chunkHash}`).sort(),
          };
        };
        assert.deepEqual(answer(two), answer(one), query);
      }
      assert.ok(one.search('東京', { limit: 3 }).hits.length > 0, 'non-ASCII terms are found');
    } finally {
      one.close();
      two.close();
    }
  });

  it('serves consecutive scans of two folders from one worker, with the same index as one thread', async () => {
    const sql = await loadSqlJs();
    const other = path.join(temp.dir, 'other');
    fs.mkdirSync(other);
    for (let file = 0; file < 140; file++) {
      fs.writeFileSync(path.join(other, `page${file}.md`), `# Page ${file}\n\nother${file} ${trickyTexts[(file + 1) % trickyTexts.length]}\n`);
    }
    const held = ScanWorker.acquire();
    assert.ok(held);
    try {
      const first = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root) });
      await first.indexWorkspace();
      const termsAfterFirst = held.vocabulary.length;
      assert.ok(termsAfterFirst > 0, 'the scan used the shared worker');
      const [withWorker, alone] = [RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(other) }), RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(other), scanWorker: false })];
      await withWorker.indexWorkspace();
      await alone.indexWorkspace();
      assert.equal(ScanWorker.acquire(), held, 'still the one worker');
      held.release();
      assert.ok(held.vocabulary.length > termsAfterFirst, 'the second folder was read by the same worker');
      assert.deepEqual(withWorker.indexedPaths(), alone.indexedPaths());
      for (const query of ['other17', 'Grüße Köln', 'parseJSON v2', 'page']) {
        // Equal scores are ordered by chunk id (the order of writing): the group the limit cuts is compared by its scores.
        const hits = (index: RetrievalIndex) => {
          const found = index.search(query, { limit: 5 }).hits;
          const last = found[found.length - 1]?.score;
          return { scores: found.map((hit) => hit.score.toFixed(9)), above: found.filter((hit) => hit.score !== last).map((hit) => `${hit.path} ${hit.chunkHash}`).sort() };
        };
        assert.deepEqual(hits(withWorker), hits(alone), query);
      }
      first.close();
      withWorker.close();
      alone.close();
    } finally {
      held.release();
    }
  });

  it('lets a process end when its scan has (the idle shared worker holds nothing open)', () => {
    const modules = path.join(__dirname, '..', '..', 'src');
    const script = `
      const { RetrievalIndex } = require(${JSON.stringify(path.join(modules, 'core', 'retrieval', 'retrievalIndex.js'))});
      const { loadSqlJs } = require(${JSON.stringify(path.join(modules, 'core', 'store', 'sqlJsLoader.js'))});
      const { WorkspaceFiles } = require(${JSON.stringify(path.join(modules, 'core', 'tools', 'workspaceFiles.js'))});
      loadSqlJs().then(async (sql) => {
        const index = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(${JSON.stringify(root)}) });
        const progress = await index.indexWorkspace();
        index.close();
        console.log(progress.filesIndexed);
      });`;
    const started = performance.now();
    // The worker stays 30 s after a scan for the next one; the process must not wait for it.
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Number(run.stdout.trim()) > 64 * 2, 'the scan ran to the end');
    assert.ok(performance.now() - started < 20_000);
  });

  it('answers undefined when its worker fails, so the scan reads the files itself', async () => {
    const broken = ScanWorker.start();
    assert.ok(broken, 'the worker file is beside the module');
    const scope = { folder: path.join(root, 'no-such-folder'), excludeGlobs: [], maxFileBytes: 1024, chunkOptions: { minLines: 1, maxLines: 4, overlapLines: 0, maxChars: 100 } };
    assert.equal(await broken.prepare(scope, ['note1.md']), undefined);
    assert.equal(await broken.prepare({ ...scope, folder: root }, ['note2.md']), undefined, 'and keeps answering undefined');
    assert.equal(broken.running, false);
    broken.stop();
  });

  it('looks for every known key hint in its one-pass prefilter', () => {
    for (const hint of knownKeyHints()) {
      assert.ok(mayHoldKnownKey(`before ${hint} after`), hint);
    }
    assert.equal(mayHoldKnownKey('export function plainCode(value: number) { return value + 1; }'), false);
  });

  it('finds the runs of token characters a regex finds, skipping ahead', () => {
    // Runs around the length that counts (24), at the text's ends, next to each other.
    const piece = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((length) => 'aZ9+/_=-'.repeat(5).slice(0, length)),
      fc.constantFrom(' ', '.', '\n', 'é', '東', ':', '@'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const expected = [...text.matchAll(/[A-Za-z0-9+/_=-]{24,}/g)].flatMap((match) => [match.index, match.index + match[0].length]);
        assert.deepEqual(tokenCandidates(text), expected, JSON.stringify(text));
      }),
      { numRuns: 2000 },
    );
  });
});
