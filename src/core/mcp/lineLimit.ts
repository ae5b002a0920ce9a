import { Transform, type TransformCallback } from 'node:stream';

// Stdin of the MCP server, one JSON-RPC message a line. The SDK's stdio transport drops the
// whole connection when a message outgrows its buffer; this passes whole lines on and turns a
// line over the limit into `onOversized` (the caller answers it with an MCP error), keeping
// only its first and last bytes, where a JSON-RPC request keeps its id.

const keptBytes = 1024;

export interface OversizedLine {
  readonly bytes: number;
  /** The request's id when the kept bytes show it (JSON text: a number or a quoted string). */
  readonly id: string | number | undefined;
}

export class LineLimiter extends Transform {
  private pieces: Buffer[] = [];
  private length = 0;
  private head: Buffer | undefined;
  private tail = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly onOversized: (line: OversizedLine) => void,
    /** A whole line within the limit that is not JSON: answered by the caller, not passed on. */
    private readonly onUnparsable?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let rest = chunk;
    while (rest.length > 0) {
      const newline = rest.indexOf(0x0a);
      const piece = newline === -1 ? rest : rest.subarray(0, newline + 1);
      rest = newline === -1 ? Buffer.alloc(0) : rest.subarray(newline + 1);
      this.add(piece);
      if (newline !== -1) {
        this.endLine();
      }
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // A last line without its newline is half a message (stdin closed mid-write): dropped.
    this.pieces = [];
    done();
  }

  private add(piece: Buffer): void {
    this.length += piece.length;
    if (this.head === undefined && this.length <= this.maxBytes) {
      this.pieces.push(piece);
      return;
    }
    if (this.head === undefined) {
      this.head = Buffer.concat(this.pieces).subarray(0, keptBytes);
      this.pieces = [];
    }
    this.tail = Buffer.concat([this.tail, piece]).subarray(-keptBytes);
  }

  private endLine(): void {
    if (this.head === undefined) {
      const line = Buffer.concat(this.pieces);
      if (this.onUnparsable && !isJsonLine(line)) {
        this.onUnparsable(line.length);
      } else {
        this.push(line);
      }
    } else {
      this.onOversized({ bytes: this.length, id: requestId(this.head.toString('utf8'), this.tail.toString('utf8')) });
    }
    this.pieces = [];
    this.length = 0;
    this.head = undefined;
    this.tail = Buffer.alloc(0);
  }
}

const idValue = String.raw`(-?\d{1,15}|"[^"\\]{0,200}")`;
const idFirst = new RegExp(String.raw`^\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"[^"\\]*"\s*,)*\s*"id"\s*:\s*${idValue}`);
const idLast = new RegExp(String.raw`"id"\s*:\s*${idValue}\s*\}\s*$`);

function requestId(head: string, tail: string): string | number | undefined {
  const found = idFirst.exec(head)?.[1] ?? idLast.exec(tail)?.[1];
  return found === undefined ? undefined : (JSON.parse(found) as string | number);
}

/** Blank lines pass (the SDK skips them); anything else must parse as JSON. */
function isJsonLine(line: Buffer): boolean {
  const text = line.toString('utf8').trim();
  if (text === '') {
    return true;
  }
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
