import { hashBytes, type RetrievalScope } from './fileSource';
import type { IndexTables, RefreshOutcome } from './indexTables';

// The read-time check: before a hit is returned, its file is compared with its current state
// (size and mtime; the content hash when they differ, or when the mtime is too close to the
// last check to be trusted). A changed file is re-chunked before the answer, a deleted one
// dropped, so a missed watcher event (a branch switch, another tool's edit) can cost a miss but
// never a stale chunk. Each file is checked once per search, however many of its chunks rank.

export type Verdict = 'fresh' | 'changed' | 'gone';

export interface CheckedFile {
  readonly verdict: Verdict;
  /** The content hash the index holds, when fresh. */
  readonly hash: string;
}

export interface ReadCheckContext {
  readonly tables: IndexTables;
  readonly scope: RetrievalScope;
  readonly unsaved: ReadonlyMap<string, string>;
  readonly now: () => number;
  /** Re-indexes one file now (the index's refreshFile). */
  readonly refresh: (relative: string) => RefreshOutcome;
  readonly noteReindex: (relative: string) => void;
}

/** An mtime this close to the moment the content was confirmed may hide a later same-tick write (git's "racy" rule). */
export const racyWindowMs = 2000;

export function checkAtRead(context: ReadCheckContext, fileId: number, relative: string): CheckedFile {
  const { tables, scope } = context;
  const file = tables.fileRow(relative);
  if (!file || file.id !== fileId) {
    return { verdict: 'gone', hash: '' };
  }
  const unsavedText = context.unsaved.get(file.path);
  if (unsavedText !== undefined) {
    if (file.source === 'unsaved' && file.hash === hashBytes(unsavedText)) {
      return { verdict: 'fresh', hash: file.hash };
    }
  } else if (file.source === 'disk') {
    const stat = scope.statOf(file.path);
    if (stat && stat.size === file.size && stat.mtimeMs === file.mtimeMs && file.checkedMs - file.mtimeMs >= racyWindowMs) {
      return { verdict: 'fresh', hash: file.hash };
    }
    if (stat) {
      const reading = scope.read(file.path);
      if (reading.kind === 'text' && reading.version.hash === file.hash) {
        tables.confirm(file.id, reading.version);
        return { verdict: 'fresh', hash: file.hash };
      }
      tables.transaction(() => tables.apply(file.path, reading, file));
      context.noteReindex(file.path);
      return { verdict: reading.kind === 'text' ? 'changed' : 'gone', hash: '' };
    }
  }
  const outcome = context.refresh(file.path);
  return { verdict: outcome === 'indexed' || outcome === 'unchanged' ? 'changed' : 'gone', hash: '' };
}
