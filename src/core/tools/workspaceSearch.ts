import { readRegularFile, type RegularFileRead } from './regularFiles';
import { describeSecretContent } from './secretFiles';
import { TimeSlicer } from './timeSlicer';
import { displayLine } from './toolText';
import { looksBinary, WorkspaceAccessError, type WorkspaceFiles } from './workspaceFiles';

// search_text over the workspace, off the engine's request loop: files are read on libuv's
// thread pool and the matching yields every few milliseconds, so the engine answers other
// requests (another chat, a store query, Stop) while a search runs. Every cap that cuts a search
// is reported, so "no matches" is never a silent miss.

export interface SearchMatch {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** What cut the search short: the results cap, the file cap, the bytes cap or the time cap. */
export type SearchStop = 'results' | 'files' | 'bytes' | 'time';

export interface SearchOutcome {
  readonly matches: readonly SearchMatch[];
  readonly filesSearched: number;
  /** Files the search would have read with no caps (counted up to maxCountedFiles). */
  readonly filesSeen: number;
  /** True if counting stopped at its own cap (or the time cap), so there are more than filesSeen. */
  readonly filesSeenIsLowerBound: boolean;
  readonly stoppedBy: SearchStop | undefined;
  readonly skipped: { readonly tooLarge: number; readonly binary: number; readonly credentials: number; readonly unreadable: number };
}

export interface SearchOptions {
  readonly folder?: string;
  readonly maxResults?: number;
  readonly signal?: AbortSignal;
}

/** Reads in flight at once: enough to keep libuv's four threads busy. */
const readAhead = 8;

/** Lines containing `query` (case-insensitive) in the allowed regular text files under `folder`. */
export async function searchWorkspace(files: WorkspaceFiles, query: string, options: SearchOptions = {}): Promise<SearchOutcome> {
  const needle = query.toLowerCase();
  if (!needle.trim()) {
    throw new WorkspaceAccessError('the search text is empty');
  }
  const { limits } = files;
  const maxResults = options.maxResults ?? limits.maxSearchResults;
  const startedMs = performance.now();
  const slicer = new TimeSlicer();
  const matches: SearchMatch[] = [];
  const skipped = { tooLarge: 0, binary: 0, credentials: 0, unreadable: 0 };
  let filesSearched = 0;
  let filesQueued = 0;
  let filesSeen = 0;
  let bytesSearched = 0;
  let filesSeenIsLowerBound = false;
  // A cap that ends the searching (files already read are dropped), and the file cap, which
  // only stops new reads: the files before it are all searched.
  let halted: Exclude<SearchStop, 'files'> | undefined;
  let fileCapReached = false;

  const searchOne = async (file: string, pending: Promise<RegularFileRead | undefined>): Promise<void> => {
    const read = await pending;
    options.signal?.throwIfAborted();
    if (halted) {
      return;
    }
    filesSearched++;
    if (read?.kind !== 'read') {
      skipped[read?.kind === 'too-large' ? 'tooLarge' : 'unreadable']++;
      return;
    }
    bytesSearched += read.bytes.length;
    if (looksBinary(read.bytes)) {
      skipped.binary++;
      return;
    }
    const text = read.bytes.toString('utf8');
    if (describeSecretContent(text)) {
      skipped.credentials++;
    } else if (text.toLowerCase().includes(needle)) {
      const lines = text.split('\n');
      for (let index = 0; index < lines.length && matches.length < maxResults; index++) {
        const line = lines[index]!;
        if (line.toLowerCase().includes(needle)) {
          matches.push({ file, line: index + 1, text: displayLine(line.trim().slice(0, 200)) });
        }
      }
    }
    if (matches.length >= maxResults) {
      halted = 'results';
    } else if (bytesSearched >= limits.maxSearchedBytes) {
      halted = 'bytes';
    }
    await slicer.maybeYield();
  };

  // Files are read a few at a time ahead of the search, and searched in walk order.
  const inFlight: Array<{ file: string; read: Promise<RegularFileRead | undefined> }> = [];
  for await (const file of files.walkFiles(options.folder ?? '.', options.signal)) {
    filesSeen++;
    if (!halted && performance.now() - startedMs > limits.maxSearchMs) {
      halted = 'time';
    }
    if (halted === 'results' || halted === 'time') {
      filesSeenIsLowerBound = halted === 'time';
      break;
    }
    if (halted || fileCapReached || filesQueued >= limits.maxSearchedFiles) {
      // Past a cap: only count, to say how much was left out.
      fileCapReached ||= !halted;
      if (filesSeen >= limits.maxCountedFiles) {
        filesSeenIsLowerBound = true;
        break;
      }
      continue;
    }
    filesQueued++;
    inFlight.push({ file, read: readRegularFile(files.absolutePath(file), limits.maxFileBytes, { noFollow: true }).catch(() => undefined) });
    if (inFlight.length >= readAhead) {
      const next = inFlight.shift()!;
      await searchOne(next.file, next.read);
    }
  }
  for (const next of inFlight.splice(0)) {
    await searchOne(next.file, next.read);
  }
  const stoppedBy: SearchStop | undefined = halted ?? (fileCapReached ? 'files' : undefined);
  return { matches, filesSearched, filesSeen, filesSeenIsLowerBound, stoppedBy, skipped };
}

const count = (value: number): string => value.toLocaleString('en-US');
const bytes = (value: number): string => (value >= 1024 * 1024 ? `${count(Math.round(value / (1024 * 1024)))} MB` : value >= 1024 ? `${count(Math.round(value / 1024))} KB` : `${count(value)} bytes`);
const plural = (value: number, one: string, many = `${one}s`): string => `${count(value)} ${value === 1 ? one : many}`;

/** The tool's own words on what the search left out, or undefined if it covered everything. */
export function describeSearchCoverage(outcome: SearchOutcome, files: WorkspaceFiles): string | undefined {
  const { limits } = files;
  const notes: string[] = [];
  const seen = outcome.filesSeenIsLowerBound ? `more than ${count(outcome.filesSeen)}` : count(outcome.filesSeen);
  const narrow = 'Narrow the search with "folder" or a more specific query.';
  switch (outcome.stoppedBy) {
    case 'results':
      notes.push(`Showing the first ${plural(outcome.matches.length, 'match', 'matches')}; the search stopped there, so there may be more. ${narrow}`);
      break;
    case 'files':
      notes.push(`The search was cut short: searched ${count(outcome.filesSearched)} of ${seen} files (the ${count(limits.maxSearchedFiles)}-file cap), so the other files were not searched. ${narrow}`);
      break;
    case 'bytes':
      notes.push(`The search was cut short: searched ${count(outcome.filesSearched)} of ${seen} files (the ${bytes(limits.maxSearchedBytes)} cap on bytes read), so the other files were not searched. ${narrow}`);
      break;
    case 'time':
      notes.push(`The search was cut short: searched ${count(outcome.filesSearched)} files in the ${count(limits.maxSearchMs / 1000)} s time limit; more files were not searched. ${narrow}`);
      break;
    case undefined:
      break;
  }
  // Binary files are left out without a word: they hold no lines to find.
  const { tooLarge, credentials, unreadable } = outcome.skipped;
  const skipped = [
    tooLarge ? `${plural(tooLarge, 'file')} over ${bytes(limits.maxFileBytes)}` : '',
    credentials ? `${plural(credentials, 'file')} holding credentials` : '',
    unreadable ? `${plural(unreadable, 'file')} that could not be read as regular files` : '',
  ].filter(Boolean);
  if (skipped.length > 0) {
    notes.push(`Not searched: ${skipped.join(', ')}.`);
  }
  return notes.length > 0 ? notes.join('\n') : undefined;
}
