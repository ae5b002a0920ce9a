// An inverted index held in the engine's memory: term -> postings (document id and term
// frequency), each document's length, and each term's live document count. sql.js's FTS4 costs
// a call from WASM into JS per scored row and rewrites its segments on every insert; here a
// query touches only the postings of its terms and a document is added by appending. The sql.js
// database stays the persisted form: the postings are saved in it with the chunks
// (termIndexFile.ts) and derived again from the stored text when that copy is missing or off.
//
// Document ids only grow (the tables use AUTOINCREMENT), so each posting list is sorted, and a
// removed document is a tombstone skipped at query time until compaction drops it.

import { IntPairs, TermCounter } from './termCounter';

/** A posting is `id * tfLimit + tf` in one small integer: no object per posting. */
export const tfLimit = 256;

/** Okapi BM25 parameters, as the FTS4 ranking used them. */
const k1 = 1.2;
const b = 0.75;

export interface TermEntry {
  /** Sorted postings, `id * tfLimit + tf`, tombstoned ids included until compaction. */
  postings: number[];
  /** Documents that hold the term and are live. */
  documents: number;
}

/** A scan's term numbers (scanWorker.ts) and, for the index that last used them, their entries. */
export class TermNumbers {
  entries: Array<TermEntry | undefined> = [];
  owner: TermIndex | undefined;
  generation = -1;

  constructor(readonly vocabulary: readonly string[]) {}
}

export interface ScoredDocument {
  readonly id: number;
  readonly score: number;
}

/** The always-positive IDF of Lucene: ln(1 + (n - df + 0.5) / (df + 0.5)). */
export function inverseDocumentFrequency(rows: number, documents: number): number {
  return Math.log(1 + (rows - documents + 0.5) / (documents + 0.5));
}

export class TermIndex {
  private readonly terms = new Map<string, TermEntry>();
  /** Term count of each live document (0 = not live: removed or never added). */
  private lengths = new Int32Array(1024);
  private live = new Uint8Array(1024);
  private liveDocuments = 0;
  private totalLength = 0;
  /** Postings of removed documents still in the lists. */
  private deadPostings = 0;
  private allPostings = 0;
  /** Per-query scores by document id (all zero between queries). */
  private scratch = new Float64Array(0);
  /** Texts added whole (addText) are counted here, with numbers of their own. */
  private readonly ownCounter = new TermCounter();
  private readonly ownNumbers = new TermNumbers(this.ownCounter.vocabulary);
  private readonly ownPairs = new IntPairs();
  /** Bumped when compaction drops entries (an entry held outside, as by a TermNumbers, is then stale). */
  private generation = 0;

  get size(): number {
    return this.liveDocuments;
  }

  get postingCount(): number {
    return this.allPostings - this.deadPostings;
  }

  has(id: number): boolean {
    return id < this.live.length && this.live[id] === 1;
  }

  /** Live documents holding `term`. */
  documentsWith(term: string): number {
    return this.terms.get(term)?.documents ?? 0;
  }

  /** Adds document `id` (greater than every id added before) with the terms of `text` (terms.ts), repeats counted. */
  addText(id: number, text: string): void {
    this.ownPairs.length = 0;
    const [pairs, length] = this.ownCounter.count(text, this.ownPairs);
    this.addCounted(id, this.ownNumbers, this.ownPairs.values, 0, pairs, length);
  }

  /**
   * Adds document `id` from counted terms (preparedFile.ts): the pairs `data[2i]`, `data[2i+1]`
   * for i in [start, start + pairs) are a term's number in `numbers` and its count; `length`
   * counts repeats. The same document as addText of its text.
   */
  addCounted(id: number, numbers: TermNumbers, data: Int32Array, start: number, pairs: number, length: number): void {
    if (this.has(id)) {
      throw new Error(`document ${id} is already in the term index`);
    }
    this.reserve(id);
    if (numbers.owner !== this || numbers.generation !== this.generation) {
      numbers.entries = [];
      numbers.owner = this;
      numbers.generation = this.generation;
    }
    const entries = numbers.entries;
    for (let pair = start * 2, end = (start + pairs) * 2; pair < end; pair += 2) {
      const number = data[pair]!;
      let entry = entries[number];
      if (entry === undefined) {
        const term = numbers.vocabulary[number];
        if (term === undefined) {
          throw new Error(`term number ${number} was never named`);
        }
        entry = this.entryFor(term);
        entries[number] = entry;
      }
      entry.postings.push(id * tfLimit + Math.min(data[pair + 1]!, tfLimit - 1));
      entry.documents++;
    }
    this.allPostings += pairs;
    this.lengths[id] = length;
    this.live[id] = 1;
    this.liveDocuments++;
    this.totalLength += length;
  }

  private entryFor(term: string): TermEntry {
    let entry = this.terms.get(term);
    if (!entry) {
      entry = { postings: [], documents: 0 };
      this.terms.set(term, entry);
    }
    return entry;
  }

