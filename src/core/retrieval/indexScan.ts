import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RetrievalScope } from './fileSource';
import type { IndexTables, RefreshOutcome } from './indexTables';
import type { PreparedBatch } from './preparedFile';
import { ScanWorker } from './scanWorker';
import { TermNumbers } from './termIndex';
import type { IndexProgress } from './retrievalTypes';

// The scan of the whole folder (the first index, or the re-check of a saved one): files the
// index holds at the same size and mtime are kept, others are read and chunked, files gone are
// dropped. Files are read, redacted, chunked and their terms counted on a second thread
// (scanWorker.ts) a few batches ahead of the one being written here. The writing runs in
// slices of a few milliseconds with a turn of the event loop between them, so the engine keeps
// answering; queries meanwhile answer from what is indexed.

export interface ScanContext {
  readonly tables: IndexTables;
  readonly scope: RetrievalScope;
  readonly unsaved: ReadonlyMap<string, string>;
  readonly assertOpen: () => void;
  readonly setProgress: (progress: IndexProgress) => void;
  /** Read and prepare files on a second thread (scanWorker.ts); without it, or if it fails, on this one. */
  readonly useWorker: boolean;
  readonly now: () => number;
}

export interface ScanOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: IndexProgress) => void;
}

/** Files handed to the writer at a time (progress is reported per batch). */
const scanBatchFiles = 64;
/** Batches sent to the worker ahead of the one being written. */
const batchesAhead = 2;
/** The longest stretch of work between turns of the event loop. */
const sliceMs = 6;

/** A batch on its way: files found unchanged, files this thread reads, and what the worker prepares. */
interface Job {
  readonly unchanged: number;
  readonly local: string[];
  readonly sent: readonly string[];
  readonly prepared: Promise<PreparedBatch | undefined> | undefined;
  readonly sentAtMs: number;
  /** The worker has answered (or nothing was sent). */
  ready: boolean;
}

export async function scanWorkspace(context: ScanContext, options: ScanOptions): Promise<IndexProgress> {
  const { scope, tables } = context;
  const worker = context.useWorker ? ScanWorker.start({ folder: scope.workspace.folder, excludeGlobs: scope.options.excludeGlobs, maxFileBytes: scope.options.maxFileBytes, chunkOptions: tables.chunkOptions }) : undefined;
  try {
    return await scan(context, options, worker);
  } finally {
    worker?.stop();
  }
}

async function scan(context: ScanContext, options: ScanOptions, worker: ScanWorker | undefined): Promise<IndexProgress> {
  const { tables, scope, unsaved } = context;
  const numbers = new TermNumbers(worker?.vocabulary ?? []);
  const seen = new Set<string>();
  let progress: IndexProgress = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, done: false };
  context.setProgress(progress);
  const excluded: Array<[string, string]> = [];
  let batch: string[] = [];
  const jobs: Job[] = [];
  const count = (outcome: RefreshOutcome, tally: { indexed: number; unchanged: number }): void => {
    if (outcome === 'indexed') {
      tally.indexed++;
    } else if (outcome === 'unchanged') {
      tally.unchanged++;
    }
  };
  // Files the index holds at the same size and mtime are kept (a stat each); the others go to
  // the worker, or are read here (unsaved documents, or no worker).
  const submit = (): void => {
    const paths = batch;
    batch = [];
    let unchanged = 0;
    // While the worker has batches enough in hand, this thread reads the next one itself (the
    // two threads share the reading, each as fast as it goes).
    const toWorker = worker !== undefined && jobs.filter((job) => !job.ready).length < batchesAhead;
    const local: string[] = [];
    const sent: string[] = [];
    for (const relative of paths) {
      const existing = tables.fileRow(relative);
      const stat = existing && !unsaved.has(relative) ? scope.statOf(relative) : undefined;
      if (existing && stat && existing.source === 'disk' && stat.size === existing.size && stat.mtimeMs === existing.mtimeMs) {
        unchanged++;
      } else if (toWorker && !unsaved.has(relative)) {
        sent.push(relative);
      } else {
        local.push(relative);
      }
    }
    const sentAtMs = context.now();
    const prepared = sent.length > 0 ? worker?.prepare(sent) : undefined;
    const job: Job = { unchanged, local, sent, prepared, sentAtMs, ready: prepared === undefined };
    void prepared?.then(() => (job.ready = true));
    jobs.push(job);
  };
  // A batch is written in transactions of at most a few milliseconds each, with a turn of the
  // event loop between them, however large its files are.
  const write = async (job: Job): Promise<void> => {
    const prepared = job.prepared ? await job.prepared : undefined;
    context.assertOpen();
    const local = prepared ? job.local : [...job.local, ...job.sent];
    const files = prepared?.files ?? [];
    const tally = { indexed: 0, unchanged: job.unchanged };
    let nextFile = 0;
    let nextLocal = 0;
    while (nextFile < files.length || nextLocal < local.length || excluded.length > 0) {
      const sliceEnds = performance.now() + sliceMs;
      tables.transaction(() => {
        for (const [relative, reason] of excluded.splice(0)) {
          tables.recordSkipped(relative, reason);
        }
        for (; nextFile < files.length && performance.now() < sliceEnds; nextFile++) {
          const { path, reading } = files[nextFile]!;
          // An editor opened the file meanwhile: its unsaved text is what the index holds.
          if (unsaved.has(path)) {
            local.push(path);
            continue;
          }
          count(tables.applyPrepared(path, reading, prepared!, numbers, tables.fileRow(path), job.sentAtMs), tally);
        }
        for (; nextFile >= files.length && nextLocal < local.length && performance.now() < sliceEnds; nextLocal++) {
          const relative = local[nextLocal]!;
          const unsavedText = unsaved.get(relative);
          count(tables.apply(relative, scope.read(relative, { walked: true, ...(unsavedText !== undefined ? { unsavedText } : {}) }), tables.fileRow(relative)), tally);
        }
      });
      if (nextFile < files.length || nextLocal < local.length) {
        await nextTurn();
        context.assertOpen();
        options.signal?.throwIfAborted();
      }
    }
    progress = { ...progress, filesIndexed: progress.filesIndexed + tally.indexed, filesUnchanged: progress.filesUnchanged + tally.unchanged };
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
      submit();
      // Without a worker each batch is written as soon as it is cut.
      // Written in the order they are ready (a batch read here before one the worker still reads).
      while (jobs.length > (worker ? batchesAhead : 0)) {
        const ready = jobs.findIndex((job) => job.ready);
        await write(jobs.splice(Math.max(0, ready), 1)[0]!);
      }
    }
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  submit();
  while (jobs.length > 0) {
    await write(jobs.shift()!);
  }
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
