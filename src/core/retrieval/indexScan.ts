import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RetrievalScope } from './fileSource';
import type { IndexTables, RefreshOutcome } from './indexTables';
import type { PreparedBatch } from './preparedFile';
import { LocalPreparer } from './localPreparer';
import { ScanWorker } from './scanWorker';
import { TermNumbers } from './termIndex';
import type { IndexProgress } from './retrievalTypes';

// The scan of the whole folder (the first index, or the re-check of a saved one): files the
// index holds at the same size and mtime are kept, others are read and chunked, files gone are
// dropped. Files are read, redacted, chunked and their terms counted on a second thread
// (scanWorker.ts) a few batches ahead of the one being written here; on this thread
// (localPreparer.ts) only unsaved documents, and every file when there is no worker. The writing
// runs in slices of a few milliseconds with a turn of the event loop between them, so the engine
// keeps answering; queries meanwhile answer from what is indexed.

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

/** Files handed to the worker at a time (progress is reported per batch). */
const scanBatchFiles = 64;
/** Batches the worker holds at a time: enough that it never waits for the writer. */
const workerBatches = 3;
/** Batches cut and not yet sent that the walk may run ahead by before it waits for the worker. */
const walkAhead = 2;
/** Files this thread prepares at a time when there is no worker. */
const localFiles = 8;
/** The longest stretch of work between turns of the event loop. */
const sliceMs = 6;

/** A batch sent to the worker. */
interface Job {
  /** Its paths (unsaved documents among them are not sent: the worker reads the disk). */
  readonly paths: readonly string[];
  readonly prepared: Promise<PreparedBatch | undefined>;
  readonly sentAtMs: number;
  /** The worker has answered. */
  ready: boolean;
}

export async function scanWorkspace(context: ScanContext, options: ScanOptions): Promise<IndexProgress> {
  const worker = context.useWorker ? ScanWorker.acquire() : undefined;
  try {
    return await scan(context, options, worker);
  } finally {
    worker?.release();
  }
}

async function scan(context: ScanContext, options: ScanOptions, worker: ScanWorker | undefined): Promise<IndexProgress> {
  const { tables, scope, unsaved } = context;
  const workerScope = { folder: scope.workspace.folder, excludeGlobs: scope.options.excludeGlobs, maxFileBytes: scope.options.maxFileBytes, chunkOptions: tables.chunkOptions };
  const workerNumbers = new TermNumbers(worker?.vocabulary ?? []);
  const local = new LocalPreparer(tables, context.now);
  const seen = new Set<string>();
  let progress: IndexProgress = { filesSeen: 0, filesIndexed: 0, filesUnchanged: 0, done: false };
  context.setProgress(progress);
  const excluded: Array<[string, string]> = [];
  let batch: string[] = [];
  /** Batches cut and not yet sent, in walk order. */
  const waiting: string[][] = [];
  const sent: Job[] = [];
  const tally = { indexed: 0, unchanged: 0 };
  const count = (outcome: RefreshOutcome): void => {
    if (outcome === 'indexed') {
      tally.indexed++;
    } else if (outcome === 'unchanged') {
      tally.unchanged++;
    }
  };
  const report = (): void => {
    progress = { ...progress, filesIndexed: progress.filesIndexed + tally.indexed, filesUnchanged: progress.filesUnchanged + tally.unchanged };
    tally.indexed = 0;
    tally.unchanged = 0;
    context.setProgress(progress);
    options.onProgress?.(progress);
  };
  // Files the index holds at the same size and mtime are kept (a stat each); the others wait
  // for the worker, or for this thread (unsaved documents always: the worker reads the disk).
  // A first index (no file rows when it began) has no row to look up for each file.
  const anyRows = tables.count('files') > 0;
  const cut = (): void => {
    const paths: string[] = [];
    let unchanged = 0;
    for (const relative of batch) {
      const existing = anyRows ? tables.fileRow(relative) : undefined;
      const stat = existing && !unsaved.has(relative) ? scope.statOf(relative) : undefined;
      if (existing && stat && existing.source === 'disk' && stat.size === existing.size && stat.mtimeMs === existing.mtimeMs) {
        unchanged++;
      } else {
        paths.push(relative);
      }
    }
    batch = [];
    tally.unchanged += unchanged;
    if (paths.length > 0) {
      waiting.push(paths);
    }
  };
  const send = (paths: string[]): void => {
    const job: Job = { paths, prepared: worker!.prepare(workerScope, paths.filter((relative) => !unsaved.has(relative))), sentAtMs: context.now(), ready: false };
    void job.prepared.then(() => (job.ready = true));
    sent.push(job);
  };
  // Writes run in transactions of at most a few milliseconds each, with a turn of the event
  // loop between them, however large the files are.
  const sliced = async (step: () => boolean): Promise<void> => {
    for (let more = true; more; ) {
      // A cancel stops the scan before its next slice (a batch may fit in one).
      options.signal?.throwIfAborted();
      const sliceEnds = performance.now() + sliceMs;
      more = tables.transaction(() => {
        for (const [relative, reason] of excluded.splice(0)) {
          tables.recordSkipped(relative, reason);
        }
        let going = true;
        while (going && performance.now() < sliceEnds) {
          going = step();
        }
        return going;
      });
      if (more) {
        await nextTurn();
        context.assertOpen();
        options.signal?.throwIfAborted();
      }
    }
  };
  const writeJob = async (job: Job): Promise<void> => {
    const prepared = await job.prepared;
    context.assertOpen();
    const files = prepared?.files ?? [];
    // The worker is gone (or an editor opened a file meanwhile): this thread prepares the rest.
    const rest = prepared ? job.paths.filter((relative) => unsaved.has(relative)) : [...job.paths];
    let next = 0;
    await sliced(() => {
      if (next < files.length) {
        const { path, reading } = files[next++]!;
        if (unsaved.has(path)) {
          rest.push(path);
        } else {
          count(tables.applyPrepared(path, reading, prepared!, workerNumbers, tables.fileRow(path), job.sentAtMs));
        }
      } else if (rest.length > 0) {
        count(local.apply(scope, rest.shift()!, unsaved));
      }
      return next < files.length || rest.length > 0;
    });
    report();
  };
  const writeLocally = async (paths: string[]): Promise<void> => {
    await sliced(() => {
      count(local.apply(scope, paths.shift()!, unsaved));
      return paths.length > 0;
    });
    report();
  };
  // Keeps the worker busy with batches in order and writes what it answers as it answers; the
  // walk runs a few batches ahead of it. While the worker runs, this thread only writes: it used
  // to prepare files of the newest batch whenever it would wait, which cost more than it gave
  // (the preparation compiled on two threads, longer turns of the event loop, no faster build).
  const pump = async (final: boolean): Promise<void> => {
    for (;;) {
      while (worker?.running && sent.length < workerBatches && waiting.length > 0) {
        send(waiting.shift()!);
      }
      const head = sent[0];
      if (head?.ready || (head && !worker?.running)) {
        await writeJob(sent.shift()!);
        continue;
      }
      if (worker?.running) {
        if ((!final && waiting.length < walkAhead) || !head) {
          return;
        }
        await head.prepared;
        continue;
      }
      if (waiting.length === 0) {
        return;
      }
      // Without a worker the batches are written in walk order, a few files at a time.
      const taken = waiting[0]!;
      await writeLocally(taken.splice(0, localFiles));
      if (taken.length === 0) {
        waiting.shift();
      }
    }
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
      cut();
      await pump(false);
    }
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  cut();
  await pump(true);
  if (excluded.length > 0) {
    await sliced(() => false);
  }
  report();
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
