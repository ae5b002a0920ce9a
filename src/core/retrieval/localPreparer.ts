import type { RetrievalScope } from './fileSource';
import type { IndexTables, RefreshOutcome } from './indexTables';
import { BatchBuilder } from './preparedFile';
import { TermCounter } from './termCounter';
import { TermNumbers } from './termIndex';

// The scan's files prepared on the writing thread: those the worker cannot read (unsaved
// documents), all of them when there is no worker, and a few at a time when the writer would
// otherwise wait for it. The same preparation as the worker's (preparedFile.ts), so an index is
// the same whichever thread read a file; its term numbers are this thread's own.

export class LocalPreparer {
  private readonly counter = new TermCounter();
  private readonly numbers = new TermNumbers(this.counter.vocabulary);
  private readonly builder: BatchBuilder;

  constructor(
    private readonly tables: IndexTables,
    private readonly now: () => number,
  ) {
    this.builder = new BatchBuilder(this.counter, tables.chunkOptions);
  }

  /** Reads `relative` (its unsaved text if an editor holds one) and writes what it found. */
  apply(scope: RetrievalScope, relative: string, unsaved: ReadonlyMap<string, string>): RefreshOutcome {
    const existing = this.tables.fileRow(relative);
    const unsavedText = unsaved.get(relative);
    if (unsavedText !== undefined) {
      return this.tables.apply(relative, scope.read(relative, { walked: true, unsavedText }), existing);
    }
    // Confirmed as of a time before the read (the racy-mtime rule, readCheck.ts).
    const readFromMs = this.now();
    const reading = scope.read(relative, { walked: true });
    if (reading.kind !== 'text' || (existing && existing.source === 'disk' && existing.hash === reading.version.hash)) {
      return reading.kind === 'text' ? this.confirm(existing!.id, reading.version, readFromMs) : this.tables.apply(relative, reading, existing);
    }
    this.builder.add(relative, reading);
    const batch = this.builder.done();
    return this.tables.applyPrepared(relative, batch.files[0]!.reading, batch, this.numbers, existing, readFromMs);
  }

  private confirm(fileId: number, version: Parameters<IndexTables['confirm']>[1], readFromMs: number): RefreshOutcome {
    this.tables.confirm(fileId, version, readFromMs);
    return 'unchanged';
  }
}
