import * as path from 'node:path';
import { describeIoError, writeFileAtomic } from '../fs/durableFile';
import { fileExists, type FileSystem } from '../fs/fileSystem';
import type { Journal, PositionedRecord } from '../log/journal';

export type LogSink = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * What an engine recovered from since it opened (stats().recovery): damaged records (their
 * bytes copied to quarantine/), repaired ones, reading past lost seals. Each is said once.
 */
export class RecoveryLog {
  private readonly noted = new Set<string>();

  constructor(
    private readonly fs: FileSystem,
    private readonly storeDir: string,
    private readonly journal: Journal,
    private readonly readOnly: boolean,
    private readonly messages: string[],
    private readonly log: LogSink,
  ) {}

  get entries(): readonly string[] {
    return this.messages;
  }

  push(message: string): void {
    this.messages.push(message);
  }

  note(key: string, level: 'warn' | 'error', message: string): void {
    if (this.noted.has(key)) {
      return;
    }
    this.noted.add(key);
    this.messages.push(message);
    this.log(level, message);
  }

  damaged(record: PositionedRecord & { type: 'damaged' }, seq: number): void {
    const key = `damaged:${record.segment}:${record.offset}`;
    if (this.noted.has(key)) {
      return;
    }
    const quarantinedAs = this.quarantine(record.segment, record.offset, record.length);
    this.note(
      key,
      'error',
      `damaged journal record: ${record.length} bytes at segment ${record.segment} offset ${record.offset} (seq ${seq}: ${record.reason})${quarantinedAs ? `; kept in ${quarantinedAs}` : ''}`,
    );
  }

  /** Copies damaged journal bytes to quarantine/ (never replayed, kept for inspection). */
  quarantine(segment: number, offset: number, length: number): string | undefined {
    if (this.readOnly) {
      return undefined;
    }
    const target = path.join(this.storeDir, 'quarantine', `segment-${segment}-offset-${offset}.bin`);
    try {
      if (!fileExists(this.fs, target)) {
        this.fs.mkdirSync(path.dirname(target), { recursive: true });
        writeFileAtomic(this.fs, target, this.journal.readBytes(segment, offset, length));
      }
      return target;
    } catch (error) {
      this.log('warn', `could not copy damaged journal bytes to ${target}: ${describeIoError(error)}`);
      return undefined;
    }
  }
}
