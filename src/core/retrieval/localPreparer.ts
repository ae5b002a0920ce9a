import type { RetrievalScope } from './fileSource';
import type { IndexTables, RefreshOutcome } from './indexTables';
import { BatchBuilder } from './preparedFile';
import { TermCounter } from './termCounter';
import { TermNumbers } from './termIndex';

// The scan's files prepared on the writing thread: those the worker cannot read (unsaved
// documents), and all of them when there is no worker or it failed. The same preparation as the
// worker's (preparedFile.ts), so an index is the same whichever thread read a file; its term
// numbers are this thread's own.

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
    // Confirmed as of a time before the read (the racy-mtime rule, readCheck.ts); applyPrepared
    // keeps an unchanged file and writes the others, as for the worker's batches.
    const readFromMs = this.now();
    this.builder.add(relative, scope.read(relative, { walked: true }));
    const batch = this.builder.done();
    return this.tables.applyPrepared(relative, batch.files[0]!.reading, batch, this.numbers, existing, readFromMs);
  }
}
