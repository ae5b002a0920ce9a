import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileSystem } from '../core/fs/fileSystem';
import { indexFilePath, readSavedWorkspaceFolder } from '../core/retrieval/indexDatabase';
import { RetrievalIndex } from '../core/retrieval/retrievalIndex';
import { loadSqlJs } from '../core/store/sqlJsLoader';
import { WorkspaceFiles } from '../core/tools/workspaceFiles';
import { hitSummary } from '../shared/retrievalProtocol';
import { UsageError, positiveInteger } from './args';

// `index FOLDER` and `search "query"`: the retrieval cache from a terminal, on the same index
// file the engine uses (<store>/retrieval/index.sqlite). search answers after the read-time
// check, so what it prints is what the files hold now.

type Output = (line: string) => void;

export async function runRetrievalCommand(
  command: 'index' | 'search',
  positionals: readonly string[],
  options: ReadonlyMap<string, string | true>,
  storeDir: string,
  fileSystem: FileSystem,
  out: Output,
): Promise<number> {
  const json = options.has('json');
  const store = path.resolve(storeDir);
  const sql = await loadSqlJs();
  if (command === 'index') {
    const folder = positionals[0];
    if (!folder) {
      throw new UsageError('index needs a FOLDER to index');
    }
    if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`${folder} is not a folder`);
    }
    const excludeGlobs = typeof options.get('exclude') === 'string' ? (options.get('exclude') as string).split(',') : [];
    const started = performance.now();
    const index = RetrievalIndex.open({ sql, fs: fileSystem, workspace: new WorkspaceFiles(folder), storeDir: store, excludeGlobs });
    try {
      const progress = await index.indexWorkspace();
      const bytes = index.save();
      const stats = index.stats();
      if (json) {
        out(JSON.stringify({ progress, stats }, null, 2));
      } else {
        out(`indexed ${index.workspaceFolder}: ${progress.filesSeen} files (${progress.filesIndexed} read, ${progress.filesUnchanged} unchanged since the saved index), ${stats.chunks} chunks in ${(performance.now() - started).toFixed(0)} ms`);
        out(`skipped ${stats.skippedFiles} files or folders, redacted ${stats.redactions} key-shaped strings; ${indexFilePath(store)} (${bytes} bytes)${stats.rebuiltBecause ? `; new index: ${stats.rebuiltBecause}` : ''}`);
      }
      return 0;
    } finally {
      index.close();
    }
  }
  const query = positionals[0];
  if (!query || query.trim() === '') {
    throw new UsageError('search needs a "query"');
  }
  const limit = positiveInteger(options.get('limit'), 'limit') ?? 10;
  const folder = readSavedWorkspaceFolder(sql, fileSystem, indexFilePath(store));
  if (!folder) {
    throw new Error(`no retrieval index in ${store}: run \`context-ledger --store ${storeDir} index FOLDER\` first`);
  }
  const index = RetrievalIndex.open({ sql, fs: fileSystem, workspace: new WorkspaceFiles(folder), storeDir: store });
  try {
    const result = index.search(query, { limit });
    if (index.isDirty) {
      // The read-time check re-chunked or dropped files: keep that for the next search.
      index.save();
    }
    if (json) {
      out(JSON.stringify(result.hits.map(hitSummary), null, 2));
      return 0;
    }
    if (result.partial) {
      out('(the index is partial: the first index of this folder has not finished)');
    }
    if (result.hits.length === 0) {
      out('no hits');
    }
    for (const hit of result.hits) {
      out(`${hit.path}:${hit.startLine}-${hit.endLine}  score ${hit.score.toFixed(2)}`);
      out(hit.text.split('\n').slice(0, 6).map((line) => `    ${line}`).join('\n'));
    }
    if (result.staleDropped > 0) {
      out(`(${result.staleDropped} hits of files changed since indexing were checked and replaced or dropped)`);
    }
    return 0;
  } finally {
    index.close();
  }
}
