import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkLines, defaultChunkOptions, isBlank, type ChunkOptions } from '../../src/core/retrieval/chunker';

// Chunks are slices of the text by line offsets; what they must be is stated here by the lines
// `split('\n')` gives: each chunk is its lines joined, chunks cover every line in order, overlap
// by at most the configured lines, and stay within the line and character limits.

const pieces = ['a', 'word', ' ', '  ', '\t', '\n', '\n', '\n\n', '}', '  }', ')', '];', 'x = 1;', 'naïve', '東京', '\r'];
const textArbitrary = fc.array(fc.constantFrom(...pieces), { maxLength: 300 }).map((parts) => parts.join(''));
const optionsArbitrary: fc.Arbitrary<ChunkOptions> = fc
  .record({ minLines: fc.integer({ min: 1, max: 6 }), extra: fc.integer({ min: 0, max: 10 }), overlapLines: fc.integer({ min: 0, max: 4 }), maxChars: fc.integer({ min: 1, max: 120 }) })
  .map(({ minLines, extra, overlapLines, maxChars }) => ({ minLines, maxLines: minLines + extra, overlapLines, maxChars }));

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') {
    lines.pop();
  }
  return lines;
}

describe('retrieval chunker', () => {
  it('cuts chunks that are their lines joined, cover every line in order and keep the limits', () => {
    fc.assert(
      fc.property(textArbitrary, optionsArbitrary, (text, options) => {
        const lines = linesOf(text);
        const chunks = chunkLines(text, options);
        assert.ok(chunks.length > 0);
        assert.equal(chunks[0]!.startLine, 1);
        assert.equal(chunks[chunks.length - 1]!.endLine, lines.length);
        chunks.forEach((chunk, index) => {
          assert.equal(chunk.text, lines.slice(chunk.startLine - 1, chunk.endLine).join('\n'));
          assert.ok(chunk.endLine >= chunk.startLine);
          assert.ok(chunk.endLine - chunk.startLine + 1 <= options.maxLines);
          // Past the character limit only when a single line is longer than it.
          assert.ok(chunk.text.length + 1 <= options.maxChars || chunk.startLine === chunk.endLine);
          const previous = chunks[index - 1];
          if (previous) {
            // The next chunk starts `overlapLines` before the cut, and always a line further on.
            assert.equal(chunk.startLine, Math.max(previous.startLine + 1, previous.endLine - options.overlapLines + 1));
          }
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('prefers a blank line or a closing bracket at the margin as the cut', () => {
    const body = (name: string): string[] => [`function ${name}() {`, ...Array.from({ length: 8 }, (_, line) => `  step${line}();`), '}'];
    const text = [...body('first'), '', ...body('second'), '', ...body('third')].join('\n');
    const chunks = chunkLines(text, { minLines: 4, maxLines: 14, overlapLines: 1, maxChars: 6000 });
    assert.deepEqual(
      chunks.map((chunk) => [chunk.startLine, chunk.endLine]),
      [
        [1, 11],
        [11, 22],
        [22, 32],
      ],
    );
    assert.ok(chunks[0]!.text.endsWith('}\n'), 'the first cut is after the blank line that ends the function');
  });

  it('keeps line numbers for texts with CRLF endings, a trailing newline or none', () => {
    for (const text of ['', '\n', 'one', 'one\n', 'one\r\ntwo\r\n', 'a\n\n\nb\n\n']) {
      const lines = linesOf(text);
      const chunks = chunkLines(text, defaultChunkOptions);
      assert.equal(chunks.length, 1, JSON.stringify(text));
      assert.deepEqual([chunks[0]!.startLine, chunks[0]!.endLine, chunks[0]!.text], [1, lines.length, lines.join('\n')]);
    }
  });

  it('calls a text blank exactly when trim leaves nothing of it', () => {
    // Every white space and line terminator of the language, and look-alikes that are neither
    // (zero-width space, Mongolian vowel separator, word joiner).
    const spaces = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
    const others = ['\u200b', '\u180e', '\u2060', 'x', '}', '\ud83d\ude00'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...spaces, ...others), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        assert.equal(isBlank(text), text.trim() === '', JSON.stringify(text));
      }),
      { numRuns: 2000 },
    );
    assert.equal(isBlank(''), true);
  });
});
