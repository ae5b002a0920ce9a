import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { hostTag } from '../fs/durableFile';
import { errorCode, listFolder, type FileSystem } from '../fs/fileSystem';

/**
 * A lease on store maintenance (snapshots, segment rotation), shared by every engine on the
 * store. Each acquisition creates the next numbered file `<name>.<generation>` with link(),
 * which fails if the file exists: two takers of the same free or stale generation cannot both
 * win, so there is at most one holder of the newest generation. A holder heartbeats by touching
 * its file; it is stale when its process is gone (same host) or its heartbeat is older than
 * `staleMs`. A holder checks `assertHeld()` right before each guarded step, so a holder that was
 * paused past its lease learns it lost the lock before it acts.
 */
export interface LockOwner {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  readonly writerId: string;
  readonly acquiredMs: number;
  readonly released?: boolean;
}

export interface StoreLockOptions {
  readonly staleMs?: number;
  readonly writerId: string;
  readonly now?: () => number;
}

export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

const generationDigits = 12;

export class StoreLock {
  readonly staleMs: number;
  private held: { generation: number; token: string } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly fs: FileSystem,
    private readonly directory: string,
    private readonly name: string,
    private readonly options: StoreLockOptions,
  ) {
    this.staleMs = options.staleMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get isHeld(): boolean {
    return this.held !== undefined;
  }

  /** Takes the lock if it is free or stale; returns false at once if someone holds it. */
  tryAcquire(): boolean {
    if (this.held) {
      throw new Error(`lock ${this.name} is already held by this engine`);
    }
    this.fs.mkdirSync(this.directory, { recursive: true });
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = this.newestGeneration();
      if (current !== undefined && this.isLive(current.owner, current.mtimeMs)) {
        return false;
      }
      const generation = (current?.generation ?? 0) + 1;
      if (this.createGeneration(generation, false)) {
        // link() refuses only an existing name: a taker whose look raced the sweep of old
        // generations can link a number below the newest. Then it does not hold the lock.
        if (this.generations().at(-1) !== generation) {
          this.held = undefined;
          this.removeQuietly(generation);
          continue;
        }
        this.startHeartbeat();
        this.removeGenerationsBelow(generation);
        return true;
      }
      // Someone else took that generation between our look and our link: look again.
    }
    return false;
  }

  /** Waits up to `timeoutMs` for the lock. */
  async acquire(timeoutMs: number): Promise<void> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      if (this.tryAcquire()) {
        return;
      }
      if (this.now() >= deadline) {
        const holder = this.holder();
        throw new LockTimeoutError(
          `the store's ${this.name} lock is held by ${holder ? `writer ${holder.writerId} (pid ${holder.pid} on ${holder.host})` : 'another engine'}; gave up after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    }
  }

  /** The current holder, if any is live. */
  holder(): LockOwner | undefined {
    const current = this.newestGeneration();
    return current && this.isLive(current.owner, current.mtimeMs) ? current.owner : undefined;
  }

  /** Throws if this engine no longer holds the lock (taken over after a pause, or removed). */
  assertHeld(): void {
    const held = this.held;
    if (!held) {
      throw new LockLostError(`the store's ${this.name} lock is not held`);
    }
    const newest = this.newestGeneration();
    if (!newest || newest.generation !== held.generation || newest.owner?.token !== held.token) {
      this.stopHeartbeat();
      this.held = undefined;
      throw new LockLostError(`the store's ${this.name} lock was taken over by another engine`);
    }
    this.touch();
  }

  release(): void {
    const held = this.held;
    if (!held) {
      return;
    }
    this.stopHeartbeat();
    this.held = undefined;
    // Releasing is itself a new generation marked released, so "the newest generation decides"
    // stays the only rule. If it exists already, someone took over: nothing to release.
    try {
      this.createGeneration(held.generation + 1, true);
    } catch {
      // The disk failed (full, I/O error): the lease is no longer heartbeated and lapses after
      // staleMs. Throwing would stop a caller's cleanup (Ledger.close) halfway.
    }
  }

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => this.touch(), Math.max(50, Math.floor(this.staleMs / 4)));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private touch(): void {
    if (!this.held) {
      return;
    }
    const time = new Date(this.now());
    try {
      this.fs.utimesSync(this.fileFor(this.held.generation), time, time);
    } catch {
      // The file is gone (taken over and swept); assertHeld() reports it before the next step.
    }
  }

  private isLive(owner: LockOwner | undefined, mtimeMs: number): boolean {
    if (!owner) {
      // A file being written by link() is complete when it appears; an unreadable one is junk
      // unless its timestamp is fresh.
      return this.now() - mtimeMs < this.staleMs;
    }
    if (owner.released) {
      return false;
    }
    if (owner.host === os.hostname() && !processExists(owner.pid)) {
      return false;
    }
    return this.now() - mtimeMs < this.staleMs;
  }

  private createGeneration(generation: number, released: boolean): boolean {
    const token = randomBytes(8).toString('hex');
    const owner: LockOwner = {
      token,
      pid: process.pid,
      host: os.hostname(),
      writerId: this.options.writerId,
      acquiredMs: this.now(),
      ...(released ? { released: true } : {}),
    };
    // The writer in the name lets the sweep at open remove a candidate its process left.
    const candidate = path.join(this.directory, `.${this.name}.${hostTag()}-${process.pid}.${token}.candidate`);
    const fd = this.fs.openSync(candidate, 'wx', 0o600);
    try {
      try {
        this.fs.writeSync(fd, Buffer.from(JSON.stringify(owner)));
      } finally {
        this.fs.closeSync(fd);
      }
      this.fs.linkSync(candidate, this.fileFor(generation));
      if (!released) {
        this.held = { generation, token };
      }
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') {
        return false;
      }
      throw error;
    } finally {
      try {
        this.fs.unlinkSync(candidate);
      } catch {
        // Best effort: every reader ignores a stray candidate, and the next open sweeps it.
      }
    }
  }

  private newestGeneration(): { generation: number; owner: LockOwner | undefined; mtimeMs: number } | undefined {
    let generation: number | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      generation = this.generations().at(-1);
      if (generation === undefined) {
        return undefined;
      }
      try {
        const file = this.fileFor(generation);
        const mtimeMs = this.fs.statSync(file).mtimeMs;
        return { generation, owner: parseOwner(this.fs.readFileSync(file)), mtimeMs };
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') {
          throw error;
        }
        // Swept while we looked; look again.
      }
    }
    // Files kept changing under us: someone is busy with the lock. Report it as held (an
    // unreadable owner with a fresh timestamp) rather than as free.
    return generation === undefined ? undefined : { generation, owner: undefined, mtimeMs: this.now() };
  }

  private removeQuietly(generation: number): void {
    try {
      this.fs.unlinkSync(this.fileFor(generation));
    } catch {
      // Already swept by the rightful holder.
    }
  }

  private generations(): number[] {
    const names = listFolder(this.fs, this.directory);
    const prefix = `${this.name}.`;
    return names
      .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
      .map((name) => Number(name.slice(prefix.length)))
      .sort((a, b) => a - b);
  }

  private removeGenerationsBelow(generation: number): void {
    for (const old of this.generations()) {
      if (old < generation) {
        try {
          this.fs.unlinkSync(this.fileFor(old));
        } catch {
          // Another engine swept it first.
        }
      }
    }
  }

  private fileFor(generation: number): string {
    return path.join(this.directory, `${this.name}.${generation.toString().padStart(generationDigits, '0')}`);
  }
}

function parseOwner(bytes: Buffer): LockOwner | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Partial<LockOwner>;
    if (typeof value.token === 'string' && typeof value.pid === 'number' && typeof value.host === 'string') {
      return value as LockOwner;
    }
  } catch {
    // Unreadable lock file: treated by its age alone.
  }
  return undefined;
}

/** Whether a process with this pid exists on this host (EPERM: it does, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
