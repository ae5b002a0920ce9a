import { crc32Hex } from './crc32';
import { EventValidationError, parseJournalEvent, type JournalEvent } from './events';

// One journal record: RS, 8 hex digits of CRC-32 over the JSON bytes, a space, the JSON, LF.
// The leading RS (0x1E, as in RFC 7464 JSON text sequences) never occurs inside JSON text, so a
// reader can resynchronise after damage: if a writer dies mid-write and another writer appends
// after the fragment, the fragment is skipped and the next record is still found.
//
// Every record, readable or not, is one *slot*, and an event's sequence number is its slot's
// place in the journal. The scanner is built so that one damaged byte changes the number of
// slots nowhere: a flipped LF or RS is repaired by the checksum, and an RS or LF that damage
// created inside a record does not start a new slot.
const recordSeparator = 0x1e;
const lineFeed = 0x0a;
const headerLength = 1 + 8 + 1;

/** A control record that closes a segment; records after it in that segment are void. */
export interface SealRecord {
  readonly formatVersion: 1;
  readonly control: 'seal';
  readonly nextSegment: number;
}

/** Written right after a record its writer knows was torn (a short write, a crash found at open). */
export interface VoidRecord {
  readonly formatVersion: 1;
  readonly control: 'void';
  /** Where the failed write started: damaged bytes from here up to this record cost nothing acknowledged. */
  readonly segment: number;
  readonly offset: number;
  readonly reason: string;
}

export type ControlRecord = SealRecord | VoidRecord;
export type JournalPayload = JournalEvent | ControlRecord;

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

export function sealRecord(nextSegment: number): SealRecord {
  return { formatVersion: 1, control: 'seal', nextSegment };
}

/** How a damaged slot came to be; decides whether its loss can have cost an acknowledged event. */
export type DamageKind =
  /** No terminating LF, followed by the next record: a write cut short, or damage. */
  | 'unterminated'
  /** The checksum does not match the bytes. */
  | 'checksum'
  /** The header (RS, checksum digits, space) is not there. */
  | 'header'
  /** The checksum matches but the JSON is not an event (a bug in some writer). */
  | 'unreadable';

export type ScannedRecord =
  | {
      readonly type: 'record';
      readonly offset: number;
      readonly length: number;
      readonly payload: JournalPayload;
      /** The separator or the LF around it was damaged; the checksum proved the content whole. */
      readonly repaired?: string;
    }
  | { readonly type: 'damaged'; readonly offset: number; readonly length: number; readonly damage: DamageKind; readonly reason: string };

export interface ScanResult {
  readonly records: ScannedRecord[];
  /** Bytes consumed from the start of the buffer; a trailing incomplete record is not consumed. */
  readonly consumed: number;
}

function isHexDigit(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66));
}

/** RS followed by eight lowercase hex digits and a space: where a writer's record begins. */
function headerAt(bytes: Buffer, at: number): boolean {
  if (bytes[at] !== recordSeparator) {
    return false;
  }
  // One damaged byte in the header (a checksum digit, or the space) still marks where a writer's
  // record began, so the damage stays in that record instead of merging it with the one before.
  // The checksum then fails on it. Eight digits and a space after an RS almost never occur by
  // damage inside a record (JSON holds no RS at all).
  let bad = bytes[at + 9] === 0x20 ? 0 : 1;
  for (let i = at + 1; i < at + 9 && bad <= 1; i++) {
    if (!isHexDigit(bytes[i])) {
      bad++;
    }
  }
  return bad <= 1;
}

/** The header with only its separator damaged. */
function headerWithoutSeparatorAt(bytes: Buffer, at: number): boolean {
  if (bytes[at + 9] !== 0x20) {
    return false;
  }
  for (let i = at + 1; i < at + 9; i++) {
    if (!isHexDigit(bytes[i])) {
      return false;
    }
  }
  return true;
}

/** The next record start after `from`, or -1; an RS without a header is damage, not a start. */
function nextHeader(bytes: Buffer, from: number): number {
  let at = bytes.indexOf(recordSeparator, from);
  while (at !== -1) {
    if (at + headerLength > bytes.length) {
      // Too near the end to tell: the caller reads more, or (at the end of the file) decides.
      return at;
    }
    if (headerAt(bytes, at)) {
      return at;
    }
    at = bytes.indexOf(recordSeparator, at + 1);
  }
  return -1;
}

