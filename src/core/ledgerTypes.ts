import type { FileSystem } from './fs/fileSystem';
import type { JournalPosition } from './log/journal';

// The Ledger's public shapes: how it is opened and what it reports.

export interface LedgerOptions {
  readonly storeDir: string;
  /** Open without writing anything (CLI inspection of a store another engine owns). */
  readonly readOnly?: boolean;
  /** A fixed writer id (tests); else the store gives one of `<writerKind>-<n>` (see WriterSlot). */
  readonly writerId?: string;
  /** What kind of writer this is: `vscode`, `cli`, ... (default `engine`). */
  readonly writerKind?: string;
  readonly fs?: FileSystem;
  readonly wasmPath?: string;
  /** Snapshot in the background after this many new events (default 5000; 0 = never). */
  readonly snapshotEveryEvents?: number;
  /** Rotate the journal segment past this size (default 64 MiB). */
  readonly segmentMaxBytes?: number;
  readonly lockStaleMs?: number;
  /** Follow other writers' appends as they happen (fs.watch plus a poll). */
  readonly watch?: boolean;
  readonly pollMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The wall clock for events' stamps, hlc and wallMs (default Date.now; tests fix it so the journal's bytes repeat). */
  readonly now?: () => number;
}

export interface LedgerChange {
  readonly sessionIds: readonly string[];
  readonly lastSeq: number;
}

export interface LedgerStats {
  readonly storeDir: string;
  readonly storeId: string;
  readonly writerId: string;
  readonly readOnly: boolean;
  /** The log schema version of the open database (the events table's layout). */
  readonly schemaVersion: number;
  readonly eventCount: number;
  readonly sessionCount: number;
  /** Events in those sessions; the rest of `eventCount` is in system streams (prompt versions, facts, MCP). */
  readonly sessionEventCount: number;
  readonly rejectedAppendCount: number;
  readonly lastSeq: number;
  readonly journal: { readonly segments: number; readonly bytes: number; readonly position: JournalPosition };
  readonly snapshot: { readonly file: string; readonly seq: number; readonly bytes: number; readonly eventsSince: number } | null;
  readonly databaseBytes: number;
  readonly openMs: number;
  readonly damagedRecords: number;
  readonly recovery: readonly string[];
}

export type SnapshotOutcome =
  | { readonly written: true; readonly file: string; readonly seq: number; readonly bytes: number; readonly ms: number }
  | { readonly written: false; readonly reason: string };

export class LedgerReadOnlyError extends Error {
  override readonly name = 'LedgerReadOnlyError';
}

