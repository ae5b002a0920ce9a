import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkOptions } from './chunker';
import { RetrievalScope } from './fileSource';
import { BatchBuilder, type PreparedBatch } from './preparedFile';
import { TermCounter } from './termCounter';
import { WorkspaceFiles } from '../tools/workspaceFiles';

// The scan's second thread (scanWorker.ts starts it): reads the files of each batch it is sent
// by the same rules as the writer (fileSource.ts), and prepares them (preparedFile.ts). It
// writes nothing; the index stays the writer's alone. Built as dist/retrievalWorker.js beside
// the engine and the CLI, and as out/…/retrievalWorker.js for the tests.

export interface ScanWorkerData {
  readonly folder: string;
  readonly excludeGlobs: readonly string[];
  readonly maxFileBytes: number;
  readonly chunkOptions: ChunkOptions;
}

export interface ScanWorkerRequest {
  readonly id: number;
  readonly paths: readonly string[];
}

export type ScanWorkerReply = { readonly id: number; readonly batch: PreparedBatch } | { readonly id: number; readonly error: string };

if (parentPort) {
  const port = parentPort;
  const data = workerData as ScanWorkerData;
  const scope = new RetrievalScope(new WorkspaceFiles(data.folder), { excludeGlobs: data.excludeGlobs, maxFileBytes: data.maxFileBytes });
  const builder = new BatchBuilder(new TermCounter(), data.chunkOptions);
  port.on('message', (request: ScanWorkerRequest) => {
    try {
      for (const relative of request.paths) {
        builder.add(relative, scope.read(relative, { walked: true }));
      }
      const batch = builder.done();
      port.postMessage({ id: request.id, batch } satisfies ScanWorkerReply, [batch.bytes.buffer as ArrayBuffer, batch.terms.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies ScanWorkerReply);
    }
  });
}
