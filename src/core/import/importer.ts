import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ledger } from '../ledger';
import { EventValidationError, parseEventDraft, type EventDraft } from '../log/events';
import { ClaudeCodeMapper } from './claudeCodeMapper';
import { EventJsonlMapper, looksLikeEventJsonl } from './eventJsonlMapper';
import { ImportCursorsModule, type ImportCursor } from './importCursorsModule';
import type { FileImportOutcome, ImportFormat, ImportProgress, ImportSummary, LineMapper, LineProblem } from './importTypes';
import { readHead, readLines } from './lineReader';
import { importMarkdown } from './markdownImport';

// Imports transcript files into the store: Claude Code sessions, this store's own JSONL export,
// and Markdown transcripts. Each file is read from its cursor (the `import.cursor` event written
// with every batch), so a second import of the same file adds nothing and a grown file adds only
// its new lines. Every batch is one append (events + cursor), so a cancel or a crash between
// batches leaves a consistent store, and the next import goes on from the last cursor.

export interface ImportOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Following a folder: an unfinished last line is read again later, not reported. */
  readonly following?: boolean;
  /** Events per append (default 1000). */
  readonly batchEvents?: number;
}

const headBytes = 4096;
const batchChars = 8 * 1024 * 1024;

/** The transcript files under `paths` (folders are searched for .jsonl files), sorted. */
export function findTranscriptFiles(paths: readonly string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.jsonl')) {
        found.add(full);
      }
    }
  };
  for (const given of paths) {
    const full = path.resolve(given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch (error) {
      throw new Error(`cannot import ${full}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : error instanceof Error ? error.message : String(error)}`);
    }
    if (stat.isDirectory()) {
      walk(full);
    } else {
      found.add(full);
    }
  }
  return [...found].sort();
}

export function detectFormat(file: string): ImportFormat {
  if (/\.(md|markdown)$/i.test(file)) {
    return 'markdown';
  }
  const head = readHead(file, 64 * 1024).toString('utf8').replace(/^\uFEFF/, '');
  const first = head.split('\n').find((line) => line.trim() !== '');
  return first !== undefined && looksLikeEventJsonl(first) ? 'jsonl' : 'claude-code';
}

interface Accumulator {
  readonly problems: LineProblem[];
  readonly notImported: Record<string, number>;
  readonly sessions: Set<string>;
  eventsAdded: number;
  duplicates: number;
}

interface PendingDraft {
  readonly draft: EventDraft;
  readonly line: number;
}

export class Importer {
  private readonly cursors: ImportCursorsModule;
  /** Mappers kept between imports of a followed file, so state across lines (request sizes) survives. */
  private readonly mappers = new Map<string, { mapper: LineMapper; offset: number }>();

  constructor(private readonly ledger: Ledger) {
    this.cursors = ledger.module(ImportCursorsModule);
  }

  /** Bytes of `file` imported so far (0: never). */
  importedBytes(file: string): number {
    return this.cursors.cursor(path.resolve(file))?.bytes ?? 0;
  }

  async importPaths(paths: readonly string[], options: ImportOptions = {}): Promise<ImportSummary> {
    const files = findTranscriptFiles(paths);
    const acc: Accumulator = { problems: [], notImported: {}, sessions: new Set(), eventsAdded: 0, duplicates: 0 };
    const outcomes: FileImportOutcome[] = [];
    let cancelled = false;
    for (const [index, file] of files.entries()) {
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      const outcome = await this.importFile(file, index, files.length, acc, options);
      outcomes.push(outcome);
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
    }
    return {
      files: outcomes,
      sessionIds: [...acc.sessions].sort(),
      eventsAdded: acc.eventsAdded,
      duplicates: acc.duplicates,
      bytesRead: outcomes.reduce((sum, outcome) => sum + outcome.bytesRead, 0),
      problems: acc.problems,
      notImported: acc.notImported,
      cancelled,
    };
  }

