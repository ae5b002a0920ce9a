import type { FileSystem } from '../core/fs/fileSystem';
import { Importer } from '../core/import/importer';
import { describeImportSummary } from '../core/import/importReport';
import { ImportWatcher } from '../core/import/importWatcher';
import type { ImportSummary } from '../core/import/importTypes';
import { Ledger } from '../core/ledger';

// `context-ledger --store DIR import PATH…`: files or folders (Claude Code's ~/.claude/projects,
// one project folder, single transcripts; this store's JSONL export; Markdown), format detected
// per file. Progress goes to stderr; Ctrl-C stops after the batch being written (each batch is
// one append with its cursor), so the store stays consistent and the next import goes on.

export async function runImport(storeDir: string, paths: readonly string[], options: { json: boolean; fs: FileSystem; follow: boolean }, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 5000, fs: options.fs, writerKind: 'cli' });
  if (options.follow) {
    return follow(ledger, paths, out, err);
  }
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

/** `import --follow`: imports what the paths gain until Ctrl-C, one summary line per pass that added events. */
async function follow(ledger: Ledger, paths: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let watcher: ImportWatcher | undefined;
  try {
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      watcher = new ImportWatcher(new Importer(ledger), paths, {
        pollMs: 500,
        onImported: (summary) => out(describeImportSummary(summary)[0]!),
        onError: (error) => err(`context-ledger: import: ${error instanceof Error ? error.message : String(error)}`),
      });
      err(`context-ledger: following ${paths.join(', ')} (Ctrl-C stops)`);
    });
    watcher?.dispose();
    await watcher?.idle();
  } finally {
    ledger.close();
  }
  return 0;
}
