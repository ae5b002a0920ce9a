import * as path from 'node:path';
import type { FileSystem } from './fs/fileSystem';
import { Ledger } from './ledger';
import { summarizeStats } from './report/storeReport';
import { repairManifest } from './store/manifestRepair';
import { loadSqlJs } from './store/sqlJsLoader';
import { JournalBehindSnapshotError, setAsideSnapshots } from './store/storeFolder';

// Repair of a store that refuses to open: store.json missing or damaged (a new one is written,
// keeping the store id where it can be recovered), or a journal shorter than its snapshots (the
// snapshots are set aside, kept, and the projections rebuilt from the journal). The journal is
// never changed. Shared by the CLI's `repair` and the engine's repair request (VS Code's Repair
// Store command); each says what it did in the returned lines.

export interface StoreRepairReport {
  readonly repaired: boolean;
  readonly lines: readonly string[];
  /** The store id it keeps (or the new one, when none could be recovered). */
  readonly storeId: string;
}

export async function repairStore(fileSystem: FileSystem, storeDir: string, wasmPath?: string): Promise<StoreRepairReport> {
  const folder = path.resolve(storeDir);
  const lines: string[] = [];
  const outcome = repairManifest(fileSystem, folder, await loadSqlJs(wasmPath));
  let repaired = false;
  if (outcome.repaired) {
    repaired = true;
    const source = outcome.idSource;
    lines.push(`${outcome.problem}${outcome.movedAside ? `; moved it aside to ${outcome.movedAside}` : ''}`);
    lines.push(
      source.from === 'new'
        ? `wrote a new store.json with a NEW store id ${outcome.storeId}: the old id could not be recovered (no readable store.json, no snapshot that records it)`
        : `wrote a new store.json keeping the store id ${outcome.storeId} (recovered from ${source.from === 'snapshot' ? `snapshot ${source.file}` : 'the damaged store.json'})`,
    );
  }
  const open = () => Ledger.open({ storeDir: folder, readOnly: true, snapshotEveryEvents: 0, fs: fileSystem, ...(wasmPath ? { wasmPath } : {}) });
  let ledger: Ledger;
  try {
    ledger = await open();
  } catch (error) {
    if (!(error instanceof JournalBehindSnapshotError)) {
      throw error;
    }
    // The journal is the truth: snapshots that cover more than it holds are set aside (kept,
    // not deleted), and the projections are rebuilt from the journal.
    const aside = setAsideSnapshots(fileSystem, folder);
    lines.push(`the journal is shorter than the snapshots say (${error.message.split(':')[0]}); moved ${aside.names.length} snapshot(s) aside to ${aside.folder}; the projections are rebuilt from the journal`);
    repaired = true;
    ledger = await open();
  }
  try {
    if (!repaired) {
      lines.push(`store.json is intact (store id ${outcome.storeId}); nothing to repair`);
    }
    lines.push(`the store opens: ${summarizeStats(ledger.stats())}; run verify for a full check`);
  } finally {
    ledger.close();
  }
  return { repaired, lines, storeId: outcome.storeId };
}
