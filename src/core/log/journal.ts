import * as path from 'node:path';
import { describeIoError, fsyncDirectory, makeDirectoryDurable } from '../fs/durableFile';
import { errorCode, fileExists, listFolder, type FileSystem } from '../fs/fileSystem';
import { encodeRecord, looksLikeSeal, scanRecords, sealRecord, type ScannedRecord } from './journalRecord';

/** Where a reader stands in the journal: a segment number and a byte offset in it. */
export interface JournalPosition {
  readonly segment: number;
  readonly offset: number;
}

export type PositionedRecord = ScannedRecord & { readonly segment: number };

export interface JournalRead {
  readonly records: PositionedRecord[];
  /** How reading went on past a missing segment or a segment without its seal. */
  readonly notes: string[];
  /** Stopped at `maxRecords`; more may follow. */
  readonly more?: boolean;
  /** Where the next read starts: after the last complete record (or a sealed segment). */
  readonly position: JournalPosition;
  /** Bytes at the very end with no closing LF: a write in progress elsewhere, or a torn one. */
  readonly incompleteTail?: { readonly segment: number; readonly offset: number; readonly length: number };
}

/** Where a read may stop: at most `maxRecords` slots, and not past `segment`/`offset`. */
export interface ReadLimit {
  readonly maxRecords?: number;
  readonly segment?: number;
  readonly offset?: number;
}

/** An append was not (wholly) written or not made durable; nothing in it is acknowledged. */
export class JournalWriteError extends Error {
  override readonly name = 'JournalWriteError';
}

const segmentPattern = /^(\d{10})\.log$/;
const readChunkBytes = 4 * 1024 * 1024;

/**
 * The journal: numbered segment files of records, appended with O_APPEND. Appends from several
 * processes never interleave inside a record (each record batch is one write() call) and the
 * order of records in the file is the one order every reader agrees on. A segment ends with a
 * seal record naming its successor; whatever lands after a seal is void and its writer retries.
 */
export class Journal {
  private appendFd: number | undefined;
  private appendSegment: number | undefined;
  // Kept open between reads: tailing reads the same segment over and over.
  private readFd: number | undefined;
  private readSegment: number | undefined;
  private pendingVoid: { readonly segment: number; readonly offset: number } | undefined;

  constructor(
    private readonly fs: FileSystem,
    readonly directory: string,
  ) {}

  static segmentFileName(segment: number): string {
    return `${segment.toString().padStart(10, '0')}.log`;
  }

  segmentPath(segment: number): string {
    return path.join(this.directory, Journal.segmentFileName(segment));
  }

  /** Creates the journal folder and its first segment if the store is new. */
  initialize(): void {
    makeDirectoryDurable(this.fs, this.directory);
    if (this.listSegments().length === 0) {
      this.createSegment(1);
    }
  }

  listSegments(): number[] {
    const names = listFolder(this.fs, this.directory);
    return names
      .map((name) => segmentPattern.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
  }

  firstSegment(): number {
    return this.listSegments()[0] ?? 1;
  }

  /** Creates an empty segment (no-op if it exists) and makes its directory entry durable. */
  createSegment(segment: number): void {
    const fd = this.fs.openSync(this.segmentPath(segment), 'a', 0o600);
    this.fs.closeSync(fd);
    fsyncDirectory(this.fs, this.directory);
  }

  segmentExists(segment: number): boolean {
    return fileExists(this.fs, this.segmentPath(segment));
  }

  segmentSize(segment: number): number {
    try {
      return this.fs.statSync(this.segmentPath(segment)).size;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        return 0;
      }
      throw error;
    }
  }

  /**
   * Writes encoded records to `segment` in one write() and fdatasyncs them. Only after this
   * returns may the records be acknowledged. Returns the segment's size right after.
   */
  appendEncoded(segment: number, bytes: Buffer): number {
    this.writePendingVoid();
    const fd = this.fdFor(segment);
    const sizeBefore = this.fs.fstatSync(fd).size;
    let written: number;
    try {
      written = this.fs.writeSync(fd, bytes, 0, bytes.length, null);
    } catch (error) {
      this.voidTornWrite(segment, fd, sizeBefore);
      throw new JournalWriteError(`journal append failed: ${describeIoError(error)}`);
    }
    if (written !== bytes.length) {
      // A second write() could interleave with another writer's record; leave the fragment
      // (readers skip it), say it is void, and report the whole batch as not written.
      this.voidTornWrite(segment, fd, sizeBefore);
      throw new JournalWriteError(`journal append was cut short (${written} of ${bytes.length} bytes written); the disk may be full`);
    }
    try {
      this.fs.fdatasyncSync(fd);
    } catch (error) {
      // After a failed fdatasync the page cache state is unknown (PostgreSQL's "fsyncgate"):
      // drop the descriptor so the next append starts clean, and acknowledge nothing.
      this.closeAppendFd();
      throw new JournalWriteError(`journal fdatasync failed: ${describeIoError(error)}`);
    }
    return this.fs.fstatSync(fd).size;
  }

