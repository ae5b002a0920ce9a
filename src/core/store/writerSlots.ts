import * as path from 'node:path';
import type { FileSystem } from '../fs/fileSystem';
import { LockLostError, StoreLock } from '../log/storeLock';

const maxSlots = 256;

/**
 * A writer's identity on a store: `<kind>-<n>`, the lowest slot of its kind no live writer
 * holds (a lease in `writers/`, heartbeated like the maintenance lock). A window or CLI that
 * comes back finds its old slot free and takes the same id again, so the set of writer ids
 * stays small and stable (what version vectors need), and two live writers never share one.
 */
export class WriterSlot {
  private lock: StoreLock | undefined;
  private id: string;
  private checkedMs = 0;

  private constructor(
    private readonly fs: FileSystem,
    private readonly directory: string,
    private readonly kind: string,
    private readonly staleMs: number | undefined,
  ) {
    this.id = '';
  }

  static claim(fs: FileSystem, storeDir: string, kind: string, staleMs?: number): WriterSlot {
    if (!/^[a-z][a-z0-9]{0,15}$/.test(kind)) {
      throw new Error(`writer kind must be a short lowercase word, not ${JSON.stringify(kind)}`);
    }
    const slot = new WriterSlot(fs, path.join(storeDir, 'writers'), kind, staleMs);
    slot.take();
    return slot;
  }

  get writerId(): string {
    return this.id;
  }

  private take(): void {
    for (let n = 1; n <= maxSlots; n++) {
      const id = `${this.kind}-${n}`;
      const lock = new StoreLock(this.fs, this.directory, id, { writerId: id, ...(this.staleMs !== undefined ? { staleMs: this.staleMs } : {}) });
      if (lock.tryAcquire()) {
        this.lock = lock;
        this.id = id;
        this.checkedMs = Date.now();
        return;
      }
    }
    throw new Error(`all ${maxSlots} writer slots of kind ${this.kind} in ${this.directory} are held by live writers`);
  }

  /**
   * Before a write: a writer paused past its lease (SIGSTOP, a suspended laptop) may have lost
   * its slot to another writer; then it takes a new one, so no two writers share an id. Checked
   * at most every quarter lease, so appends do not pay a file lookup each.
   */
  ensureHeld(): void {
    const lock = this.lock;
    if (!lock || Date.now() - this.checkedMs < lock.staleMs / 4) {
      return;
    }
    try {
      lock.assertHeld();
      this.checkedMs = Date.now();
    } catch (error) {
      if (!(error instanceof LockLostError)) {
        throw error;
      }
      this.take();
    }
  }

  release(): void {
    this.lock?.release();
    this.lock = undefined;
  }
}
