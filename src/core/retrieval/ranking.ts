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
/** Postings scored per query at most (beyond the two rarest terms). */
const maxScoredRows = 1500;
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
  // Rarest first, while the rows to score stay bounded (each row costs a call into JS); the
  // two rarest terms always count.
  const matched: typeof withCounts = [];
  let rows = 0;
  for (const entry of (rare.length >= 2 ? rare : withCounts).slice(0, maxMatchedTerms)) {
    if (matched.length >= 2 && rows + entry.documents > maxScoredRows) {
      break;
    }
    matched.push(entry);
    rows += entry.documents;
  }

  const scores = new Map<string, RankedPlace>();
  if (matched.length > 0) {
    index.phraseWeights = matched.map(() => 1);
    // Scored alone, so SQLite computes each row's BM25 once (a join would evaluate it again).
    const scored = sql.all(`SELECT docid, ${bm25FunctionName}(matchinfo(chunk_terms, 'pcnalx')) AS score FROM chunk_terms WHERE chunk_terms MATCH ? ORDER BY score DESC LIMIT ?`, [
      matched.map((entry) => entry.term).join(' OR '),
      limit,
    ]);
    for (const top of scored) {
      const chunk = sql.one('SELECT id, hash, text FROM chunks WHERE id = ?', [top.docid as number]);
      if (!chunk) {
        continue;
      }
      const row = { id: chunk.id as number, hash: chunk.hash as string, text: chunk.text as string, score: top.score as number };
      for (const place of sql.all('SELECT fc.file_id, f.path, fc.start_line, fc.end_line FROM file_chunks fc JOIN files f ON f.id = fc.file_id WHERE fc.chunk_id = ? LIMIT 8', [row.id])) {
        const key = `${place.file_id as number}:${place.start_line as number}`;
        scores.set(key, {
          chunkId: row.id,
          chunkHash: row.hash,
          text: row.text,
          fileId: place.file_id as number,
          path: place.path as string,
          startLine: place.start_line as number,
          endLine: place.end_line as number,
          score: row.score,
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
