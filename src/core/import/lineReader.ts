import * as fs from 'node:fs';

// Reads a file's lines from a byte offset in fixed chunks, so a 500 MB transcript never sits in
// memory whole and a line of any length costs only its own bytes (up to `maxLineBytes`; a longer
// one is skipped while reading and reported, not held).

export interface ReadLine {
  /** The line without its line end; undefined when it was longer than maxLineBytes. */
  readonly text: string | undefined;
  readonly bytes: number;
  /** 1-based. */
  readonly number: number;
  /** Offset just past the line's LF (or the end of the file for a last line without one). */
  readonly endOffset: number;
  /** False for a last line with no LF after it (a writer may still be writing it). */
  readonly complete: boolean;
}

export const defaultMaxLineBytes = 64 * 1024 * 1024;
const chunkBytes = 1024 * 1024;

export function* readLines(file: string, startOffset: number, startLine: number, maxLineBytes = defaultMaxLineBytes): Generator<ReadLine> {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let offset = startOffset;
    let lineNumber = startLine;
    let pieces: Buffer[] = [];
    let pending = 0;
    let tooLong = false;
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunkBytes, offset);
      if (read === 0) {
        break;
      }
      let start = 0;
      for (;;) {
        const lf = chunk.indexOf(10, start);
        if (lf < 0 || lf >= read) {
          break;
        }
        const piece = chunk.subarray(start, lf);
        const bytes = pending + piece.length;
        let text: string | undefined;
        if (!tooLong && bytes <= maxLineBytes) {
          text = (pieces.length === 0 ? piece : Buffer.concat([...pieces, piece])).toString('utf8');
        }
        lineNumber++;
        yield { text: text?.endsWith('\r') ? text.slice(0, -1) : text, bytes, number: lineNumber, endOffset: offset + lf + 1, complete: true };
        pieces = [];
        pending = 0;
        tooLong = false;
        start = lf + 1;
      }
      if (start < read) {
        const rest = read - start;
        if (!tooLong && pending + rest <= maxLineBytes) {
          pieces.push(Buffer.from(chunk.subarray(start, read)));
        } else {
          tooLong = true;
          pieces = [];
        }
        pending += rest;
      }
      offset += read;
    }
    if (pending > 0) {
      lineNumber++;
      yield { text: tooLong ? undefined : Buffer.concat(pieces).toString('utf8'), bytes: pending, number: lineNumber, endOffset: offset, complete: false };
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `bytes` bytes of a file (fewer if it is shorter). */
export function readHead(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}
