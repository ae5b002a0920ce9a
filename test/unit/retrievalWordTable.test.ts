import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fnvOffset, fnvStep, WordTable } from '../../src/core/retrieval/wordTable';

// The tokenizer's word table (wordTable.ts) against a Map: a small table, so its slots grow,
// words collide in their low hash bits, and it fills (by words and by code units) and starts
// again empty, as a large workspace makes the real one do.

function hashOf(text: string, start: number, end: number): number {
  let hash = fnvOffset;
  for (let index = start; index < end; index++) {
    hash = fnvStep(hash, text.charCodeAt(index));
  }
  return hash;
}

describe('retrieval word table', () => {
  it('finds every word it holds by its span, with its numbers, and nothing it does not', () => {
    const word = fc.array(fc.constantFrom('a', 'b', 'é', '東', '\ud83d\ude00', 'ab'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.array(fc.tuple(word, fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 })), { maxLength: 120 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 4, max: 60 }), (steps, maxWords, maxChars) => {
        const table = new WordTable(maxWords, maxChars);
        const expected = new Map<string, number[]>();
        let chars = 0;
        steps.forEach(([text, before, after], step) => {
          // The word sits inside a longer text, as in a file.
          const host = `${before}${text}${after}`;
          const start = before.length;
          const end = start + text.length;
          const hash = hashOf(host, start, end);
          const entry = table.find(host, start, end, hash);
          if (!expected.has(text)) {
            assert.equal(entry, -1, `${text} found before it was added`);
            const numbers = Array.from({ length: step % 4 }, (_, index) => step * 10 + index);
            if (expected.size >= maxWords || chars + text.length > maxChars) {
              expected.clear();
              chars = 0;
            }
            table.add(host, start, end, hash, numbers);
            expected.set(text, numbers);
            chars += text.length;
          } else {
            assert.notEqual(entry, -1, `${text} lost`);
            const got = Array.from(table.numbers.subarray(table.termStart(entry), table.termStart(entry) + table.termCount(entry)));
            assert.deepEqual(got, expected.get(text));
          }
          assert.equal(table.size, expected.size);
        });
        for (const [text, numbers] of expected) {
          const entry = table.find(text, 0, text.length, hashOf(text, 0, text.length));
          assert.deepEqual(Array.from(table.numbers.subarray(table.termStart(entry), table.termStart(entry) + table.termCount(entry))), numbers);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('tells apart words whose hashes are equal', () => {
    const table = new WordTable(10, 100);
    table.add('alpha', 0, 5, 7, [1]);
    table.add('omega', 0, 5, 7, [2]);
    table.add('alphabet', 0, 8, 7, [3]);
    assert.equal(table.numbers[table.termStart(table.find('alpha', 0, 5, 7))], 1);
    assert.equal(table.numbers[table.termStart(table.find('omega', 0, 5, 7))], 2);
    assert.equal(table.numbers[table.termStart(table.find('alphabet', 0, 8, 7))], 3);
    assert.equal(table.find('delta', 0, 5, 7), -1);
    // Differing in the first or the last code unit only.
    assert.equal(table.find('xlpha', 0, 5, 7), -1);
    assert.equal(table.find('alphx', 0, 5, 7), -1);
    assert.equal(table.find('xalpha', 1, 6, 7), table.find('alpha', 0, 5, 7));
  });
});
