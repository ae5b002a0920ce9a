import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { describeIoError } from '../fs/durableFile';
import { errorCode, type FileSystem } from '../fs/fileSystem';
import { Journal, type JournalPosition, type PositionedRecord } from '../log/journal';
import { EventReader } from './eventReader';
import type { ProjectionModule } from './modules/projectionModule';
import { StoreProjections, digestProjections } from './projection';
import { listDamagedSlots } from './queries';
import { migrate } from './schema';
import { checkSnapshotBytes, listSnapshots } from './snapshots';

export interface VerifyReport {
  readonly ok: boolean;
  /** Accepted events up to the position checked. */
  readonly eventCount: number;
  /** Journal slots (records of every kind, readable or not) up to the position checked. */
  readonly recordCount: number;
  readonly position: JournalPosition;
  readonly segments: number;
  readonly snapshotsChecked: number;
  /** Things that mean data may be lost or the store disagrees with its journal, with what each cost. */
  readonly problems: readonly string[];
  /** Things that were recovered from and lost nothing acknowledged. */
  readonly warnings: readonly string[];
}

export interface VerifyInput {
  readonly fs: FileSystem;
  readonly sql: SqlJsStatic;
  /** The live projections, read only at the start (synchronously), at `position`. */
  readonly db: Database;
  readonly journal: Journal;
  readonly storeDir: string;
  readonly position: JournalPosition;
  readonly lastSeq: number;
  readonly modules: readonly ProjectionModule[];
  readonly createModules: () => ProjectionModule[];
}

const pageRecords = 5000;

/**
 * Replays the journal up to one position into a fresh database and compares it with the live
 * projections taken at that same position, so a writer appending meanwhile changes nothing.
 * Between pages it yields, so the engine keeps answering while it runs.
 */
export async function verifyStore(input: VerifyInput): Promise<VerifyReport> {
  const live = digestProjections(input.db, input.modules);
  const liveEvents = Number(input.db.exec('SELECT COUNT(*) FROM events')[0]?.values[0]?.[0] ?? 0);
  const problems: string[] = [];
  const warnings: string[] = [];
  const journal = new Journal(input.fs, input.journal.directory);
  const replayDb = new input.sql.Database();
  const repaired: PositionedRecord[] = [];
  let incompleteTail: { segment: number; offset: number; length: number } | undefined;
  let eventCount = 0;
  let recordCount = 0;
  try {
    migrate(replayDb);
    const replay = new StoreProjections(replayDb, input.createModules(), new EventReader(journal, 4 * 1024 * 1024));
    try {
      let from: JournalPosition = { segment: journal.firstSegment(), offset: 0 };
      const limit = { maxRecords: pageRecords, segment: input.position.segment, offset: input.position.offset };
      for (;;) {
        const read = journal.readFrom(from, limit);
        problems.push(...read.notes.map((note) => `${note}: whatever it held is lost`));
        replay.beginBatch();
        for (const record of read.records) {
          replay.apply(record);
          if (record.type === 'record' && record.repaired) {
            repaired.push(record);
          }
        }
        replay.commit();
        incompleteTail = read.incompleteTail;
        const moved = read.position.segment !== from.segment || read.position.offset !== from.offset;
        from = read.position;
        if (!read.more && (!moved || (from.segment === limit.segment && from.offset >= limit.offset))) {
          break;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The read stops at the position checked, so it never reaches an unfinished record just
      // after it (a torn write, or a seal damaged at its LF): look there once, without a limit.
      incompleteTail ??= journal.readFrom(from).incompleteTail;
      recordCount = replay.lastSeq;
      eventCount = Number(replayDb.exec('SELECT COUNT(*) FROM events')[0]?.values[0]?.[0] ?? 0);
      for (const [table, digest] of digestProjections(replayDb, replay.modules)) {
        if (live.get(table) !== digest) {
          problems.push(`the projections' ${table} (${liveEvents} events, seq ${input.lastSeq}) disagree with a replay of the journal up to the same position (${eventCount} events, seq ${recordCount})`);
        }
      }
      for (const module of replay.modules) {
        problems.push(...(module.describeDamage?.(replayDb) ?? []));
      }
    } finally {
      replay.dispose();
    }
    for (const slot of listDamagedSlots(replayDb)) {
      const where = `${slot.length} bytes at journal segment ${slot.segment} offset ${slot.offset} (seq ${slot.seq})`;
      if (slot.torn) {
        warnings.push(`skipped a torn write (never acknowledged) of ${where}: nothing lost`);
      } else {
        problems.push(`damaged journal record of ${where}, ${slot.reason}: ${describeCost(journal, slot.segment, slot.offset, slot.length)}`);
      }
    }
  } finally {
    replayDb.close();
  }
  for (const record of repaired) {
    warnings.push(`journal segment ${record.segment} offset ${record.offset}: ${record.type === 'record' ? record.repaired : ''}; nothing lost`);
  }
  if (incompleteTail) {
    warnings.push(`journal segment ${incompleteTail.segment} offset ${incompleteTail.offset}: ${incompleteTail.length} bytes of an unfinished record end the segment (a torn write, or a write in progress): never acknowledged`);
  }
  const integrity = String(input.db.exec('PRAGMA integrity_check')[0]?.values[0]?.[0]);
  if (integrity !== 'ok') {
    problems.push(`SQLite integrity check of the projections: ${integrity}`);
  }
  const snapshotDir = path.join(input.storeDir, 'snapshots');
  const snapshots = listSnapshots(input.fs, snapshotDir);
  for (const file of snapshots) {
    try {
      const reason = checkSnapshotBytes(file, input.fs.readFileSync(path.join(snapshotDir, file.name)));
      if (reason) {
        problems.push(`snapshot ${file.name}: ${reason}`);
      }
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        problems.push(`snapshot ${file.name} cannot be read: ${describeIoError(error)}`);
      }
    }
  }
  journal.close();
  return {
    ok: problems.length === 0,
    eventCount,
    recordCount,
    position: input.position,
    segments: input.journal.listSegments().length,
    snapshotsChecked: snapshots.length,
    problems,
    warnings,
  };
}

/**
 * What a damaged record cost. Its fields can often still be read (one flipped bit rarely hits
 * them), so it can usually be named; that is only a guess, since the checksum failed.
 */
function describeCost(journal: Journal, segment: number, offset: number, length: number): string {
  const text = journal.readBytes(segment, offset, Math.min(length, 64 * 1024)).toString('utf8');
  const field = (name: string): string | undefined => new RegExp(`"${name}":"([^"\\\\]{1,200})"`).exec(text)?.[1];
  const kind = field('kind');
  let guess = '';
  if (kind) {
    const sessionId = field('sessionId');
    const id = field('id');
    guess = ` (probably a ${kind} event${sessionId ? ` of session ${sessionId}` : ''}${id ? `, id ${id}` : ''})`;
  } else if (text.includes('"control":"seal"')) {
    guess = ' (probably a segment seal)';
  }
  return `one record lost${guess}; its bytes are kept in quarantine/`;
}
