// The retrieval cache's answers, as the engine, the CLI and the extension see them.

export interface RetrievalHit {
  /** Workspace-relative, forward slashes. */
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  /** The chunk's text, key-shaped strings redacted. */
  readonly text: string;
  readonly score: number;
  /** The content hash the chunk is stored under. */
  readonly chunkHash: string;
  /** The file version (content hash) the chunk was checked against at read time. */
  readonly fileHash: string;
}

export interface RetrievalSearchResult {
  readonly hits: readonly RetrievalHit[];
  /** True while the first index of the workspace has not finished: files may be missing. */
  readonly partial: boolean;
  /** Hits left out because their file changed or went away since it was indexed. */
  readonly staleDropped: number;
  /** Files re-chunked at read time before answering. */
  readonly rechunked: number;
  readonly ms: number;
}

export interface IndexProgress {
  readonly filesSeen: number;
  readonly filesIndexed: number;
  readonly filesUnchanged: number;
  readonly done: boolean;
}

export interface LastReindex {
  readonly path: string;
  readonly ms: number;
  readonly atMs: number;
}

export interface RetrievalStats {
  readonly workspaceFolder: string;
  readonly indexFile: string | null;
  readonly files: number;
  readonly chunks: number;
  /** Places chunks are used (a chunk in two files counts twice here, once in `chunks`). */
  readonly chunkPlaces: number;
  readonly skippedFiles: number;
  readonly redactions: number;
  readonly complete: boolean;
  readonly indexing: IndexProgress | null;
  readonly searches: number;
  /** Read-time checks that found the file as indexed (hits / checks). */
  readonly readChecks: number;
  readonly readCheckHits: number;
  readonly hitRate: number | null;
  readonly staleReadsPrevented: number;
  readonly reindexes: number;
  readonly lastReindex: LastReindex | null;
  readonly savedBytes: number | null;
  /** Why the saved index was not reused at open, if it was not. */
  readonly rebuiltBecause: string | null;
}

export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface RedactedString {
  readonly path: string;
  readonly line: number;
  readonly kind: string;
}
