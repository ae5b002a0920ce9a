import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PreparedBatch } from './preparedFile';
import type { ScanWorkerReply, ScanWorkerRequest, ScanWorkerScope } from './retrievalWorker';

// The writers' side of the scans' second thread (retrievalWorker.ts): batches answered in the
// order sent. The worker's term numbers are kept here (`vocabulary`), in the order it gave
// them. A worker that cannot start, fails or exits makes `prepare` answer undefined from then
// on, and the scan reads those files itself: slower, never wrong.
//
// One worker serves the engine's scans (`ScanWorker.acquire`): a reindex, a reopened folder's
// re-check or a second folder starts with its code compiled and its words known, instead of
// a fresh thread's cold start. It is stopped a while after the last scan released it, and never
// keeps the process alive.

/** The worker's file: beside this module (out/ for the tests) or beside the bundle (dist/). */
const workerFile = path.join(__dirname, 'retrievalWorker.js');

/** How long the shared worker outlives the last scan that used it. */
const idleStopMs = 30_000;

export class ScanWorker {
  private static shared: ScanWorker | undefined;

  /** Term number -> term, as the worker numbered them. */
  readonly vocabulary: string[] = [];
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (batch: PreparedBatch | undefined) => void>();
  private users = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (reply: ScanWorkerReply) => {
      const settle = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) {
        // Its term numbers may be off from here on: no more batches from it.
        this.stop();
        settle?.(undefined);
        return;
      }
      this.vocabulary.push(...reply.batch.newTerms);
      settle?.(reply.batch);
    });
    worker.on('error', () => this.stop());
    worker.on('exit', () => this.stop());
  }

  /** A worker of its own, or undefined where none can run (no worker file: the scan runs on one thread). */
  static start(): ScanWorker | undefined {
    if (!fs.existsSync(workerFile)) {
      return undefined;
    }
    try {
      return new ScanWorker(new Worker(workerFile));
    } catch {
      return undefined;
    }
  }

  /** The engine's shared worker (started if none is running), held until `release`. */
  static acquire(): ScanWorker | undefined {
    let shared = ScanWorker.shared;
    if (!shared?.running) {
      shared = ScanWorker.start();
      ScanWorker.shared = shared;
    }
    if (shared) {
      shared.users++;
      clearTimeout(shared.idleTimer);
      // Held by a scan that waits on it: it keeps the process alive until released.
      shared.worker?.ref();
    }
    return shared;
  }

  /** Stops the shared worker now (its scans read the rest themselves); the next `acquire` starts another. */
  static stopShared(): void {
    ScanWorker.shared?.stop();
  }

  /** Gives back what `acquire` gave: the last user to leave starts the idle stop. */
  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0 && this.running) {
      // Idle, it must not keep the process alive (a CLI run ends when its scan does).
      this.worker?.unref();
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.stop(), idleStopMs);
      this.idleTimer.unref();
    }
  }

  /** False once the worker is gone (it failed, exited or was stopped). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The prepared batch of `paths` read in `scope`, or undefined if the worker is gone. */
  prepare(scope: ScanWorkerScope, paths: readonly string[]): Promise<PreparedBatch | undefined> {
    const worker = this.worker;
    if (!worker) {
      return Promise.resolve(undefined);
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ id, scope, paths } satisfies ScanWorkerRequest);
    });
  }

  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    if (ScanWorker.shared === this) {
      ScanWorker.shared = undefined;
    }
    for (const settle of this.waiting.values()) {
      settle(undefined);
    }
    this.waiting.clear();
    void worker?.terminate();
  }
}