/**
 * Splits bytes (which start at a slot boundary) into slots. A trailing slot whose end cannot be
 * told yet (no LF, no next record) is left unconsumed: it may be another writer's write still in
 * progress, or a torn write; the caller decides which. With `atEnd`, the buffer reaches the end
 * of the file, so a slot ended by the buffer's end is complete if its checksum says so.
 */
export function scanRecords(bytes: Buffer, baseOffset: number, atEnd = false): ScanResult {
  const records: ScannedRecord[] = [];
  let position = 0;
  while (position < bytes.length) {
    const start = position;
    const next = nextHeader(bytes, start + 1);
    // From start + 1: a record's first byte is never its LF (a separator damaged into an LF is
    // still the start of its record).
    const lineEnd = bytes.indexOf(lineFeed, start + 1);
    let end: number;
    let unterminated = false;
    if (lineEnd !== -1 && (next === -1 || lineEnd < next)) {
      end = lineEnd + 1;
    } else if (next !== -1 && (atEnd || next + headerLength <= bytes.length)) {
      end = next;
      unterminated = true;
    } else if (next === -1 && atEnd) {
      // No LF and nothing after it up to the end of the file: whole only if the checksum proves
      // the last byte was a damaged LF; else an unfinished (or torn) write, left unconsumed.
      const repaired = decodeSlot(bytes, start, bytes.length, baseOffset, false);
      if (repaired.type === 'record') {
        records.push(repaired);
        position = bytes.length;
      }
      break;
    } else {
      break; // the end of this slot is in bytes not read yet
    }
    let slot = decodeSlot(bytes, start, end, baseOffset, unterminated);
    if (slot.type === 'damaged' && unterminated) {
      if (lineEnd === -1 && !atEnd) {
        return { records, consumed: start }; // whether this line is one record needs its LF
      }
      // At the end of the file an RS too near it to be a header may be this record's LF, damaged.
      const whole = lineEnd === -1 ? decodeSlot(bytes, start, bytes.length, baseOffset, false) : restoredSeparator(bytes, start, end, lineEnd + 1, baseOffset);
      if (whole && (whole.type === 'record' || whole.damage === 'unreadable')) {
        records.push(whole); // the checksum matched: one slot
        position = start + whole.length;
        continue;
      }
    }
    if (slot.type === 'damaged') {
      // Damage that created an LF inside a record splits it; the bytes after that LF have no
      // header and belong to this damaged slot, not to a slot of their own. An RS there is no
      // such text (JSON never holds one): it starts the next record, even if that record's
      // header is damaged too, so damage in two neighbours still leaves two slots.
      while (end < bytes.length && bytes[end] !== recordSeparator && !headerAt(bytes, end) && !headerWithoutSeparatorAt(bytes, end)) {
        if (end + headerLength > bytes.length && !atEnd) {
          return { records, consumed: start };
        }
        const more = nextHeader(bytes, end + 1);
        if (more === -1 || (more + headerLength > bytes.length && !atEnd)) {
          if (!atEnd) {
            return { records, consumed: start };
          }
          end = more === -1 ? bytes.length : more;
        } else {
          end = more;
        }
        slot = { ...slot, length: end - start };
      }
      if (end === bytes.length && !atEnd) {
        // Whether header-less bytes follow is not known yet.
        return { records, consumed: start };
      }
    }
    records.push(slot);
    position = end;
  }
  return { records, consumed: position };
}

/**
 * A byte inside a record damaged into an RS can look like a header (an RS and eight hex digits:
 * the zeros of an hlc stamp are one XOR away from one), which would split the record into two
 * slots and renumber every later event. A record that really starts at `at` (after a torn write)
 * has its own checksum right; else, if some other value in that byte makes the checksum of the
 * whole line match, the line is one record, whole but for that byte.
 */
