import { chunkLines, isBlank, type ChunkOptions } from './chunker';
import { hashBytes, type FileReading, type FileVersion } from './fileSource';
import { redactSecrets, type Redaction } from './redaction';
import { IntPairs, type TermCounter } from './termCounter';

// A file made ready for the index away from the thread that writes it (retrievalWorker.ts):
// redacted, cut into chunks, each chunk hashed, its UTF-8 bytes laid out in one buffer and its
// terms counted. Terms travel as numbers: the counter gives each term a number the first time
// it meets it and the message names it once (`newTerms`), so the writer turns a chunk's terms
// into postings without a string per term (termIndex.ts addCounted). The counts are those
// of termCounter.ts, as TermIndex.addText's are for the same text.

export interface PreparedChunk {
  readonly startLine: number;
  readonly endLine: number;
  readonly hash: string;
  /** The chunk's UTF-8 bytes in the batch's `bytes`. */
  readonly byteStart: number;
  readonly byteEnd: number;
  /** Its (term number, count) pairs in the batch's `terms`, from index `termStart`, `termPairs` pairs. */
  readonly termStart: number;
  readonly termPairs: number;
  /** Terms counted with repeats (the document length BM25 uses). */
  readonly length: number;
}

export type PreparedReading =
  | Exclude<FileReading, { kind: 'text' }>
  | { readonly kind: 'text'; readonly version: FileVersion; readonly redactions: readonly Redaction[]; readonly chunks: readonly PreparedChunk[] };

export interface PreparedBatch {
  readonly files: ReadonlyArray<{ readonly path: string; readonly reading: PreparedReading }>;
  readonly bytes: Uint8Array;
  readonly terms: Int32Array;
  /** Terms numbered for the first time in this batch, in number order. */
  readonly newTerms: readonly string[];
}

/** Prepares the readings of a batch of files (FileReading -> PreparedReading) into one message; `done` starts the next. */
export class BatchBuilder {
  private chunks: Uint8Array[] = [];
  private byteLength = 0;
  private readonly terms = new IntPairs();
  private files: Array<{ path: string; reading: PreparedReading }> = [];
  private readonly byHash = new Map<string, PreparedChunk>();

  constructor(
    private readonly counter: TermCounter,
    private readonly chunkOptions: ChunkOptions,
  ) {}

  add(path: string, reading: FileReading): void {
    if (reading.kind !== 'text') {
      this.files.push({ path, reading });
      return;
    }
    const redacted = redactSecrets(reading.text);
    const prepared: PreparedChunk[] = [];
    for (const chunk of chunkLines(redacted.text, this.chunkOptions)) {
      if (isBlank(chunk.text)) {
        continue;
      }
      const bytes = Buffer.from(chunk.text, 'utf8');
      const hash = hashBytes(bytes);
      // A chunk met before in this batch (a file's .js and .mjs builds): its bytes and counts are shared.
      const same = this.byHash.get(hash);
      if (same) {
        prepared.push({ ...same, startLine: chunk.startLine, endLine: chunk.endLine });
        continue;
      }
      const termStart = this.terms.length / 2;
      // Counted in the file's text (a flat string), not in the chunk's slice of it.
      const [termPairs, length] = this.counter.count(redacted.text, this.terms, chunk.from, chunk.to);
      const made = { startLine: chunk.startLine, endLine: chunk.endLine, hash, byteStart: this.byteLength, byteEnd: this.byteLength + bytes.length, termStart, termPairs, length };
      this.byHash.set(hash, made);
      prepared.push(made);
      this.chunks.push(bytes);
      this.byteLength += bytes.length;
    }
    this.files.push({ path, reading: { kind: 'text', version: reading.version, redactions: redacted.redactions, chunks: prepared } });
  }

  done(): PreparedBatch {
    const bytes = new Uint8Array(this.byteLength);
    let at = 0;
    for (const chunk of this.chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    const batch = { files: this.files, bytes, terms: this.terms.values.slice(0, this.terms.length), newTerms: this.counter.takeNewTerms() };
    this.chunks = [];
    this.byteLength = 0;
    this.terms.length = 0;
    this.files = [];
    this.byHash.clear();
    return batch;
  }
}
