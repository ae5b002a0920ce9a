import * as fs from 'node:fs';

// Reads that cannot hang the engine: the file is opened non-blocking (opening a FIFO for reading
// would otherwise wait for a writer forever) and checked on the open descriptor, so a file
// swapped for a pipe, device or socket between a listing and the read is refused, not read.

export type RegularFileRead =
  | { readonly kind: 'read'; readonly bytes: Buffer }
  | { readonly kind: 'not-regular' }
  | { readonly kind: 'too-large'; readonly size: number };

export interface RegularFileOptions {
  /** Refuse a symlink at the last component (the caller resolved the real path already). */
  readonly noFollow: boolean;
}

export function openFlags(options: RegularFileOptions): number {
  // Windows has neither flag; there a FIFO cannot appear under a plain file name.
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants as Partial<typeof fs.constants>;
  return (O_RDONLY ?? 0) | (O_NONBLOCK ?? 0) | (options.noFollow ? (O_NOFOLLOW ?? 0) : 0);
}

export type ReadAt = (buffer: Buffer, offset: number) => number | Promise<number>;

/**
 * Reads to the end, growing the buffer from the fstat size; one byte past `maxBytes` means the
 * file grew past the limit after fstat.
 */
export async function readAll(size: number, maxBytes: number, readAt: ReadAt): Promise<RegularFileRead> {
  let buffer = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const read = await readAt(buffer, length);
    if (read === 0) {
      return { kind: 'read', bytes: buffer.subarray(0, length) };
    }
    length += read;
    if (length > maxBytes) {
      return { kind: 'too-large', size: length };
    }
  }
}

/** Reads a regular file of at most `maxBytes`; anything else is reported, never read. */
export function readRegularFileSync(absolute: string, maxBytes: number, options: RegularFileOptions): RegularFileRead {
  const fd = fs.openSync(absolute, openFlags(options));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      return { kind: 'not-regular' };
    }
    if (stat.size > maxBytes) {
      return { kind: 'too-large', size: stat.size };
    }
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) {
        return { kind: 'read', bytes: buffer.subarray(0, length) };
      }
      length += read;
      if (length > maxBytes) {
        return { kind: 'too-large', size: length };
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The same on libuv's thread pool, so the event loop keeps answering while files are read. */
export async function readRegularFile(absolute: string, maxBytes: number, options: RegularFileOptions): Promise<RegularFileRead> {
  const handle = await fs.promises.open(absolute, openFlags(options));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      return { kind: 'not-regular' };
    }
    if (stat.size > maxBytes) {
      return { kind: 'too-large', size: stat.size };
    }
    return await readAll(stat.size, maxBytes, async (buffer, offset) => (await handle.read(buffer, offset, buffer.length - offset, null)).bytesRead);
  } finally {
    await handle.close();
  }
}
