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

/** How good a cut after line `index` is: 0 none, 1 a closing bracket deep in, 2 shallower, 3 a blank line or a bracket at the margin. */
function boundaryScore(lines: readonly string[], index: number): number {
  const line = lines[index]!;
  if (line.trim() === '') {
    return 3;
  }
  if (closingLine.test(line)) {
    const indent = line.length - line.trimStart().length;
    return indent === 0 ? 3 : indent <= 2 ? 2 : 1;
  }
  const next = lines[index + 1];
  return next !== undefined && next.trim() === '' ? 2 : 0;
}

export function chunkLines(text: string, options: ChunkOptions = defaultChunkOptions): Chunk[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') {
    lines.pop();
  }
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < lines.length) {
    let hardEnd = Math.min(lines.length, start + options.maxLines);
    let chars = 0;
    for (let index = start; index < hardEnd; index++) {
      chars += lines[index]!.length + 1;
      if (chars > options.maxChars && index > start) {
        hardEnd = index;
        break;
      }
    }
    let end = hardEnd;
    if (hardEnd < lines.length) {
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
    chunks.push({ startLine: start + 1, endLine: end, text: lines.slice(start, end).join('\n') });
    if (end >= lines.length) {
      break;
    }
    start = Math.max(start + 1, end - options.overlapLines);
  }
  return chunks;
}
