import MiniSearch from 'minisearch';
import { chunkLines } from '../src/core/retrieval/chunker';
import { redactSecrets } from '../src/core/retrieval/redaction';
import { readRegularFileSync } from '../src/core/tools/regularFiles';
import { describeSecretContent } from '../src/core/tools/secretFiles';
import { looksBinary, type WorkspaceFiles } from '../src/core/tools/workspaceFiles';

// The baselines of bench/retrieval.ts, over the same files and the same chunks as ours: the
// walk and rules of WorkspaceFiles, our reader, redaction and chunker; then minisearch (its
// default tokenizer, BM25+) and SQLite's native FTS5 with bm25() (better-sqlite3, bench only).

export interface CorpusChunk {
  readonly id: number;
  readonly path: string;
  readonly text: string;
}

export interface Baseline {
  readonly name: string;
  /** Files read, chunked and indexed from scratch; returns the time taken in ms. */
  build(files: readonly string[]): Promise<number>;
  /** Paths of the best chunks, best first. */
  search(query: string, limit: number): string[];
  /** Drops a file's chunks and indexes its current text. */
  reindex(relative: string): void;
  sizeBytes(): number;
  close(): void;
}

export async function walkedFiles(workspace: WorkspaceFiles): Promise<string[]> {
  const files: string[] = [];
  for await (const relative of workspace.walkFiles('.')) {
    files.push(relative);
  }
  return files;
}

/** The chunks of one file as our index cuts them (same rules: size, binary, credentials, redaction). */
export function chunksOf(workspace: WorkspaceFiles, relative: string, maxFileBytes: number): Array<{ text: string }> {
  const read = readRegularFileSync(workspace.absolutePath(relative), maxFileBytes, { noFollow: true });
  if (read.kind !== 'read' || looksBinary(read.bytes)) {
    return [];
  }
  const text = read.bytes.toString('utf8');
  if (describeSecretContent(text)) {
    return [];
  }
  return chunkLines(redactSecrets(text).text).filter((chunk) => chunk.text.trim() !== '');
}

export function miniSearchBaseline(workspace: WorkspaceFiles, maxFileBytes: number): Baseline {
  let index = new MiniSearch<CorpusChunk>({ fields: ['path', 'text'], storeFields: ['path'] });
  let nextId = 1;
  const idsByPath = new Map<string, CorpusChunk[]>();
  const add = (relative: string): void => {
    const chunks = chunksOf(workspace, relative, maxFileBytes).map((chunk) => ({ id: nextId++, path: relative, text: chunk.text }));
    idsByPath.set(relative, chunks);
    index.addAll(chunks);
  };
  return {
    name: 'minisearch',
    async build(files) {
      index = new MiniSearch<CorpusChunk>({ fields: ['path', 'text'], storeFields: ['path'] });
      idsByPath.clear();
      const started = performance.now();
      for (const relative of files) {
        add(relative);
      }
      return performance.now() - started;
    },
    search(query, limit) {
      return index
        .search(query)
        .slice(0, limit)
        .map((result) => result.path as string);
    },
    reindex(relative) {
      for (const chunk of idsByPath.get(relative) ?? []) {
        index.discard(chunk.id);
      }
      add(relative);
    },
    sizeBytes: () => JSON.stringify(index).length,
    close: () => undefined,
  };
}

interface NativeStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): Array<Record<string, unknown>>;
  get(...params: unknown[]): Record<string, unknown> | undefined;
}
interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  transaction<T extends (...args: never[]) => unknown>(run: T): T;
  close(): void;
}

export function nativeFts5Baseline(workspace: WorkspaceFiles, maxFileBytes: number): Baseline {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (file: string) => NativeDatabase;
  let db = new Database(':memory:');
  const open = (): void => {
    db.exec('CREATE VIRTUAL TABLE chunks USING fts5(path, text)');
  };
  open();
  const insertFile = (relative: string): void => {
    const insert = db.prepare('INSERT INTO chunks (path, text) VALUES (?, ?)');
    for (const chunk of chunksOf(workspace, relative, maxFileBytes)) {
      insert.run(relative, chunk.text);
    }
  };
  return {
    name: 'native FTS5',
    async build(files) {
      db.close();
      db = new Database(':memory:');
      open();
      const started = performance.now();
      db.transaction(() => {
        for (const relative of files) {
          insertFile(relative);
        }
      })();
      return performance.now() - started;
    },
    search(query, limit) {
      const terms = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
      if (terms.length === 0) {
        return [];
      }
      const match = terms.map((term) => `"${term}"`).join(' OR ');
      return db.prepare('SELECT path FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT ?').all(match, limit).map((row) => row.path as string);
    },
    reindex(relative) {
      db.transaction(() => {
        db.prepare('DELETE FROM chunks WHERE path = ?').run(relative);
        insertFile(relative);
      })();
    },
    sizeBytes() {
      const pages = db.prepare('PRAGMA page_count').get()!;
      const size = db.prepare('PRAGMA page_size').get()!;
      return Number(Object.values(pages)[0]) * Number(Object.values(size)[0]);
    },
    close: () => db.close(),
  };
}
