import { asciiWordCodes, isWordCodePoint, wordTerms } from './terms';
import { fnvOffset, fnvStep, WordTable } from './wordTable';

// Counts the terms of a text (terms.ts: the same terms termList gives, repeats counted) as
// (term number, count) pairs, numbering each term the first time it is met. The scan's worker
// sends the pairs and names each new term once (preparedFile.ts), and the term index turns
// them into postings without a string per term (termIndex.ts addCounted). This is the one
// tokenizer of indexed text: a workspace scan meets millions of words, nearly all seen before,
// so each is found by its span in a table of words (no substring, no closure call per word).

/** A term's count in one text saturates here (termIndex.ts's tfLimit - 1). */
export const maxTermCount = 255;

/** Words remembered at most, and code units of them; a full table starts again empty (the term numbers stay). */
const maxWords = 100_000;
const maxWordChars = 4_000_000;

/** Pairs of integers, growing as they are appended. */
export class IntPairs {
  values = new Int32Array(1 << 12);
  length = 0;

  push2(a: number, b: number): void {
    if (this.length + 2 > this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = a;
    this.values[this.length++] = b;
  }
}

export class TermCounter {
  private readonly numbers = new Map<string, number>();
  /** Word -> the numbers of its terms. */
  private readonly words = new WordTable(maxWords, maxWordChars);
  /** Terms of `vocabulary` already given by takeNewTerms. */
  private given = 0;
  /** Count of each term number in the text being counted (all zero between texts). */
  private counts = new Int32Array(1 << 12);
  private readonly touched: number[] = [];

  /** Term number -> term: every term numbered so far, in number order. */
  readonly vocabulary: string[] = [];

  /** The terms numbered since the last call. */
  takeNewTerms(): string[] {
    const fresh = this.vocabulary.slice(this.given);
    this.given = this.vocabulary.length;
    return fresh;
  }

  /**
   * Appends the (term number, count) pairs of `text` (or of its span [from, to)) to `out`;
   * returns [pairs, length], length counting repeats. Words are terms.ts's `wordPattern`:
   * ASCII by a table, other code points by their class (a surrogate pair is one code point).
   */
  count(text: string, out: IntPairs, from = 0, to = text.length): [number, number] {
    let length = 0;
    let start = -1;
    let hash = fnvOffset;
    // The end of the span is read as a separator, so the last word is counted where every other
    // word is (a call after the loop, rarely reached, deoptimized the compiled loop each time).
    for (let index = from; ; ) {
      let width = 1;
      let inWord = false;
      let code = 0;
      if (index < to) {
        code = text.charCodeAt(index);
        if (code < 128) {
          inWord = asciiWordCodes[code] === 1;
        } else {
          const next = index + 1 < to ? text.charCodeAt(index + 1) : 0;
          if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
            width = 2;
            inWord = isWordCodePoint((code - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000);
          } else {
            inWord = isWordCodePoint(code);
          }
        }
      }
      if (inWord) {
        if (start < 0) {
          start = index;
          hash = fnvOffset;
        }
        hash = fnvStep(hash, code);
        if (width === 2) {
          hash = fnvStep(hash, text.charCodeAt(index + 1));
        }
      } else {
        if (start >= 0) {
          length += this.countWord(text, start, index, hash);
          start = -1;
        }
        if (index >= to) {
          break;
        }
      }
      index += width;
    }
    const touched = this.touched;
    const counts = this.counts;
    for (let at = 0; at < touched.length; at++) {
      const number = touched[at]!;
      out.push2(number, Math.min(counts[number]!, maxTermCount));
      counts[number] = 0;
    }
    const pairs = touched.length;
    touched.length = 0;
    return [pairs, length];
  }

  private countWord(text: string, start: number, end: number, hash: number): number {
    const words = this.words;
    let entry = words.find(text, start, end, hash);
    if (entry < 0) {
      entry = words.add(text, start, end, hash, wordTerms(text.slice(start, end)).map((term) => this.numberOf(term)));
    }
    const numbers = words.numbers;
    const counts = this.counts;
    const from = words.termStart(entry);
    const terms = words.termCount(entry);
    for (let at = from; at < from + terms; at++) {
      const number = numbers[at]!;
      if (counts[number] === 0) {
        this.touched.push(number);
      }
      counts[number]!++;
    }
    return terms;
  }

  private numberOf(term: string): number {
    let number = this.numbers.get(term);
    if (number === undefined) {
      number = this.vocabulary.length;
      this.numbers.set(term, number);
      this.vocabulary.push(term);
      if (number >= this.counts.length) {
        const grown = new Int32Array(this.counts.length * 2);
        grown.set(this.counts);
        this.counts = grown;
      }
    }
    return number;
  }
}
