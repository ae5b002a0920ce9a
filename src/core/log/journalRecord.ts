import { crc32Hex } from './crc32';
import { EventValidationError, parseLoggedEvent, type LoggedEvent } from './events';

// One journal record: RS, 8 hex digits of CRC-32 over the JSON bytes, a space, the JSON, LF.
// The leading RS (0x1E, as in RFC 7464 JSON text sequences) never occurs inside JSON text, so a
// reader can resynchronise after damage: if a writer dies mid-write and another writer appends
// after the fragment, the fragment is skipped and the next record is still found.
const recordSeparator = 0x1e;
const lineFeed = 0x0a;
const headerLength = 1 + 8 + 1;

/** A control record that closes a segment; records after it in that segment are void. */
export interface SealRecord {
  readonly formatVersion: 1;
  readonly control: 'seal';
  readonly nextSegment: number;
}

export type JournalPayload = LoggedEvent | SealRecord;

export function encodeRecord(payload: JournalPayload): Buffer {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  const out = Buffer.allocUnsafe(headerLength + json.length + 1);
  out[0] = recordSeparator;
  out.write(crc32Hex(json), 1, 8, 'latin1');
  out[9] = 0x20;
  json.copy(out, headerLength);
  out[out.length - 1] = lineFeed;
  return out;
}

export type ScannedRecord =
  | { readonly type: 'record'; readonly offset: number; readonly length: number; readonly payload: JournalPayload }
  | { readonly type: 'damaged'; readonly offset: number; readonly length: number; readonly reason: string };

export interface ScanResult {
  readonly records: ScannedRecord[];
  /** Bytes consumed from the start of the buffer; a trailing incomplete record is not consumed. */
  readonly consumed: number;
}

/**
 * Splits bytes (which start at a record boundary or at damage) into records. A trailing record
 * without its LF is left unconsumed: it may be another writer's write still in progress, or a
 * torn write; the caller decides which.
 */
export function scanRecords(bytes: Buffer, baseOffset: number): ScanResult {
  const records: ScannedRecord[] = [];
  let position = 0;
  while (position < bytes.length) {
    const nextSeparator = bytes.indexOf(recordSeparator, position + 1);
    if (bytes[position] !== recordSeparator) {
      // Every write starts with RS, so bytes that do not are never a write in progress.
      const end = nextSeparator === -1 ? bytes.length : nextSeparator;
      records.push({ type: 'damaged', offset: baseOffset + position, length: end - position, reason: 'bytes outside any record' });
      position = end;
      continue;
    }
    const lineEnd = bytes.indexOf(lineFeed, position + 1);
    if (nextSeparator !== -1 && (lineEnd === -1 || nextSeparator < lineEnd)) {
      records.push({ type: 'damaged', offset: baseOffset + position, length: nextSeparator - position, reason: 'record cut short (torn write)' });
      position = nextSeparator;
      continue;
    }
    if (lineEnd === -1) {
      break;
    }
    records.push(decodeRecord(bytes, position, lineEnd + 1, baseOffset));
    position = lineEnd + 1;
  }
  return { records, consumed: position };
}

function decodeRecord(bytes: Buffer, start: number, end: number, baseOffset: number): ScannedRecord {
  const offset = baseOffset + start;
  const length = end - start;
  const damaged = (reason: string): ScannedRecord => ({ type: 'damaged', offset, length, reason });
  if (length < headerLength + 2 || bytes[start + 9] !== 0x20) {
    return damaged('malformed record header');
  }
  const expected = bytes.toString('latin1', start + 1, start + 9);
  if (crc32Hex(bytes, start + headerLength, end - 1) !== expected) {
    return damaged('checksum mismatch');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', start + headerLength, end - 1));
  } catch {
    return damaged('checksum matches but the JSON does not parse');
  }
  if (isSeal(parsed)) {
    return { type: 'record', offset, length, payload: parsed };
  }
  try {
    return { type: 'record', offset, length, payload: parseLoggedEvent(parsed) };
  } catch (error) {
    if (error instanceof EventValidationError && /format version/.test(error.message)) {
      throw new JournalFormatError(`journal record at offset ${offset}: ${error.message}. It was written by a newer Context Ledger; update the extension to read this store.`);
    }
    return damaged(error instanceof Error ? error.message : String(error));
  }
}

function isSeal(value: unknown): value is SealRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { control?: unknown }).control === 'seal' &&
    Number.isSafeInteger((value as { nextSegment?: unknown }).nextSegment)
  );
}

/** The journal holds records this version cannot read; opening must stop, not skip them. */
export class JournalFormatError extends Error {
  override readonly name = 'JournalFormatError';
}
