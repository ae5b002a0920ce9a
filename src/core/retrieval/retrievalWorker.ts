import { parentPort } from 'node:worker_threads';
import type { ChunkOptions } from './chunker';
import { RetrievalScope } from './fileSource';
import { BatchBuilder, type PreparedBatch } from './preparedFile';
import { TermCounter } from './termCounter';
import { WorkspaceFiles } from '../tools/workspaceFiles';

// The scans' second thread (scanWorker.ts starts it, one per engine): reads the files of each
// batch it is sent by the same rules as the writer (fileSource.ts), and prepares them
// (preparedFile.ts). It writes nothing; each index stays its writer's alone. One worker serves
// every scan, so the second scan of a session starts with compiled code and known words. Built
// as dist/retrievalWorker.js beside the engine and the CLI, and as out/…/retrievalWorker.js for
// the tests.

/** What a batch is read by: the folder and its rules, as the scan's own RetrievalScope has them. */
export interface ScanWorkerScope {
  readonly folder: string;
  readonly excludeGlobs: readonly string[];
  readonly maxFileBytes: number;
  readonly chunkOptions: ChunkOptions;
}

export interface ScanWorkerRequest {
  readonly id: number;
  readonly scope: ScanWorkerScope;
  readonly paths: readonly string[];
}

export type ScanWorkerReply = { readonly id: number; readonly batch: PreparedBatch } | { readonly id: number; readonly error: string };

/** Scopes kept at most (a scan names its scope in each batch; most engines have one or two). */
const maxScopes = 8;

if (parentPort) {
  const port = parentPort;
  // One counter for every scope: its term numbers are the worker's (scanWorker.ts keeps them).
  const counter = new TermCounter();
  const readers = new Map<string, { scope: RetrievalScope; builder: BatchBuilder }>();
  const readerFor = (scope: ScanWorkerScope): { scope: RetrievalScope; builder: BatchBuilder } => {
    const key = JSON.stringify([scope.folder, scope.excludeGlobs, scope.maxFileBytes, scope.chunkOptions]);
    let reader = readers.get(key);
    if (!reader) {
      if (readers.size >= maxScopes) {
        readers.clear();
      }
      reader = {
        scope: new RetrievalScope(new WorkspaceFiles(scope.folder), { excludeGlobs: scope.excludeGlobs, maxFileBytes: scope.maxFileBytes }),
        builder: new BatchBuilder(counter, scope.chunkOptions),
      };
      readers.set(key, reader);
    }
    return reader;
  };
  port.on('message', (request: ScanWorkerRequest) => {
    try {
      const { scope, builder } = readerFor(request.scope);
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
