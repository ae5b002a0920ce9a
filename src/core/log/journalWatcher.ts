import * as nodeFs from 'node:fs';

/**
 * Calls `onChange` (at most once per tick) when another writer may have appended: on a file
 * watch of the journal folder, and on a poll, since some file systems cannot be watched.
 */
export function watchJournal(directory: string, pollMs: number, onChange: () => void): { dispose(): void } {
  let scheduled = false;
  let disposed = false;
  const schedule = (): void => {
    if (scheduled || disposed) {
      return;
    }
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (!disposed) {
        onChange();
      }
    });
  };
  let watcher: nodeFs.FSWatcher | undefined;
  try {
    watcher = nodeFs.watch(directory, schedule);
    watcher.on('error', () => undefined);
  } catch {
    // Some file systems cannot be watched; the poll below still follows other writers.
  }
  const timer = setInterval(schedule, pollMs);
  timer.unref();
  return {
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