  /**
   * After a write that failed part-way, the bytes that landed end in a record without its LF.
   * A void record right after them tells every reader that record was never acknowledged (a
   * torn write, not damage). If the disk is still full, it is written before the next append.
   */
  private voidTornWrite(segment: number, fd: number, sizeBefore: number): void {
    let sizeAfter: number;
    try {
      sizeAfter = this.fs.fstatSync(fd).size;
    } catch {
      return;
    }
    if (sizeAfter === sizeBefore) {
      return; // nothing landed
    }
    this.pendingVoid = { segment, offset: sizeBefore };
    try {
      this.writePendingVoid();
    } catch {
      // Still failing: kept pending for the next append.
    }
  }

  private writePendingVoid(): void {
    const pending = this.pendingVoid;
    if (!pending) {
      return;
    }
    const fd = this.fdFor(pending.segment);
    const record = encodeRecord({ formatVersion: 1, control: 'void', segment: pending.segment, offset: pending.offset, reason: 'a write that failed part-way' });
    const written = this.fs.writeSync(fd, record, 0, record.length, null);
    if (written === record.length) {
      this.fs.fdatasyncSync(fd);
    }
    this.pendingVoid = undefined;
  }

  private fdFor(segment: number): number {
    if (this.appendFd !== undefined && this.appendSegment === segment) {
      return this.appendFd;
    }
    this.closeAppendFd();
    // A writer moves on to a segment after reading the previous one's seal; that seal (and what
    // precedes it) may not be durable yet if its own fdatasync failed. Every seq given out here
    // counts the seal's slot, so make it durable before acknowledging anything after it.
    this.syncSegment(segment - 1);
    const file = this.segmentPath(segment);
    const existed = fileExists(this.fs, file);
    try {
      this.appendFd = this.fs.openSync(file, 'a', 0o600);
    } catch (error) {
      throw new JournalWriteError(`cannot open journal segment ${file} for appending: ${describeIoError(error)}`);
    }
    this.appendSegment = segment;
    if (!existed) {
      fsyncDirectory(this.fs, this.directory);
    }
    return this.appendFd;
  }

  /**
   * Makes `segment` and the one before it durable (a sealed segment before them was synced by
   * whoever first appended after its seal): a snapshot covers the journal up to a position,
   * and must not be ahead of what survives a power cut.
   */
  syncThrough(segment: number): void {
    this.syncSegment(segment - 1);
    this.syncSegment(segment);
  }

  private syncSegment(segment: number): void {
    const file = this.segmentPath(segment);
    if (segment < 1 || !fileExists(this.fs, file)) {
      return;
    }
    try {
      const fd = this.fs.openSync(file, 'r');
      try {
        this.fs.fdatasyncSync(fd);
      } finally {
        this.fs.closeSync(fd);
      }
    } catch (error) {
      throw new JournalWriteError(`cannot make journal segment ${segment} durable: ${describeIoError(error)}`);
    }
  }

  closeAppendFd(): void {
    if (this.appendFd !== undefined) {
      try {
        this.fs.closeSync(this.appendFd);
      } catch {
        // Closing a descriptor we are abandoning; nothing useful to do with an error.
      }
      this.appendFd = undefined;
      this.appendSegment = undefined;
    }
  }

  private readFdFor(segment: number): number | undefined {
    if (this.readFd !== undefined && this.readSegment === segment) {
      return this.readFd;
    }
    this.closeReadFd();
    try {
      this.readFd = this.fs.openSync(this.segmentPath(segment), 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        return undefined;
      }
      throw error;
    }
    this.readSegment = segment;
    return this.readFd;
  }

  private closeReadFd(): void {
    if (this.readFd !== undefined) {
      const fd = this.readFd;
      this.readFd = undefined;
      this.readSegment = undefined;
      try {
        this.fs.closeSync(fd);
      } catch {
        // A reading descriptor: nothing was written through it, so nothing is lost.
      }
    }
  }