  private async importFile(file: string, fileIndex: number, fileCount: number, acc: Accumulator, options: ImportOptions): Promise<FileImportOutcome> {
    let format: ImportFormat;
    let size: number;
    try {
      size = fs.statSync(file).size;
      format = detectFormat(file);
    } catch (error) {
      acc.problems.push({ file, line: 0, problem: `cannot read the file: ${error instanceof Error ? error.message : String(error)}` });
      return { file, format: 'claude-code', sessionIds: [], eventsAdded: 0, linesRead: 0, linesBefore: 0, bytesRead: 0, unchanged: false };
    }
    if (format === 'markdown') {
      return this.importMarkdownFile(file, size, acc);
    }
    const cursor = this.cursors.cursor(file);
    const resume = cursor !== undefined && cursor.format === format && size >= cursor.bytes && digest(readHead(file, Math.min(cursor.bytes, headBytes))) === cursor.headDigest;
    if (resume && size === cursor.bytes) {
      return { file, format, sessionIds: [cursor.sessionId], eventsAdded: 0, linesRead: 0, linesBefore: cursor.lines, bytesRead: 0, unchanged: true };
    }
    const startOffset = resume ? cursor.bytes : 0;
    const startLine = resume ? cursor.lines : 0;
    const cached = this.mappers.get(file);
    const mapper: LineMapper =
      cached && resume && cached.offset === startOffset ? cached.mapper : format === 'jsonl' ? new EventJsonlMapper() : new ClaudeCodeMapper(file, (sessionId) => this.ledger.getSession(sessionId) !== undefined);
    // Read from the start (new or rewritten file): what the store has already is not sent again.
    const known = resume ? undefined : new Map<string, Set<string>>();
    const state = { sessionId: resume ? cursor.sessionId : undefined, added: 0, bytes: startOffset, lines: startLine, sessions: new Set<string>() };
    let batch: PendingDraft[] = [];
    let chars = 0;
    let linesRead = 0;
    const flush = async (): Promise<void> => {
      await this.appendBatch(file, format, batch, state, acc);
      batch = [];
      chars = 0;
      options.onProgress?.({ file, fileIndex, fileCount, bytesDone: state.bytes, bytesTotal: size, eventsAdded: acc.eventsAdded });
    };
    for (const line of readLines(file, startOffset, startLine)) {
      if (!line.complete && line.text !== undefined && !completeJson(line.text)) {
        // A last line still being written (or cut off): read again next time, from its start.
        if (!options.following) {
          acc.problems.push({ file, line: line.number, problem: 'the last line has no line end and is not complete JSON (still being written, or cut off): not imported; it is read again next time' });
        }
        break;
      }
      linesRead++;
      if (line.text === undefined) {
        acc.problems.push({ file, line: line.number, problem: `the line is ${line.bytes} bytes, more than an import reads (64 MiB): skipped` });
      } else {
        const text = line.number === 1 ? line.text.replace(/^\uFEFF/, '') : line.text;
        if (text.trim() !== '') {
          chars += text.length;
          batch.push(...this.mapLine(mapper, file, text, line.number, acc, known));
        }
      }
      state.bytes = line.endOffset;
      state.lines = line.number;
      if (batch.length >= (options.batchEvents ?? 1000) || chars >= batchChars) {
        await flush();
        if (options.signal?.aborted) {
          break;
        }
      }
    }
    await flush();
    this.mappers.set(file, { mapper, offset: state.bytes });
    return { file, format, sessionIds: [...state.sessions], eventsAdded: state.added, linesRead, linesBefore: startLine, bytesRead: state.bytes - startOffset, unchanged: false };
  }

  private mapLine(mapper: LineMapper, file: string, text: string, lineNumber: number, acc: Accumulator, known: Map<string, Set<string>> | undefined): PendingDraft[] {
    const outcome = mapper.map(text, lineNumber);
    if (outcome.problem) {
      acc.problems.push({ file, line: lineNumber, problem: outcome.problem, ...(outcome.partial ? { partial: true } : {}) });
    }
    if (outcome.notImported) {
      acc.notImported[outcome.notImported] = (acc.notImported[outcome.notImported] ?? 0) + 1;
    }
    const drafts: PendingDraft[] = [];
    for (const draft of outcome.drafts) {
      try {
        parseEventDraft(draft);
      } catch (error) {
        if (!(error instanceof EventValidationError)) {
          throw error;
        }
        acc.problems.push({ file, line: lineNumber, problem: `${draft.kind} not imported: ${error.message}` });
        continue;
      }
      if (known && draft.id !== undefined && this.knownIds(known, draft.sessionId).has(draft.id)) {
        acc.duplicates++;
        continue;
      }
      drafts.push({ draft, line: lineNumber });
    }
    return drafts;
  }

