import type { FileSystem } from '../core/fs/fileSystem';
import { Importer } from '../core/import/importer';
import { describeImportSummary } from '../core/import/importReport';
import type { ImportSummary } from '../core/import/importTypes';
import { Ledger } from '../core/ledger';

// `context-ledger --store DIR import PATH…`: files or folders (Claude Code's ~/.claude/projects,
// one project folder, single transcripts; this store's JSONL export; Markdown), format detected
// per file. Progress goes to stderr; Ctrl-C stops after the batch being written (each batch is
// one append with its cursor), so the store stays consistent and the next import goes on.

export async function runImport(storeDir: string, paths: readonly string[], options: { json: boolean; fs: FileSystem }, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 5000, fs: options.fs, writerKind: 'cli' });
  const controller = new AbortController();
  const onSignal = (): void => {
    err('context-ledger: stopping the import after the batch being written (Ctrl-C again to force)…');
    controller.abort();
    process.removeListener('SIGINT', onSignal);
  };
  process.on('SIGINT', onSignal);
  let lastReport = 0;
  let summary: ImportSummary;
  try {
    summary = await new Importer(ledger).importPaths(paths, {
      signal: controller.signal,
      onProgress: (progress) => {
        const now = Date.now();
        if (now - lastReport >= 500 || progress.bytesDone === progress.bytesTotal) {
          lastReport = now;
          err(`import: file ${progress.fileIndex + 1}/${progress.fileCount} ${progress.file}: ${Math.round((100 * progress.bytesDone) / Math.max(1, progress.bytesTotal))}%, ${progress.eventsAdded} events added`);
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    ledger.close();
  }
  out(options.json ? JSON.stringify(summary, null, 2) : describeImportSummary(summary).join('\n'));
  return summary.cancelled ? 130 : 0;
}
