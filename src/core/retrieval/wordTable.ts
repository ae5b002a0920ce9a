// A hash table of words keyed by a span of a text, so a tokenizer (termCounter.ts) can look each
// word up without cutting it out first: a substring per word was most of the indexing time (its
// allocation, its hash, the GC). Open addressing, FNV-1a over the UTF-16 code units, the words
// compared exactly; a full table starts again empty.

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
