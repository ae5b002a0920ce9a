import { TermIndex, tfLimit } from './termIndex';

// The term index as saved beside the chunks (the `term_index` table), so a reopened index, the
// CLI and the MCP server do not tokenize every stored chunk again: the vocabulary as text, one
// term a line, and two byte strings of varints, the documents (id delta, length) and each
// term's postings (count, then id delta * 256 + tf). The copy is written at each save, in the
// same database file as the chunks, so the two change together; one that does not decode, or
// does not match the chunks, is ignored and the index derived from the text.

export interface SavedTermIndex {
  readonly vocabulary: string;
  readonly documents: Uint8Array;
  readonly postings: Uint8Array;
}

class ByteWriter {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;

  varint(value: number): void {
    if (this.length + 8 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    let rest = value;
    while (rest >= 128) {
      this.bytes[this.length++] = (rest % 128) | 128;
      rest = Math.floor(rest / 128);
    }
    this.bytes[this.length++] = rest;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class ByteReader {
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.bytes.length) {
        throw new Error('the saved term index ends early');
      }
      const byte = this.bytes[this.at++]!;
      value += (byte & 127) * scale;
      if (byte < 128) {
        return value;
      }
      scale *= 128;
    }
  }

  get ended(): boolean {
    return this.at === this.bytes.length;
  }
}

export function encodeTermIndex(index: TermIndex): SavedTermIndex {
  const documents = new ByteWriter();
  let previous = 0;
  for (const [id, length] of index.documents()) {
    documents.varint(id - previous);
    documents.varint(length);
    previous = id;
  }
  const terms: string[] = [];
  const postings = new ByteWriter();
  for (const [term, list] of index.entries()) {
    terms.push(term);
    postings.varint(list.length);
    let previousId = 0;
    for (const posting of list) {
      const id = Math.floor(posting / tfLimit);
      postings.varint((id - previousId) * tfLimit + (posting - id * tfLimit));
      previousId = id;
    }
  }
  return { vocabulary: terms.join('\n'), documents: documents.done(), postings: postings.done() };
}

/** The saved index, or an error if it does not decode. */
export function decodeTermIndex(saved: SavedTermIndex): TermIndex {
  const documentReader = new ByteReader(saved.documents);
  const documents: Array<[number, number]> = [];
  let id = 0;
  while (!documentReader.ended) {
    id += documentReader.varint();
    documents.push([id, documentReader.varint()]);
  }
  const terms = saved.vocabulary === '' ? [] : saved.vocabulary.split('\n');
  const postingReader = new ByteReader(saved.postings);
  const entries: Array<[string, number[]]> = terms.map((term) => {
    const count = postingReader.varint();
    const list: number[] = new Array<number>(count);
    let previousId = 0;
    for (let index = 0; index < count; index++) {
      const value = postingReader.varint();
      const delta = Math.floor(value / tfLimit);
      previousId += delta;
      list[index] = previousId * tfLimit + (value - delta * tfLimit);
    }
    return [term, list];
  });
  if (!postingReader.ended) {
    throw new Error('the saved term index has bytes after its last term');
  }
  return TermIndex.restore(documents, entries);
}