function restoredSeparator(bytes: Buffer, start: number, at: number, end: number, baseOffset: number): ScannedRecord | undefined {
  if (decodeSlot(bytes, at, end, baseOffset, false).type === 'record') {
    return undefined;
  }
  const line = Buffer.from(bytes.subarray(start, end));
  for (let value = 0; value < 256; value++) {
    line[at - start] = value;
    const slot = value === recordSeparator ? undefined : decodeSlot(line, 0, line.length, baseOffset + start, false);
    if (slot?.type === 'record') {
      return { ...slot, repaired: `its byte at offset ${baseOffset + at} was damaged into a record separator; the checksum proved the record whole with that byte restored` };
    }
    if (slot?.damage === 'unreadable') {
      return slot;
    }
  }
  return undefined;
}

function decodeSlot(bytes: Buffer, start: number, end: number, baseOffset: number, unterminated: boolean): ScannedRecord {
  const offset = baseOffset + start;
  const length = end - start;
  const damaged = (damage: DamageKind, reason: string): ScannedRecord => ({ type: 'damaged', offset, length, damage, reason });
  const separatorOk = bytes[start] === recordSeparator;
  if (length < headerLength + 2 || !(separatorOk ? headerAt(bytes, start) : headerWithoutSeparatorAt(bytes, start))) {
    return damaged(unterminated && separatorOk ? 'unterminated' : 'header', unterminated && separatorOk ? 'record cut short (no LF before the next record)' : 'bytes outside any record (no record header)');
  }
  const expected = bytes.toString('latin1', start + 1, start + 9);
  // A slot that ends without LF is whole if the checksum covers everything but its last byte:
  // the damaged byte was the LF itself.
  const jsonEnd = end - 1;
  const checksumOk = crc32Hex(bytes, start + headerLength, jsonEnd) === expected;
  if (!checksumOk) {
    return unterminated ? damaged('unterminated', 'record cut short (no LF before the next record)') : damaged('checksum', 'checksum mismatch');
  }
  const repairs: string[] = [];
  if (!separatorOk) {
    repairs.push('its record separator');
  }
  if (bytes[start + 9] !== 0x20) {
    repairs.push("its header's space");
  }
  if (bytes[jsonEnd] !== lineFeed) {
    repairs.push('its closing LF');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', start + headerLength, jsonEnd));
  } catch {
    return damaged('unreadable', 'checksum matches but the JSON does not parse');
  }
  const repaired = repairs.length > 0 ? { repaired: `${repairs.join(' and ')} was damaged; the checksum proved the record whole` } : {};
  if (isControl(parsed)) {
    return { type: 'record', offset, length, payload: parsed, ...repaired };
  }
  try {
    return { type: 'record', offset, length, payload: parseJournalEvent(parsed), ...repaired };
  } catch (error) {
    if (error instanceof EventValidationError && /format version/.test(error.message)) {
      throw new JournalFormatError(`journal record at offset ${offset}: ${error.message}. It was written by a newer Context Ledger; update the extension to read this store.`);
    }
    return damaged('unreadable', error instanceof Error ? error.message : String(error));
  }
}

export function isControl(value: unknown): value is ControlRecord {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as { control?: unknown; nextSegment?: unknown; reason?: unknown; segment?: unknown; offset?: unknown };
  return (
    (candidate.control === 'seal' && Number.isSafeInteger(candidate.nextSegment)) ||
    (candidate.control === 'void' && typeof candidate.reason === 'string' && Number.isSafeInteger(candidate.segment) && Number.isSafeInteger(candidate.offset))
  );
}

/**
 * Whether damaged bytes are the seal record a segment must end with: a seal for `nextSegment`
 * has one exact encoding, so bytes of the same length that differ in a few places are it.
 */
export function looksLikeSeal(bytes: Buffer, nextSegment: number): boolean {
  const expected = encodeRecord(sealRecord(nextSegment));
  if (bytes.length !== expected.length) {
    return false;
  }
  let differences = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== expected[i] && ++differences > 4) {
      return false;
    }
  }
  return true;
}

/** The journal holds records this version cannot read; opening must stop, not skip them. */
export class JournalFormatError extends Error {
  override readonly name = 'JournalFormatError';
}
