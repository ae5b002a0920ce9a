import type { IndexTables } from './indexTables';
import { inverseDocumentFrequency } from './termIndex';
import { queryTerms } from './terms';

// Ranking: BM25 over chunk terms (an OR of the query's terms, termIndex.ts), plus a boost for
// files whose path matches the query (a question that names `chunker` wants chunker.ts). Only
// the rarest terms are matched: a term found in most chunks adds almost nothing to BM25 but
// costs a posting per chunk.

export interface RankedPlace {
  readonly chunkId: number;
  readonly fileId: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly score: number;
}

const maxMatchedTerms = 12;
/** Postings scored per query at most (beyond the two rarest terms). */
const maxScoredRows = 1500;
/** A term in more than this share of chunks is dropped when rarer terms remain. */
const commonTermShare = 0.25;
/** Path BM25 is added at this weight (paths are short, so their scores run high). */
const pathWeight = 0.5;
const pathCandidates = 30;
/** Places listed per chunk at most (a chunk many files hold, such as a licence header). */
const maxPlacesPerChunk = 8;

/** The candidate chunk places for `query`, best first (before the read-time check). */
export function rankChunks(tables: IndexTables, query: string, limit: number): RankedPlace[] {
  const sql = tables.statements;
  const terms = queryTerms(query);
  if (terms.length === 0) {
    return [];
  }
  const chunkIndex = tables.chunkTerms;
  const chunkCount = chunkIndex.size;
  const withCounts = terms
    .map((term) => ({ term, documents: chunkIndex.documentsWith(term) }))
    .filter((entry) => entry.documents > 0)
    .sort((a, b) => a.documents - b.documents);
  const rare = withCounts.filter((entry) => entry.documents <= chunkCount * commonTermShare);
  // Rarest first, while the postings to score stay bounded; the two rarest terms always count.
  const matched: typeof withCounts = [];
  let rows = 0;
  for (const entry of (rare.length >= 2 ? rare : withCounts).slice(0, maxMatchedTerms)) {
    if (matched.length >= 2 && rows + entry.documents > maxScoredRows) {
      break;
    }
    matched.push(entry);
    rows += entry.documents;
  }

  const places = new Map<string, RankedPlace>();
  const top = chunkIndex.search(
    matched.map((entry) => ({ term: entry.term, weight: 1 })),
    limit,
  );
  const scoreOf = new Map(top.map((chunk) => [chunk.id, chunk.score]));
  // Where the top chunks are, in one statement (its IN list padded to a multiple of 16, so a few
  // prepared statements serve every limit); the first places of each chunk are kept here (a
  // window function in the statement cost three times as much).
  const slots = Math.max(16, Math.ceil(top.length / 16) * 16);
  const ids = Array.from({ length: slots }, (_, index) => top[index]?.id ?? -1);
  const placeRows = sql
    .all(`SELECT fc.chunk_id, fc.file_id, fc.ordinal, f.path, fc.start_line, fc.end_line FROM file_chunks fc JOIN files f ON f.id = fc.file_id WHERE fc.chunk_id IN (${ids.map(() => '?').join(', ')})`, ids)
    .sort((a, b) => (a.chunk_id as number) - (b.chunk_id as number) || (a.file_id as number) - (b.file_id as number) || (a.ordinal as number) - (b.ordinal as number));
  let previousChunk = -1;
  let placesOfChunk = 0;
  for (const place of placeRows) {
    const fileId = place.file_id as number;
    const chunkId = place.chunk_id as number;
    placesOfChunk = chunkId === previousChunk ? placesOfChunk + 1 : 1;
    previousChunk = chunkId;
    if (placesOfChunk > maxPlacesPerChunk) {
      continue;
    }
    places.set(`${fileId}:${place.start_line as number}`, { chunkId, fileId, path: place.path as string, startLine: place.start_line as number, endLine: place.end_line as number, score: scoreOf.get(chunkId) ?? 0 });
  }

  // Path matches: every query term counts, rare or not, weighted by its rarity among chunks.
  const idfByTerm = new Map(withCounts.map((entry) => [entry.term, inverseDocumentFrequency(chunkCount, entry.documents)]));
  const pathScore = new Map(
    tables.pathTerms
      .search(
        terms.slice(0, 24).map((term) => ({ term, weight: Math.min(1, (idfByTerm.get(term) ?? 1) / 3) })),
        pathCandidates,
      )
      .map((row) => [row.id, row.score * pathWeight]),
  );
  const boosted = [...places.values()].map((place) => ({ ...place, score: place.score + (pathScore.get(place.fileId) ?? 0) }));
  boosted.sort((a, b) => b.score - a.score);
  // A file named by the query with no chunk among the candidates: its first chunk stands for
  // it, if it would make the cut (all looked up in one statement).
  const present = new Set(boosted.map((place) => place.fileId));
  const cut = boosted.length >= limit ? boosted[limit - 1]!.score : -Infinity;
  const named = [...pathScore].filter(([fileId, score]) => !present.has(fileId) && score > cut);
  if (named.length > 0) {
    const fileSlots = Array.from({ length: Math.ceil(named.length / 16) * 16 }, (_, index) => named[index]?.[0] ?? -1);
    const firsts = new Map(
      sql
        .all(`SELECT fc.file_id, fc.chunk_id, fc.start_line, fc.end_line, f.path FROM file_chunks fc JOIN files f ON f.id = fc.file_id WHERE fc.ordinal = 0 AND fc.file_id IN (${fileSlots.map(() => '?').join(', ')})`, fileSlots)
        .map((row) => [row.file_id as number, row]),
    );
    for (const [fileId, score] of named) {
      const first = firsts.get(fileId);
      if (first) {
        boosted.push({ chunkId: first.chunk_id as number, fileId, path: first.path as string, startLine: first.start_line as number, endLine: first.end_line as number, score });
      }
    }
    boosted.sort((a, b) => b.score - a.score);
  }
  return boosted.slice(0, limit);
}
