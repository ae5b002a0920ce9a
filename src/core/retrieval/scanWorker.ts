import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PreparedBatch } from './preparedFile';
import type { ScanWorkerData, ScanWorkerReply, ScanWorkerRequest } from './retrievalWorker';

// The writer's side of the scan's second thread (retrievalWorker.ts): one worker per scan,
// batches answered in the order sent. The worker's term numbers are kept here (`vocabulary`),
// in the order it gave them. A worker that cannot start, fails or exits makes `prepare` answer
// undefined from then on, and the scan reads those files itself: slower, never wrong.

/** The worker's file: beside this module (out/ for the tests) or beside the bundle (dist/). */
const workerFile = path.join(__dirname, 'retrievalWorker.js');

export class ScanWorker {
  /** Term number -> term, as the worker numbered them. */
  readonly vocabulary: string[] = [];
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (batch: PreparedBatch | undefined) => void>();

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

  /** A started worker, or undefined where none can run (no worker file: the scan runs on one thread). */
  static start(data: ScanWorkerData): ScanWorker | undefined {
    if (!fs.existsSync(workerFile)) {
      return undefined;
    }
    try {
      return new ScanWorker(new Worker(workerFile, { workerData: data }));
    } catch {
      return undefined;
    }
  }

  /** False once the worker is gone (it failed, exited or was stopped). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The prepared batch of `paths`, or undefined if the worker is gone. */
  prepare(paths: readonly string[]): Promise<PreparedBatch | undefined> {
    const worker = this.worker;
    if (!worker) {
      return Promise.resolve(undefined);
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ id, paths } satisfies ScanWorkerRequest);
    });
  }

  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const settle of this.waiting.values()) {
      settle(undefined);
    }
    this.waiting.clear();
    void worker?.terminate();
  }
}