  private knownIds(known: Map<string, Set<string>>, sessionId: string): Set<string> {
    let ids = known.get(sessionId);
    if (!ids) {
      ids = new Set(this.ledger.getSession(sessionId) ? this.ledger.readSession(sessionId).map((event) => event.id) : []);
      known.set(sessionId, ids);
    }
    return ids;
  }

  /** One append: the batch and the file's cursor after it. */
  private async appendBatch(file: string, format: ImportFormat, batch: readonly PendingDraft[], state: { sessionId: string | undefined; added: number; bytes: number; lines: number; sessions: Set<string> }, acc: Accumulator): Promise<void> {
    const cursorSession = batch.at(-1)?.draft.sessionId ?? state.sessionId;
    const previous: ImportCursor | undefined = this.cursors.cursor(file);
    if (batch.length === 0 && (cursorSession === undefined || (previous && previous.bytes === state.bytes))) {
      return;
    }
    const drafts: EventDraft[] = batch.map((item) => item.draft);
    if (cursorSession !== undefined) {
      drafts.push({
        kind: 'import.cursor',
        sessionId: cursorSession,
        id: `${cursorSession}:cursor:${digest(Buffer.from(file)).slice(0, 12)}:${state.bytes}`,
        body: { path: file, format, bytes: state.bytes, lines: state.lines, headDigest: digest(readHead(file, Math.min(state.bytes, headBytes))) },
      });
    }
    const verdicts = await this.ledger.append(drafts);
    verdicts.slice(0, batch.length).forEach((verdict, index) => {
      const item = batch[index]!;
      if (verdict.status === 'appended') {
        acc.eventsAdded++;
        state.added++;
        acc.sessions.add(item.draft.sessionId);
        state.sessions.add(item.draft.sessionId);
      } else if (verdict.status === 'duplicate') {
        acc.duplicates++;
      } else {
        acc.problems.push({ file, line: item.line, problem: `${item.draft.kind} refused by the store: ${verdict.reason}` });
      }
    });
    state.sessionId = cursorSession;
  }

  private async importMarkdownFile(file: string, size: number, acc: Accumulator): Promise<FileImportOutcome> {
    const bytes = fs.readFileSync(file);
    const whole = digest(bytes);
    const cursor = this.cursors.cursor(file);
    const parsed = importMarkdown(file, bytes.toString('utf8'));
    const lines = bytes.toString('utf8').split('\n').length;
    if (cursor && cursor.headDigest === whole) {
      return { file, format: 'markdown', sessionIds: [parsed.sessionId], eventsAdded: 0, linesRead: 0, linesBefore: lines, bytesRead: 0, unchanged: true };
    }
    acc.problems.push(...parsed.problems);
    const known = new Map<string, Set<string>>();
    const fresh = parsed.drafts.filter((draft) => {
      const seen = draft.id !== undefined && this.knownIds(known, draft.sessionId).has(draft.id);
      acc.duplicates += seen ? 1 : 0;
      return !seen;
    });
    const drafts: EventDraft[] = [...fresh, { kind: 'import.cursor', sessionId: parsed.sessionId, id: `${parsed.sessionId}:cursor:${whole.slice(0, 12)}`, body: { path: file, format: 'markdown', bytes: size, lines, headDigest: whole } }];
    const verdicts = await this.ledger.append(drafts);
    const added = verdicts.slice(0, fresh.length).filter((verdict) => verdict.status === 'appended').length;
    acc.eventsAdded += added;
    if (added > 0) {
      acc.sessions.add(parsed.sessionId);
    }
    return { file, format: 'markdown', sessionIds: [parsed.sessionId], eventsAdded: added, linesRead: lines, linesBefore: 0, bytesRead: size, unchanged: false };
  }
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function completeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
