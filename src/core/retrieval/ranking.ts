import { bm25FunctionName, inverseDocumentFrequency } from './bm25';
import { queryTerms } from './terms';
import type { RetrievalIndex } from './retrievalIndex';

// Ranking: BM25 over chunk terms (an OR of the query's terms, FTS4 matchinfo), plus a boost for
// files whose path matches the query (a question that names `chunker` wants chunker.ts). Only
// the rarest terms are matched: a term found in most chunks adds almost nothing to BM25 but
// costs a row per chunk.

export interface RankedPlace {
  readonly chunkId: number;
  readonly chunkHash: string;
  readonly text: string;
  readonly fileId: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly score: number;
}

const maxMatchedTerms = 12;
/** A term in more than this share of chunks is dropped when rarer terms remain. */
const commonTermShare = 0.25;
/** Path BM25 is added at this weight (paths are short, so their scores run high). */
const pathWeight = 0.5;
const pathCandidates = 30;

/** The candidate chunk places for `query`, best first (before the read-time check). */
export function rankChunks(index: RetrievalIndex, query: string, limit: number): RankedPlace[] {
  const sql = index.sql;
  const terms = queryTerms(query);
  if (terms.length === 0) {
    return [];
  }
  const chunkCount = sql.one('SELECT COUNT(*) AS n FROM chunks', [])!.n as number;
  const withCounts = terms
    .map((term) => ({ term, documents: (sql.one("SELECT documents FROM chunk_vocabulary WHERE col = '*' AND term = ?", [term])?.documents as number | undefined) ?? 0 }))
    .filter((entry) => entry.documents > 0)
    .sort((a, b) => a.documents - b.documents);
  const rare = withCounts.filter((entry) => entry.documents <= chunkCount * commonTermShare);
  const matched = (rare.length >= 2 ? rare : withCounts).slice(0, maxMatchedTerms);

  const scores = new Map<string, RankedPlace>();
  if (matched.length > 0) {
    index.phraseWeights = matched.map(() => 1);
    const rows = sql.all(
      `SELECT c.id, c.hash, c.text, s.score FROM (SELECT docid, ${bm25FunctionName}(matchinfo(chunk_terms, 'pcnalx')) AS score FROM chunk_terms WHERE chunk_terms MATCH ? ORDER BY score DESC LIMIT ?) s JOIN chunks c ON c.id = s.docid ORDER BY s.score DESC`,
      [matched.map((entry) => entry.term).join(' OR '), limit],
    );
    for (const row of rows) {
      for (const place of sql.all('SELECT fc.file_id, f.path, fc.start_line, fc.end_line FROM file_chunks fc JOIN files f ON f.id = fc.file_id WHERE fc.chunk_id = ? LIMIT 8', [row.id as number])) {
        const key = `${place.file_id as number}:${place.start_line as number}`;
        scores.set(key, {
          chunkId: row.id as number,
          chunkHash: row.hash as string,
          text: row.text as string,
          fileId: place.file_id as number,
          path: place.path as string,
          startLine: place.start_line as number,
          endLine: place.end_line as number,
          score: row.score as number,
        });
      }
    }
  }

  // Path matches: every query term counts, rare or not, weighted by its rarity among chunks.
  const pathTermList = terms.slice(0, 24);
  const idfByTerm = new Map(withCounts.map((entry) => [entry.term, inverseDocumentFrequency(chunkCount, entry.documents)]));
  index.phraseWeights = pathTermList.map((term) => Math.min(1, (idfByTerm.get(term) ?? 1) / 3));
  const pathRows = sql.all(`SELECT docid, ${bm25FunctionName}(matchinfo(path_terms, 'pcnalx')) AS score FROM path_terms WHERE path_terms MATCH ? ORDER BY score DESC LIMIT ?`, [pathTermList.join(' OR '), pathCandidates]);
  const pathScore = new Map(pathRows.map((row) => [row.docid as number, (row.score as number) * pathWeight]));
  const boosted = [...scores.values()].map((place) => ({ ...place, score: place.score + (pathScore.get(place.fileId) ?? 0) }));
  // A file named by the query with no chunk among the candidates: its first chunk stands for it.
  const present = new Set(boosted.map((place) => place.fileId));
  for (const [fileId, score] of pathScore) {
    if (present.has(fileId)) {
      continue;
    }
    const first = sql.one('SELECT fc.chunk_id, fc.start_line, fc.end_line, f.path, c.hash, c.text FROM file_chunks fc JOIN files f ON f.id = fc.file_id JOIN chunks c ON c.id = fc.chunk_id WHERE fc.file_id = ? ORDER BY fc.ordinal LIMIT 1', [fileId]);
    if (first) {
      boosted.push({ chunkId: first.chunk_id as number, chunkHash: first.hash as string, text: first.text as string, fileId, path: first.path as string, startLine: first.start_line as number, endLine: first.end_line as number, score });
    }
  }
  return boosted.sort((a, b) => b.score - a.score).slice(0, limit);
}
