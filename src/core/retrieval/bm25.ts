import type { Database } from 'sql.js';

// BM25 from FTS4's matchinfo('pcnalx'), since this sql.js has no FTS5 and so no bm25(). The blob
// is 32-bit unsigned integers: p phrases, c columns, n rows, a[c] average tokens per column,
// l[c] tokens of this row's column, then x[3*c*p]: per phrase and column, hits in this row,
// hits in all rows, rows with a hit. Each query term is its own phrase (the query is an OR).

export const bm25FunctionName = 'retrieval_bm25';

const k1 = 1.2;
const b = 0.75;

/** Okapi BM25 of one row, with the always-positive IDF of Lucene (ln(1 + (n - df + 0.5)/(df + 0.5))). */
export function bm25FromMatchinfo(blob: Uint8Array, phraseWeights: readonly number[]): number {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const at = (index: number): number => view.getUint32(index * 4, true);
  const phrases = at(0);
  const columns = at(1);
  const rows = at(2);
  let score = 0;
  for (let column = 0; column < columns; column++) {
    const average = at(3 + column) || 1;
    const length = at(3 + columns + column);
    const norm = k1 * (1 - b + (b * length) / average);
    for (let phrase = 0; phrase < phrases; phrase++) {
      const base = 3 + 2 * columns + 3 * (phrase * columns + column);
      const tf = at(base);
      if (tf === 0) {
        continue;
      }
      const df = at(base + 2);
      const idf = Math.log(1 + (rows - df + 0.5) / (df + 0.5));
      score += (phraseWeights[phrase] ?? 1) * idf * ((tf * (k1 + 1)) / (tf + norm));
    }
  }
  return score;
}

/**
 * Registers `retrieval_bm25(matchinfo(t, 'pcnalx'))` on `db`; the phrase weights of the query
 * being run are read from `weights()` (queries run one at a time on the engine's thread).
 */
export function registerBm25(db: Database, weights: () => readonly number[]): void {
  db.create_function(bm25FunctionName, (blob: unknown) => (blob instanceof Uint8Array ? bm25FromMatchinfo(blob, weights()) : 0));
}

/** The IDF the ranking uses, for choosing which query terms are worth matching. */
export function inverseDocumentFrequency(rows: number, documents: number): number {
  return Math.log(1 + (rows - documents + 0.5) / (documents + 0.5));
}
