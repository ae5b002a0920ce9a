// A hash table of words keyed by a span of a text, each with its term numbers, so a tokenizer
// (termCounter.ts) can look each word up without cutting it out first: a substring per word was
// most of the indexing time (its allocation, its hash, the GC). Open addressing, FNV-1a over the
// UTF-16 code units, the words compared exactly. Everything lives in flat typed arrays (the
// slots, the entries, the words' code units, the term numbers): a lookup touches a few
// neighbouring numbers instead of a string, an array of values and a typed array per word, which
// were a cache miss each. A full table starts again empty.

export const fnvOffset = 0x811c9dc5;

/** The FNV-1a step: `hash = fnvStep(hash, code)` for each code unit of the word. */
export function fnvStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, 16777619);
}

/** Ints per entry in `entries`: start and length of its word in `chars`, start and count of its numbers in `numbers`. */
const entryWidth = 4;

export class WordTable {
  /** Slot i is `[hash, entry + 1]` at 2i, 2i + 1; 0 marks it empty. */
  private slots: Int32Array = new Int32Array(2 * 1024);
  private entries: Int32Array = new Int32Array(entryWidth * 256);
  private chars: Uint16Array = new Uint16Array(1 << 14);
  private charLength = 0;
  /** The term numbers of every entry, each entry's together (read with termStart/termCount). */
  numbers: Int32Array = new Int32Array(1 << 12);
  private numberLength = 0;
  private count = 0;

  /** At most `maxWords` words and `maxChars` code units of them. */
  constructor(
    private readonly maxWords: number,
    private readonly maxChars: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The entry of the word `text.slice(start, end)`, whose hash is `hash`, or -1. */
  find(text: string, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot + 1]! - 1;
      if (entry < 0) {
        return -1;
      }
      if (slots[2 * slot] === hash && this.entries[entryWidth * entry + 1] === length && this.sameWord(entry, text, start, length)) {
        return entry;
      }
    }
  }

  termStart(entry: number): number {
    return this.entries[entryWidth * entry + 2]!;
  }

  termCount(entry: number): number {
    return this.entries[entryWidth * entry + 3]!;
  }

  /** Adds the word `text.slice(start, end)` (not in the table) with its term numbers; returns its entry. */
  add(text: string, start: number, end: number, hash: number, terms: ArrayLike<number>): number {
    const length = end - start;
    if (this.count >= this.maxWords || this.charLength + length > this.maxChars) {
      this.clear();
    }
    if ((this.count + 1) * 2 > this.slots.length >> 1) {
      this.slots = this.placed(new Int32Array(this.slots.length * 2));
    }
    const entry = this.count++;
    this.entries = ensure(this.entries, entryWidth * this.count, (size) => new Int32Array(size));
    this.chars = ensure(this.chars, this.charLength + length, (size) => new Uint16Array(size));
    this.numbers = ensure(this.numbers, this.numberLength + terms.length, (size) => new Int32Array(size));
    const at = entryWidth * entry;
    this.entries[at] = this.charLength;
    this.entries[at + 1] = length;
    this.entries[at + 2] = this.numberLength;
    this.entries[at + 3] = terms.length;
    for (let index = 0; index < length; index++) {
      this.chars[this.charLength + index] = text.charCodeAt(start + index);
    }
    this.charLength += length;
    for (let index = 0; index < terms.length; index++) {
      this.numbers[this.numberLength + index] = terms[index]!;
    }
    this.numberLength += terms.length;
    this.place(this.slots, hash, entry);
    return entry;
  }

  clear(): void {
    this.slots = new Int32Array(2 * 1024);
    this.count = 0;
    this.charLength = 0;
    this.numberLength = 0;
  }

  private sameWord(entry: number, text: string, start: number, length: number): boolean {
    const chars = this.chars;
    const from = this.entries[entryWidth * entry]!;
    for (let index = 0; index < length; index++) {
      if (chars[from + index] !== text.charCodeAt(start + index)) {
        return false;
      }
    }
    return true;
  }

  private place(slots: Int32Array, hash: number, entry: number): void {
    const mask = (slots.length >> 1) - 1;
    let slot = hash & mask;
    while (slots[2 * slot + 1] !== 0) {
      slot = (slot + 1) & mask;
    }
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = entry + 1;
  }

  /** `into` (empty, larger) with every slot of the table placed again. */
  private placed(into: Int32Array): Int32Array {
    const old = this.slots;
    for (let slot = 0; slot < old.length >> 1; slot++) {
      if (old[2 * slot + 1] !== 0) {
        this.place(into, old[2 * slot]!, old[2 * slot + 1]! - 1);
      }
    }
    return into;
  }
}

/** `array`, or a copy at least twice as long (made by `make`), holding at least `length` items. */
function ensure<T extends Int32Array | Uint16Array>(array: T, length: number, make: (length: number) => T): T {
  if (length <= array.length) {
    return array;
  }
  const grown = make(Math.max(length, array.length * 2));
  grown.set(array);
  return grown;
}
