import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RetrievalScope } from './fileSource';
import type { IndexTables } from './indexTables';
import type { IndexProgress } from './retrievalTypes';

// The scan of the whole folder (the first index, or the re-check of a saved one): files the
// index holds at the same size and mtime are kept, others are read and chunked, files gone are
// dropped. The work runs in slices of a few milliseconds with a turn of the event loop between
// them, so the engine keeps answering; queries meanwhile answer from what is indexed.

export interface ScanContext {
  readonly tables: IndexTables;
  readonly scope: RetrievalScope;
  readonly unsaved: ReadonlyMap<string, string>;
  readonly assertOpen: () => void;
  readonly setProgress: (progress: IndexProgress) => void;
}

export interface ScanOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: IndexProgress) => void;
}

/** Files handed to the writer at a time (progress is reported per batch). */
const scanBatchFiles = 64;
/** The longest stretch of work between turns of the event loop. */
const sliceMs = 6;

export async function scanWorkspace(context: ScanContext, options: ScanOptions): Promise<IndexProgress> {
  const { tables, scope, unsaved } = context;
  const seen = new Set<string>();
  let progress: IndexProgress = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, done: false };
  context.setProgress(progress);
  const excluded: Array<[string, string]> = [];
  let batch: string[] = [];
  // A batch is written in transactions of at most a few milliseconds each, with a turn of the
  // event loop between them, however large its files are.
  const flush = async (): Promise<void> => {
    const paths = batch;
    batch = [];
    let indexed = 0;
    let unchanged = 0;
    let next = 0;
    while (next < paths.length || excluded.length > 0) {
      const sliceEnds = performance.now() + sliceMs;
      tables.transaction(() => {
        for (const [relative, reason] of excluded.splice(0)) {
          tables.recordSkipped(relative, reason);
        }
        for (; next < paths.length && performance.now() < sliceEnds; next++) {
          const relative = paths[next]!;
          const existing = tables.fileRow(relative);
          const stat = existing && !unsaved.has(relative) ? scope.statOf(relative) : undefined;
          if (existing && stat && existing.source === 'disk' && stat.size === existing.size && stat.mtimeMs === existing.mtimeMs) {
            unchanged++;
            continue;
          }
          const unsavedText = unsaved.get(relative);
          const outcome = tables.apply(relative, scope.read(relative, { walked: true, ...(unsavedText !== undefined ? { unsavedText } : {}) }), existing);
          if (outcome === 'indexed') {
            indexed++;
          } else if (outcome === 'unchanged') {
            unchanged++;
          }
        }
      });
      if (next < paths.length) {
        await nextTurn();
        context.assertOpen();
        options.signal?.throwIfAborted();
      }
    }
    progress = { ...progress, filesIndexed: progress.filesIndexed + indexed, filesUnchanged: progress.filesUnchanged + unchanged };
    context.setProgress(progress);
    options.onProgress?.(progress);
  };
  let sliceStart = performance.now();
  for await (const relative of scope.workspace.walkFiles('.', options.signal, (path, reason) => excluded.push([path, reason]))) {
    context.assertOpen();
    if (scope.userExclusion(relative, false)) {
      excluded.push([relative, 'matched by files.exclude or contextLedger.retrieval.exclude']);
      continue;
    }
    seen.add(relative);
    progress = { ...progress, filesSeen: progress.filesSeen + 1 };
    batch.push(relative);
    if (batch.length >= scanBatchFiles) {
      await flush();
    }
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  await flush();
  options.signal?.throwIfAborted();
  // Files the index holds that the walk did not give: gone, or excluded now. A file created
  // after the walk passed its folder is checked, not dropped.
  const indexed = tables.statements.all('SELECT path FROM files', []).map((row) => row.path as string);
  tables.transaction(() => {
    for (const relative of indexed) {
      if (!seen.has(relative) && !unsaved.has(relative)) {
        tables.apply(relative, scope.read(relative), tables.fileRow(relative));
      }
    }
    tables.setMeta('complete', '1');
  });
  progress = { ...progress, done: true };
  options.onProgress?.(progress);
  return progress;
}
