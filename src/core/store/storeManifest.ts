import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { describeIoError, fsyncDirectory } from '../fs/durableFile';
import { errorCode, type FileSystem } from '../fs/fileSystem';
import { StoreTooNewError } from './schema';

// store.json names the store and the layout version of the folder. It is created once, with
// link() so two engines opening a new folder at the same moment agree on one store id.
export const storeLayoutVersion = 1;

export interface StoreManifest {
  readonly layoutVersion: number;
  readonly storeId: string;
  readonly createdMs: number;
}

export class StoreAccessError extends Error {
  override readonly name = 'StoreAccessError';
}

export function readOrCreateManifest(fs: FileSystem, storeDir: string, readOnly: boolean): StoreManifest {
  const file = path.join(storeDir, 'store.json');
  const existing = readManifest(fs, file);
  if (existing) {
    return existing;
  }
  if (readOnly) {
    throw new StoreAccessError(`${storeDir} is not a Context Ledger store (it has no store.json)`);
  }
  const manifest: StoreManifest = { layoutVersion: storeLayoutVersion, storeId: randomBytes(8).toString('hex'), createdMs: Date.now() };
  const candidate = path.join(storeDir, `.store.json.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(candidate, 'wx', 0o600);
  try {
    fs.writeSync(fd, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(candidate, file);
    fsyncDirectory(fs, storeDir);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') {
      throw new StoreAccessError(`cannot create ${file}: ${describeIoError(error)}`);
    }
  } finally {
    fs.unlinkSync(candidate);
  }
  return readManifest(fs, file) ?? manifest;
}

function readManifest(fs: FileSystem, file: string): StoreManifest | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file).toString('utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return undefined;
    }
    throw new StoreAccessError(`cannot read ${file}: ${describeIoError(error)}`);
  }
  let value: Partial<StoreManifest>;
  try {
    value = JSON.parse(text) as Partial<StoreManifest>;
  } catch {
    throw new StoreAccessError(`${file} is not valid JSON; restore it from a backup or move the store folder aside`);
  }
  if (typeof value.layoutVersion !== 'number' || typeof value.storeId !== 'string') {
    throw new StoreAccessError(`${file} lacks layoutVersion or storeId`);
  }
  if (value.layoutVersion > storeLayoutVersion) {
    throw new StoreTooNewError(
      `this store has layout version ${value.layoutVersion}, but this Context Ledger understands up to ${storeLayoutVersion}. Update the extension; the store was left untouched.`,
    );
  }
  return value as StoreManifest;
}
