import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { describeIoError, fsyncDirectory, removeQuietly, temporaryName } from '../fs/durableFile';
import { errorCode, listFolder, type FileSystem } from '../fs/fileSystem';
import { StoreTooNewError } from './schema';
import { listSnapshots } from './snapshots';

// store.json names the store and the layout version of the folder. It is created once, with
// link() so two engines opening a new folder at the same moment agree on one store id. It is
// never created next to a journal that has records: a missing or damaged store.json there is
// reported, and `context-ledger repair` writes a new one.
export const storeLayoutVersion = 1;

export interface StoreManifest {
  readonly layoutVersion: number;
  readonly storeId: string;
  readonly createdMs: number;
}

export class StoreAccessError extends Error {
  override readonly name: string = 'StoreAccessError';
}

/** A store that `repair` can make openable again (store.json missing or damaged, journal behind its snapshots). */
export class RepairableStoreError extends StoreAccessError {
  override readonly name: string = 'RepairableStoreError';
}

/** What store.json holds: a manifest, nothing (no file), or bytes that are not a manifest. */
export type ManifestRead =
  | { readonly state: 'ok'; readonly manifest: StoreManifest }
  | { readonly state: 'missing' }
  | { readonly state: 'damaged'; readonly reason: string; readonly bytes: Buffer };

/** What the folder holds besides store.json: a store with records needs its own manifest. */
export interface StoreContent {
  readonly journalBytes: number;
  readonly journalSegments: number;
  readonly snapshots: number;
}

export function manifestPath(storeDir: string): string {
  return path.join(storeDir, 'store.json');
}

export function readOrCreateManifest(fs: FileSystem, storeDir: string, readOnly: boolean): StoreManifest {
  const read = readManifest(fs, storeDir);
  if (read.state === 'ok') {
    return read.manifest;
  }
  const repair = `Run \`context-ledger --store ${quoteForShell(storeDir)} repair\` to move it aside and write a new one (it keeps the store id if it can be recovered); nothing was changed.`;
  if (read.state === 'damaged') {
    throw new RepairableStoreError(`${manifestPath(storeDir)} is damaged (${read.reason}), so this store cannot be opened. ${repair}`);
  }
  const content = describeStoreContent(fs, storeDir);
  if (content.journalBytes > 0 || content.snapshots > 0) {
    throw new RepairableStoreError(
      `${storeDir} has a journal (${content.journalBytes} bytes in ${content.journalSegments} segment(s)) and ${content.snapshots} snapshot(s), but its store.json is missing; a new one is not created on its own, since that would give these records a new store id. ${repair.replace('move it aside and ', '')}`,
    );
  }
  if (readOnly) {
    throw new StoreAccessError(`${storeDir} is not a Context Ledger store (it has no store.json)`);
  }
  return createManifest(fs, storeDir, { layoutVersion: storeLayoutVersion, storeId: newStoreId(), createdMs: Date.now() });
}

export function newStoreId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Creates store.json holding `manifest` unless one exists (link() refuses an existing name),
 * and returns the one that is there afterwards.
 */
export function createManifest(fs: FileSystem, storeDir: string, manifest: StoreManifest): StoreManifest {
  const file = manifestPath(storeDir);
  const candidate = path.join(storeDir, temporaryName('store.json'));
  try {
    const fd = fs.openSync(candidate, 'wx', 0o600);
    try {
      fs.writeSync(fd, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(candidate, file);
    fsyncDirectory(fs, storeDir);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') {
      throw new StoreAccessError(`cannot create ${file}: ${describeIoError(error)}`);
    }
  } finally {
    removeQuietly(fs, candidate);
  }
  const created = readManifest(fs, storeDir);
  return created.state === 'ok' ? created.manifest : manifest;
}

/** Reads store.json; throws only when it cannot be read at all or is from a newer version. */
export function readManifest(fs: FileSystem, storeDir: string): ManifestRead {
  const file = manifestPath(storeDir);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return { state: 'missing' };
    }
    throw new StoreAccessError(`cannot read ${file}: ${describeIoError(error)}`);
  }
  let value: Partial<StoreManifest>;
  try {
    value = JSON.parse(bytes.toString('utf8')) as Partial<StoreManifest>;
  } catch {
    return { state: 'damaged', reason: bytes.length === 0 ? 'it is empty' : 'it is not valid JSON', bytes };
  }
  if (typeof value !== 'object' || value === null || typeof value.layoutVersion !== 'number' || typeof value.storeId !== 'string' || value.storeId === '') {
    return { state: 'damaged', reason: 'it lacks layoutVersion or storeId', bytes };
  }
  if (value.layoutVersion > storeLayoutVersion) {
    throw new StoreTooNewError(
      `this store has layout version ${value.layoutVersion}, but this Context Ledger understands up to ${storeLayoutVersion}. Update the extension; the store was left untouched.`,
    );
  }
  return { state: 'ok', manifest: { layoutVersion: value.layoutVersion, storeId: value.storeId, createdMs: typeof value.createdMs === 'number' ? value.createdMs : 0 } };
}

export function describeStoreContent(fs: FileSystem, storeDir: string): StoreContent {
  const journalDir = path.join(storeDir, 'journal');
  const segments = listFolder(fs, journalDir).filter((name) => /^\d{10}\.log$/.test(name));
  let journalBytes = 0;
  for (const name of segments) {
    try {
      journalBytes += fs.statSync(path.join(journalDir, name)).size;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        throw error;
      }
    }
  }
  return { journalBytes, journalSegments: segments.length, snapshots: listSnapshots(fs, path.join(storeDir, 'snapshots')).length };
}

function quoteForShell(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
