import { chunkLines, type ChunkOptions } from './chunker';
import { hashBytes, type FileReading, type FileVersion } from './fileSource';
import { redactSecrets, type Redaction } from './redaction';
import { wordTerms } from './terms';
import { WordTable } from './wordTable';

// A file made ready for the index away from the thread that writes it (retrievalWorker.ts):
// redacted, cut into chunks, each chunk hashed, its UTF-8 bytes laid out in one buffer and its
// terms counted. Terms travel as numbers: the counter gives each term a number the first time
// it meets it and the message names it once (`newTerms`), so the writer turns a chunk's terms
// into postings without a string per term (termIndex.ts addCounted). The counts are exactly
// what TermIndex.addText counts for the same text (terms.ts splits both).

/** A term's count in one chunk saturates here (termIndex.ts's tfLimit - 1). */
const maxTf = 255;

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

class GrowingInts {
  values = new Int32Array(1 << 14);
  length = 0;

  push2(a: number, b: number): void {
    if (this.length + 2 > this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = a;
    this.values[this.length++] = b;
  }
}

/** Numbers terms and counts them per chunk; one counter per scan (the numbers are the scan's). */
export class TermCounter {
  private readonly numbers = new Map<string, number>();
  private readonly words = new WordTable<readonly number[]>(100_000);
  private fresh: string[] = [];
  private counts = new Int32Array(1 << 12);
  private readonly touched: number[] = [];

  /** The terms numbered since the last call. */
  takeNewTerms(): string[] {
    const fresh = this.fresh;
    this.fresh = [];
    return fresh;
  }

  private numbersOf(word: string): readonly number[] {
    return wordTerms(word).map((term) => {
      let number = this.numbers.get(term);
      if (number === undefined) {
        number = this.numbers.size;
        this.numbers.set(term, number);
        this.fresh.push(term);
        if (number >= this.counts.length) {
          const grown = new Int32Array(this.counts.length * 2);
          grown.set(this.counts);
          this.counts = grown;
        }
      }
      return number;
    });
  }

  /** Appends the (term number, count) pairs of `text` to `out`; returns [pairs, length]. */
  count(text: string, out: GrowingInts): [number, number] {
    let length = 0;
    const add = (numbers: readonly number[]): void => {
      length += numbers.length;
      for (const number of numbers) {
        if (this.counts[number]! === 0) {
          this.touched.push(number);
        }
        this.counts[number]!++;
      }
    };
    // The same words as TermIndex.addText, through the same table scan.
    this.words.forEachWordValue(text, (word) => this.numbersOf(word), add);
    const pairs = this.touched.length;
    for (const number of this.touched) {
      out.push2(number, Math.min(this.counts[number]!, maxTf));
      this.counts[number] = 0;
    }
    this.touched.length = 0;
    return [pairs, length];
  }
}

/** Prepares the readings of a batch of files (FileReading -> PreparedReading) into one message. */
export class BatchBuilder {
  private readonly chunks: Uint8Array[] = [];
  private byteLength = 0;
  private readonly terms = new GrowingInts();
  private readonly files: Array<{ path: string; reading: PreparedReading }> = [];
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
      if (chunk.text.trim() === '') {
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
      const [termPairs, length] = this.counter.count(chunk.text, this.terms);
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
    return { files: this.files, bytes, terms: this.terms.values.slice(0, this.terms.length), newTerms: this.counter.takeNewTerms() };
  }
}
