// Files are cut into chunks of lines. A chunk ends where code or prose ends a unit, preferably:
// after a blank line, or after a closing bracket at the left margin (the end of a function or a
// class), else after a closing bracket deeper in. Consecutive chunks overlap by a few lines, so
// a match that straddles a cut is still whole in one chunk.

export interface Chunk {
  /** 1-based first line. */
  readonly startLine: number;
  /** 1-based last line, inclusive. */
  readonly endLine: number;
  readonly text: string;
  /** Where `text` is in the chunked text: [from, to). */
  readonly from: number;
  readonly to: number;
}

export interface ChunkOptions {
  readonly minLines: number;
  readonly maxLines: number;
  readonly overlapLines: number;
  /** A chunk is cut before it grows past this many characters (minified files). */
  readonly maxChars: number;
}

export const defaultChunkOptions: ChunkOptions = { minLines: 12, maxLines: 48, overlapLines: 4, maxChars: 6000 };

const closingLine = /^\s*[}\])]+[;,)]*\s*$/;
const nonSpace = /\S/;

/** True if `text` is only white space (what `trim` drops: the test stops at the first other character, and copies nothing). */
export function isBlank(text: string): boolean {
  return !nonSpace.test(text);
}

/** How good a cut after line `index` is: 0 none, 1 a closing bracket deep in, 2 shallower, 3 a blank line or a bracket at the margin. */
function boundaryScore(lines: FileLines, index: number): number {
  const line = lines.line(index);
  if (isBlank(line)) {
    return 3;
  }
  if (closingLine.test(line)) {
    const indent = line.length - line.trimStart().length;
    return indent === 0 ? 3 : indent <= 2 ? 2 : 1;
  }
  return index + 1 < lines.count && isBlank(lines.line(index + 1)) ? 2 : 0;
}

/**
 * The lines of a text by their offsets, as `text.split('\n')` gives them (a last empty line
 * dropped): a chunk is one slice of the text, not a join of line strings.
 */
class FileLines {
  private readonly starts: number[] = [0];
  readonly count: number;

  constructor(private readonly text: string) {
    for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
      this.starts.push(index + 1);
    }
    // split's last element is empty when the text ends with a newline: that line is not one.
    this.count = this.starts.length > 1 && this.starts[this.starts.length - 1] === text.length ? this.starts.length - 1 : this.starts.length;
  }

  /** Where line `index` ends (its newline not included). */
  end(index: number): number {
    return index + 1 < this.starts.length ? this.starts[index + 1]! - 1 : this.text.length;
  }

  length(index: number): number {
    return this.end(index) - this.starts[index]!;
  }

  line(index: number): string {
    return this.text.slice(this.starts[index], this.end(index));
  }

  start(index: number): number {
    return this.starts[index]!;
  }
}

export function chunkLines(text: string, options: ChunkOptions = defaultChunkOptions): Chunk[] {
  const lines = new FileLines(text);
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < lines.count) {
    let hardEnd = Math.min(lines.count, start + options.maxLines);
    let chars = 0;
    for (let index = start; index < hardEnd; index++) {
      chars += lines.length(index) + 1;
      if (chars > options.maxChars && index > start) {
        hardEnd = index;
        break;
      }
    }
    let end = hardEnd;
    if (hardEnd < lines.count) {
      let bestScore = 0;
      const earliest = Math.min(hardEnd - 1, start + options.minLines - 1);
      for (let index = hardEnd - 1; index >= earliest; index--) {
        const score = boundaryScore(lines, index);
        if (score > bestScore) {
          bestScore = score;
          end = index + 1;
          if (score === 3) {
            break;
          }
        }
      }
    }
    // Lines [start, end) joined by their newlines.
    const from = lines.start(start);
    const to = lines.end(end - 1);
    chunks.push({ startLine: start + 1, endLine: end, text: text.slice(from, to), from, to });
    if (end >= lines.count) {
      break;
    }
    start = Math.max(start + 1, end - options.overlapLines);
  }
  return chunks;
}
