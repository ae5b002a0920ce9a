import * as fs from 'node:fs';
import { openFlags, readAll, type RegularFileOptions, type RegularFileRead } from './regularFiles';

// A file being saved can be read half-written: editors and autosave commonly truncate the file
// and then write it, so a read between the two sees an empty or partial file. A read is kept
// only when the file did not change while it was read (same inode, size, mtime and ctime on the
// open descriptor before and after) and, if it changed within the last `quietMs`, when it still
// has not changed once that quiet time has passed (a writer between its truncate and its write
// leaves the file still for a moment), as must an empty file. Otherwise it is read again, a
// bounded number of times.

export interface SettleLimits {
  /** Reads of one file at most before it is given up as still changing. */
  readonly attempts: number;
  /** How long a file must stay unchanged after its last change before a read of it is kept. */
  readonly quietMs: number;
}

export const defaultSettleLimits: SettleLimits = { attempts: 5, quietMs: 100 };

export interface SettledFileRead {
  readonly read: RegularFileRead;
  /** Reads made; more than one means the file changed while it was read. */
  readonly attempts: number;
  /** False when the file kept changing through every attempt: `read` may then be partial. */
  readonly settled: boolean;
}

type Fingerprint = Pick<fs.BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

const sameFile = (a: Fingerprint, b: Fingerprint): boolean => a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a regular file of at most `maxBytes` as `readRegularFile` does, re-reading while it changes. */
export async function readSettledFile(absolute: string, maxBytes: number, options: RegularFileOptions, limits: SettleLimits = defaultSettleLimits): Promise<SettledFileRead> {
  let read: RegularFileRead = { kind: 'not-regular' };
  for (let attempt = 1; attempt <= limits.attempts; attempt++) {
    const handle = await fs.promises.open(absolute, openFlags(options));
    try {
      const before = await handle.stat({ bigint: true });
      if (!before.isFile()) {
        return { read: { kind: 'not-regular' }, attempts: attempt, settled: true };
      }
      read = before.size > BigInt(maxBytes) ? { kind: 'too-large', size: Number(before.size) } : await readAll(Number(before.size), maxBytes, async (buffer, offset) => (await handle.read(buffer, offset, buffer.length - offset, null)).bytesRead);
      let after = await handle.stat({ bigint: true });
      if (sameFile(before, after)) {
        // Clamped: a modification time in the future (clock skew) must not stall the read. An
        // empty file always waits: a truncate can show its new size before its new mtime.
        const quietLeftMs = after.size === 0n ? limits.quietMs : Math.min(limits.quietMs, limits.quietMs - (Date.now() - Number(after.mtimeNs / 1_000_000n)));
        if (quietLeftMs > 0) {
          await sleep(quietLeftMs);
          after = await handle.stat({ bigint: true });
        }
        if (sameFile(before, after)) {
          return { read, attempts: attempt, settled: true };
        }
      }
    } finally {
      await handle.close();
    }
  }
  return { read, attempts: limits.attempts, settled: false };
}
