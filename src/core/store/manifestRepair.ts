import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { describeIoError, fsyncDirectory } from '../fs/durableFile';
import { fileExists, type FileSystem } from '../fs/fileSystem';
import { checkSnapshotBytes, listSnapshots } from './snapshots';
import {
  StoreAccessError,
  createManifest,
  describeStoreContent,
  manifestPath,
  newStoreId,
  readManifest,
  storeLayoutVersion,
  type StoreManifest,
} from './storeManifest';

// `context-ledger repair`: a store whose store.json is missing or damaged is refused at open
// (a new one would silently give its records a new store id). Repair moves the damaged file
// aside, recovers the store id where it still can, and writes a new store.json.

export type ManifestRepair =
  | { readonly repaired: false; readonly storeId: string }
  | {
      readonly repaired: true;
      readonly storeId: string;
      /** Where the id came from: the damaged file, a snapshot's meta table, or nowhere (new). */
      readonly idSource: { readonly from: 'damaged store.json' } | { readonly from: 'snapshot'; readonly file: string } | { readonly from: 'new' };
      /** What was wrong with store.json. */
      readonly problem: string;
      /** Where the damaged store.json now is (store-relative). */
      readonly movedAside?: string;
    };

export function repairManifest(fs: FileSystem, storeDir: string, sql: SqlJsStatic, nowMs = Date.now()): ManifestRepair {
  if (!fileExists(fs, storeDir)) {
    throw new StoreAccessError(`there is no store at ${storeDir}; nothing was changed`);
  }
  // A store.json from a newer version throws here: it is not damage, and is left untouched.
  const read = readManifest(fs, storeDir);
  if (read.state === 'ok') {
    return { repaired: false, storeId: read.manifest.storeId };
  }
  if (read.state === 'missing') {
    const content = describeStoreContent(fs, storeDir);
    if (content.journalBytes === 0 && content.snapshots === 0) {
      throw new StoreAccessError(`${storeDir} has no store.json and no journal records: it is not a Context Ledger store, or an empty one (opening it for writing creates it); nothing was changed`);
    }
  }
  const fromDamaged = read.state === 'damaged' ? idFromDamagedBytes(read.bytes) : undefined;
  const fromSnapshot = fromDamaged ? undefined : idFromSnapshots(fs, path.join(storeDir, 'snapshots'), sql);
  const manifest: StoreManifest = {
    layoutVersion: storeLayoutVersion,
    storeId: fromDamaged?.storeId ?? fromSnapshot?.storeId ?? newStoreId(),
    createdMs: fromDamaged?.createdMs ?? nowMs,
  };
  let movedAside: string | undefined;
  if (read.state === 'damaged') {
    movedAside = `store.json.damaged-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(manifestPath(storeDir), path.join(storeDir, movedAside));
      fsyncDirectory(fs, storeDir);
    } catch (error) {
      throw new StoreAccessError(`cannot move the damaged ${manifestPath(storeDir)} aside: ${describeIoError(error)}; nothing was changed`);
    }
  }
  const written = createManifest(fs, storeDir, manifest);
  return {
    repaired: true,
    storeId: written.storeId,
    idSource: fromDamaged ? { from: 'damaged store.json' } : fromSnapshot ? { from: 'snapshot', file: fromSnapshot.file } : { from: 'new' },
    problem: read.state === 'damaged' ? `store.json was damaged (${read.reason})` : 'store.json was missing',
    ...(movedAside ? { movedAside } : {}),
  };
}

/** The id and creation time, if the damaged bytes still hold them (a truncated or edited file). */
function idFromDamagedBytes(bytes: Buffer): { storeId: string; createdMs?: number } | undefined {
  const text = bytes.toString('utf8');
  const id = /"storeId"\s*:\s*"([0-9A-Za-z_-]{1,64})"/.exec(text)?.[1];
  if (!id) {
    return undefined;
  }
  const created = /"createdMs"\s*:\s*(\d{1,16})/.exec(text)?.[1];
  return { storeId: id, ...(created ? { createdMs: Number(created) } : {}) };
}

/** Snapshots record the store id in their meta table; the newest trustworthy one decides. */
function idFromSnapshots(fs: FileSystem, directory: string, sql: SqlJsStatic): { storeId: string; file: string } | undefined {
  for (const file of listSnapshots(fs, directory)) {
    let db: Database | undefined;
    try {
      const bytes = fs.readFileSync(path.join(directory, file.name));
      if (checkSnapshotBytes(file, bytes)) {
        continue;
      }
      db = new sql.Database(bytes);
      const value = db.exec("SELECT value FROM meta WHERE key = 'storeId'")[0]?.values[0]?.[0];
      if (typeof value === 'string' && value !== '') {
        return { storeId: value, file: file.name };
      }
    } catch {
      // An unreadable snapshot holds no id we can trust; try the next one.
    } finally {
      db?.close();
    }
  }
  return undefined;
}