  /** Removes document `id`, whose terms were `terms` (the same ones it was added with). */
  remove(id: number, terms: readonly string[]): void {
    if (!this.has(id)) {
      return;
    }
    const distinct = new Set(terms);
    for (const term of distinct) {
      const entry = this.terms.get(term);
      if (entry) {
        entry.documents--;
      }
    }
    this.deadPostings += distinct.size;
    this.live[id] = 0;
    this.liveDocuments--;
    this.totalLength -= this.lengths[id]!;
    this.lengths[id] = 0;
    if (this.deadPostings > 4096 && this.deadPostings * 4 > this.allPostings) {
      this.compact();
    }
  }

  /** BM25 of every live document holding one of `terms` (each with its weight), best first, at most `limit`. */
  search(terms: ReadonlyArray<{ readonly term: string; readonly weight: number }>, limit: number): ScoredDocument[] {
    const rows = this.liveDocuments;
    if (rows === 0 || terms.length === 0) {
      return [];
    }
    const average = Math.max(1, Math.round(this.totalLength / rows));
    // Scores in a scratch array by id (no map entry per candidate), reset after use.
    if (this.scratch.length < this.live.length) {
      this.scratch = new Float64Array(this.live.length);
    }
    const scratch = this.scratch;
    const touched: number[] = [];
    for (const { term, weight } of terms) {
      const entry = this.terms.get(term);
      // (A weight of 0 would add nothing, and would list a document twice below.)
      if (!entry || entry.documents === 0 || !(weight > 0)) {
        continue;
      }
      const idf = weight * inverseDocumentFrequency(rows, entry.documents);
      for (const posting of entry.postings) {
        const id = Math.floor(posting / tfLimit);
        if (this.live[id] !== 1) {
          continue;
        }
        const tf = posting - id * tfLimit;
        const norm = k1 * (1 - b + (b * this.lengths[id]!) / average);
        if (scratch[id] === 0) {
          touched.push(id);
        }
        scratch[id]! += (idf * (tf * (k1 + 1))) / (tf + norm);
      }
    }
    const best = topScores(touched, scratch, limit);
    for (const id of touched) {
      scratch[id] = 0;
    }
    return best;
  }

  /** Every term with live postings, and those postings (for saving: termIndexFile.ts). */
  *entries(): Generator<[string, number[]]> {
    for (const [term, entry] of this.terms) {
      if (entry.documents > 0) {
        yield [term, entry.postings.filter((posting) => this.live[Math.floor(posting / tfLimit)] === 1)];
      }
    }
  }

  /** Live document ids with their lengths, ascending (for saving). */
  *documents(): Generator<[number, number]> {
    for (let id = 0; id < this.live.length; id++) {
      if (this.live[id] === 1) {
        yield [id, this.lengths[id]!];
      }
    }
  }

  /** An index from saved documents and postings; throws if a posting names a document not given. */
  static restore(documents: Iterable<readonly [number, number]>, terms: Iterable<readonly [string, number[]]>): TermIndex {
    const index = new TermIndex();
    for (const [id, length] of documents) {
      if (index.has(id)) {
        throw new Error(`document ${id} is saved twice`);
      }
      index.reserve(id);
      index.live[id] = 1;
      index.lengths[id] = length;
      index.liveDocuments++;
      index.totalLength += length;
    }
    for (const [term, postings] of terms) {
      for (const posting of postings) {
        if (index.live[Math.floor(posting / tfLimit)] !== 1) {
          throw new Error(`the saved postings of "${term}" name a document that is not saved`);
        }
      }
      index.terms.set(term, { postings, documents: postings.length });
      index.allPostings += postings.length;
    }
    return index;
  }

  private compact(): void {
    // Entries are dropped below: the ones cached by term number (TermNumbers) are stale.
    this.generation++;
    for (const [term, entry] of this.terms) {
      if (entry.documents === 0) {
        this.terms.delete(term);
      } else if (entry.postings.length !== entry.documents) {
        entry.postings = entry.postings.filter((posting) => this.live[Math.floor(posting / tfLimit)] === 1);
      }
    }
    this.allPostings -= this.deadPostings;
    this.deadPostings = 0;
  }

  private reserve(id: number): void {
    if (id < this.live.length) {
      return;
    }
    let size = this.live.length;
    while (size <= id) {
      size *= 2;
    }
    const lengths = new Int32Array(size);
    lengths.set(this.lengths);
    const live = new Uint8Array(size);
    live.set(this.live);
    this.lengths = lengths;
    this.live = live;
  }
}


/** The `limit` best of the `touched` ids by `scores`, best first (ties: lower id first, so answers are stable). */
function topScores(touched: readonly number[], scores: Float64Array, limit: number): ScoredDocument[] {
  const better = (x: ScoredDocument, y: ScoredDocument): number => y.score - x.score || x.id - y.id;
  const best: ScoredDocument[] = [];
  // Kept sorted; a score below the worst of a full list costs one comparison.
  for (const id of touched) {
    const score = scores[id]!;
    if (best.length >= limit) {
      const worst = best[best.length - 1]!;
      if (score < worst.score || (score === worst.score && id > worst.id)) {
        continue;
      }
    }
    const candidate = { id, score };
    let at = best.length;
    while (at > 0 && better(candidate, best[at - 1]!) < 0) {
      at--;
    }
    best.splice(at, 0, candidate);
    if (best.length > limit) {
      best.pop();
    }
  }
  return best;
}