  /**
   * Reads every slot from `from` to the current end of the journal. A segment ends at its seal
   * (records after a seal are void and not returned). Segments are found by listing the folder
   * too: a segment whose seal is damaged, or missing, still leads to the next one once that one
   * has records, and the way it ended is reported in `notes`.
   */
  readFrom(from: JournalPosition, limit: ReadLimit = {}): JournalRead {
    const records: PositionedRecord[] = [];
    const notes: string[] = [];
    let segment = from.segment;
    let offset = from.offset;
    let listed: number[] | undefined;
    let rereadForSeal = false;
    for (;;) {
      const fd = this.readFdFor(segment);
      if (fd === undefined) {
        // The segment is gone: whatever it held is lost; go on with the next one that exists.
        listed ??= this.listSegments();
        const later = listed.find((candidate) => candidate > segment);
        if (later === undefined) {
          return { records, notes, position: { segment, offset } };
        }
        notes.push(`journal segment ${segment} is missing; reading went on with segment ${later}`);
        segment = later;
        offset = 0;
        continue;
      }
      let sealedNext: number | undefined;
      let incompleteLength = 0;
      const size = this.fs.fstatSync(fd).size;
      const end = limit.segment === segment && limit.offset !== undefined ? Math.min(size, limit.offset) : size;
      let chunkBytes = readChunkBytes;
      while (offset < end && sealedNext === undefined) {
        const length = Math.min(chunkBytes, end - offset);
        const buffer = Buffer.allocUnsafe(length);
        const got = readFully(this.fs, fd, buffer, offset);
        const atEnd = offset + got >= end;
        const scan = scanRecords(buffer.subarray(0, got), offset, atEnd);
        for (const record of scan.records) {
          const seal = this.sealOf(record, segment);
          if (seal !== undefined) {
            sealedNext = seal.next;
            records.push({ ...seal.record, segment });
            offset = record.offset + record.length;
            break;
          }
          records.push({ ...record, segment });
        }
        if (sealedNext !== undefined) {
          break;
        }
        offset += scan.consumed;
        if (limit.maxRecords !== undefined && records.length >= limit.maxRecords) {
          return { records, notes, position: { segment, offset }, more: true };
        }
        if (scan.consumed === 0 || (scan.consumed < got && atEnd)) {
          if (atEnd) {
            incompleteLength = end - offset;
            break;
          }
          chunkBytes *= 2; // one record bigger than the chunk: read more at once
        }
      }
      if (sealedNext === undefined) {
        if (limit.segment === segment) {
          return { records, notes, position: { segment, offset } };
        }
        // No seal: the newest segment, or one whose seal was lost. A later segment with records
        // means this one was sealed (writers move on only after reading a seal): read this one
        // to its end once more (the seal may have landed just now), then move on.
        listed = this.listSegments();
        const later = listed.find((candidate) => candidate > segment && this.segmentSize(candidate) > 0);
        if (later === undefined) {
          return {
            records,
            notes,
            position: { segment, offset },
            ...(incompleteLength > 0 ? { incompleteTail: { segment, offset, length: incompleteLength } } : {}),
          };
        }
        if (!rereadForSeal) {
          rereadForSeal = true;
          continue;
        }
        if (incompleteLength > 0) {
          // Writers have moved on, so no write is still landing here: unfinished bytes at the end
          // are a damaged seal, one slot (as the seal was), not a tail to wait for.
          const tail: ScannedRecord = { type: 'damaged', offset, length: incompleteLength, damage: 'unterminated', reason: 'record cut short at the end of a segment that later segments follow' };
          const seal = this.sealOf(tail, segment);
          records.push({ ...(seal?.record ?? tail), segment });
          offset += incompleteLength;
          sealedNext = seal?.next;
        }
        if (sealedNext === undefined) {
          notes.push(`journal segment ${segment} ended without a readable seal; reading went on with segment ${later}`);
          sealedNext = later;
        }
      }
      rereadForSeal = false;
      segment = sealedNext;
      offset = 0;
    }
  }

  /** A seal read intact, or damaged bytes that can only be this segment's seal. */
  private sealOf(record: ScannedRecord, segment: number): { next: number; record: ScannedRecord } | undefined {
    if (record.type === 'record') {
      return 'control' in record.payload && record.payload.control === 'seal' ? { next: record.payload.nextSegment, record } : undefined;
    }
    const next = segment + 1;
    if (record.length > 128 || !fileExists(this.fs, this.segmentPath(next))) {
      return undefined;
    }
    if (!looksLikeSeal(this.readBytes(segment, record.offset, record.length), next)) {
      return undefined;
    }
    return {
      next,
      record: { type: 'record', offset: record.offset, length: record.length, payload: sealRecord(next), repaired: `the seal of segment ${segment} was damaged (${record.reason}); it was recognised by its exact shape` },
    };
  }

  readBytes(segment: number, offset: number, length: number): Buffer {
    const fd = this.fs.openSync(this.segmentPath(segment), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const got = readFully(this.fs, fd, buffer, offset);
      return buffer.subarray(0, got);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  close(): void {
    this.closeAppendFd();
    this.closeReadFd();
  }
}

function readFully(fs: FileSystem, fd: number, buffer: Buffer, position: number): number {
  let total = 0;
  while (total < buffer.length) {
    const got = fs.readSync(fd, buffer, total, buffer.length - total, position + total);
    if (got === 0) {
      break;
    }
    total += got;
  }
  return total;
}
