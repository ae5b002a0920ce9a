import type { SearchMatch, SearchOutcome } from '../tools/workspaceSearch';
import { displayLine } from '../tools/toolText';
import type { RetrievalIndex } from './retrievalIndex';

// search_text from the retrieval index: the same answer as reading the files (lines holding the
// text, case-insensitive) but from the stored chunks, so a search covers the whole folder
// instead of stopping at the walk's 500-file cap, and reads no file but those it answers from.
// Every file a match comes from is checked at read time first; a changed one is re-chunked and
// the search runs again, so no line is reported that the file no longer holds.

const maxCandidateChunks = 5000;

/** Matches from the index, or undefined when it cannot answer (not complete yet, or a non-ASCII query SQLite's lower() would not fold). */
export function searchIndexedText(index: RetrievalIndex, query: string, options: { readonly folder?: string; readonly maxResults: number }): SearchOutcome | undefined {
  const needle = query.toLowerCase();
  if (!index.ready || needle.trim() === '' || !/^[\x20-\x7e]*$/.test(needle)) {
    return undefined;
  }
  const folder = options.folder && options.folder !== '.' ? `${options.folder.replace(/^\.\/|\/+$/g, '')}/` : '';
  for (let round = 0; round < 2; round++) {
    const rows = index.sql.all(
      `SELECT fc.file_id, f.path, fc.start_line, c.text FROM chunks c JOIN file_chunks fc ON fc.chunk_id = c.id JOIN files f ON f.id = fc.file_id
       WHERE instr(lower(c.text), ?) > 0 AND substr(f.path, 1, ?) = ? ORDER BY f.path, fc.start_line LIMIT ?`,
      [needle, folder.length, folder, maxCandidateChunks],
    );
    const verdicts = new Map<number, boolean>();
    const seen = new Set<string>();
    const matches: SearchMatch[] = [];
    let changed = false;
    for (const row of rows) {
      const fileId = row.file_id as number;
      const path = row.path as string;
      let fresh = verdicts.get(fileId);
      if (fresh === undefined) {
        fresh = index.verifyFile(fileId, path);
        verdicts.set(fileId, fresh);
        changed ||= !fresh;
      }
      if (!fresh) {
        continue;
      }
      const lines = (row.text as string).split('\n');
      for (let offset = 0; offset < lines.length && matches.length < options.maxResults; offset++) {
        const line = (row.start_line as number) + offset;
        const key = `${path}:${line}`;
        if (!seen.has(key) && lines[offset]!.toLowerCase().includes(needle)) {
          seen.add(key);
          matches.push({ file: path, line, text: displayLine(lines[offset]!.trim().slice(0, 200)) });
        }
      }
    }
    if (changed && round === 0) {
      continue;
    }
    const files = new Set(matches.map((match) => match.file)).size;
    return {
      matches,
      filesSearched: files,
      filesSeen: files,
      filesSeenIsLowerBound: false,
      stoppedBy: matches.length >= options.maxResults || rows.length >= maxCandidateChunks ? 'results' : undefined,
      skipped: { tooLarge: 0, binary: 0, credentials: 0, unreadable: 0 },
    };
  }
  return undefined;
}
