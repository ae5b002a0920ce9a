// A hash table of words keyed by a span of a text, so a tokenizer can look each word up without
// cutting it out first: a scan of the workspace meets millions of words, nearly all seen before,
// and a substring per word was most of the indexing time (its allocation, its hash, the GC).
// Open addressing, FNV-1a over the UTF-16 code units; a full table starts again empty.

import { forEachWord, hasNonAscii, isAsciiWordCode } from './terms';

export const fnvOffset = 0x811c9dc5;

/** The FNV-1a step: `hash = fnvStep(hash, code)` for each code unit of the word. */
export function fnvStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, 16777619);
}

export class WordTable<V> {
  private slots: Int32Array;
  private hashes: Int32Array;
  private words: string[] = [];
  private values: V[] = [];

  constructor(private readonly maxWords: number) {
    this.slots = new Int32Array(1024);
    this.hashes = new Int32Array(1024);
  }

  get size(): number {
    return this.words.length;
  }

  /** The value of the word `text.slice(start, end)`, whose hash is `hash`. */
  get(text: string, start: number, end: number, hash: number): V | undefined {
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) {
        return undefined;
      }
      if (this.hashes[slot] === hash) {
        const word = this.words[entry - 1]!;
        if (word.length === length && sameSpan(word, text, start)) {
          return this.values[entry - 1];
        }
      }
    }
  }

  set(word: string, hash: number, value: V): void {
    if (this.words.length >= this.maxWords) {
      this.clear();
    }
    if ((this.words.length + 1) * 2 > this.slots.length) {
      this.grow();
    }
    this.words.push(word);
    this.values.push(value);
    this.place(hash, this.words.length);
  }

  /**
   * Visits the value of each word of `text` in order, made by `make` the first time a word is
   * met. ASCII text is scanned by spans (no substring for a word seen before); other text goes
   * through forEachWord's Unicode rules.
   */
  forEachWordValue(text: string, make: (word: string) => V, visit: (value: V) => void): void {
    if (hasNonAscii(text)) {
      forEachWord(text, (word) => {
        let hash = fnvOffset;
        for (let index = 0; index < word.length; index++) {
          hash = fnvStep(hash, word.charCodeAt(index));
        }
        visit(this.valueOf(word, 0, word.length, hash, make));
      });
      return;
    }
    let start = -1;
    let hash = fnvOffset;
    for (let index = 0; index <= text.length; index++) {
      const code = index < text.length ? text.charCodeAt(index) : 0;
      if (isAsciiWordCode(code)) {
        if (start < 0) {
          start = index;
          hash = fnvOffset;
        }
        hash = fnvStep(hash, code);
      } else if (start >= 0) {
        visit(this.valueOf(text, start, index, hash, make));
        start = -1;
      }
    }
  }

  private valueOf(text: string, start: number, end: number, hash: number, make: (word: string) => V): V {
    let value = this.get(text, start, end, hash);
    if (value === undefined) {
      const word = start === 0 && end === text.length ? text : text.slice(start, end);
      value = make(word);
      this.set(word, hash, value);
    }
    return value;
  }

  clear(): void {
    this.slots = new Int32Array(1024);
    this.hashes = new Int32Array(1024);
    this.words = [];
    this.values = [];
  }

  private place(hash: number, entry: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) {
      slot = (slot + 1) & mask;
    }
    this.slots[slot] = entry;
    this.hashes[slot] = hash;
  }

  private grow(): void {
    const old = { slots: this.slots, hashes: this.hashes };
    this.slots = new Int32Array(old.slots.length * 2);
    this.hashes = new Int32Array(old.slots.length * 2);
    for (let slot = 0; slot < old.slots.length; slot++) {
      if (old.slots[slot] !== 0) {
        this.place(old.hashes[slot]!, old.slots[slot]!);
      }
    }
  }
}

function sameSpan(word: string, text: string, start: number): boolean {
  for (let index = 0; index < word.length; index++) {
    if (word.charCodeAt(index) !== text.charCodeAt(start + index)) {
      return false;
    }
  }
  return true;
}
