import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { EventValidationError, parseEventDraft, type EventDraft } from '../core/log/events';
import { UsageError } from './args';

// The input of `context-ledger append`: JSON lines on stdin, checked whole before anything is
// opened or written, and given ids that a retry of the same input derives again.

export interface AppendInput {
  readonly drafts: readonly EventDraft[];
  /** How many drafts got an id derived from the input (the rest named their own). */
  readonly derivedIds: number;
  readonly byteOrderMark: boolean;
  readonly batchKey?: string;
}

const byteOrderMark = Buffer.from([0xef, 0xbb, 0xbf]);
const lineFeed = 0x0a;

/**
 * Parses stdin bytes. A UTF-8 byte order mark at the very start is dropped (editors on Windows
 * write one); anywhere else, and any invalid UTF-8, is refused with its line number rather than
 * stored as an invisible U+FEFF or a U+FFFD.
 *
 * Ids: a line without an "id" gets `in-<digest>-<line number>`, the digest taken over the whole
 * input (without the byte order mark), or over `batchKey` when one is given. Running the same
 * input again (a retry after a failure) therefore derives the same ids, and what the first run
 * stored is reported as already stored instead of stored twice. The price: byte-identical input
 * appended again on purpose is also "already stored"; a new batch key, or ids in the lines,
 * appends it again.
 */
export function parseAppendInput(input: Buffer, batchKey?: string): AppendInput {
  const hasByteOrderMark = input.subarray(0, 3).equals(byteOrderMark);
  const bytes = hasByteOrderMark ? input.subarray(3) : input;
  const digest = createHash('sha256')
    .update(batchKey === undefined ? bytes : Buffer.from(`batch-key\0${batchKey}`, 'utf8'))
    .digest('hex')
    .slice(0, 24);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const drafts: EventDraft[] = [];
  let derivedIds = 0;
  let lineNumber = 0;
  for (let start = 0; start < bytes.length; ) {
    lineNumber++;
    const newline = bytes.indexOf(lineFeed, start);
    const end = newline === -1 ? bytes.length : newline;
    const line = decodeLine(decoder, bytes.subarray(start, end), lineNumber);
    start = end + 1;
    if (line.trim() === '') {
      continue;
    }
    if (line.startsWith('\ufeff')) {
      throw new UsageError(`stdin line ${lineNumber} starts with a byte order mark (U+FEFF); only the start of the input may have one; nothing was appended`);
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`stdin line ${lineNumber} is not JSON (${error instanceof Error ? error.message : String(error)}); nothing was appended`);
    }
    let draft: EventDraft;
    try {
      draft = parseEventDraft(value);
    } catch (error) {
      if (error instanceof EventValidationError) {
        throw new UsageError(`stdin line ${lineNumber}: ${error.message}; nothing was appended`);
      }
      throw error;
    }
    if (draft.id === undefined) {
      draft = { ...draft, id: `in-${digest}-${lineNumber}` };
      derivedIds++;
    }
    drafts.push(draft);
  }
  if (drafts.length === 0) {
    throw new UsageError('append reads events as JSON lines on stdin, and got none');
  }
  return { drafts, derivedIds, byteOrderMark: hasByteOrderMark, ...(batchKey !== undefined ? { batchKey } : {}) };
}

function decodeLine(decoder: TextDecoder, lineBytes: Buffer, lineNumber: number): string {
  try {
    return decoder.decode(lineBytes);
  } catch {
    const at = firstInvalidByte(lineBytes);
    throw new UsageError(
      `stdin line ${lineNumber} is not valid UTF-8 (byte 0x${lineBytes[at]!.toString(16).padStart(2, '0')} at byte ${at + 1} of the line); convert the input to UTF-8; nothing was appended`,
    );
  }
}

/** Where the lenient decoder first had to substitute U+FFFD: the first byte that differs. */
function firstInvalidByte(lineBytes: Buffer): number {
  const roundTrip = Buffer.from(lineBytes.toString('utf8'), 'utf8');
  let index = 0;
  while (index < lineBytes.length && lineBytes[index] === roundTrip[index]) {
    index++;
  }
  return Math.min(index, lineBytes.length - 1);
}
