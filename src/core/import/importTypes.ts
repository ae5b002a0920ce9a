import type { EventDraft } from '../log/events';

// The shapes an import reports: what it added, what it skipped and why (file and line).

/** A line that was not imported (or imported in part), with where it is. */
export interface LineProblem {
  readonly file: string;
  /** 1-based; 0 when the problem is the whole file. */
  readonly line: number;
  readonly problem: string;
  /** True when the line was imported in part (a text cut to fit); false: skipped. */
  readonly partial?: boolean;
}

export interface ImportProgress {
  readonly file: string;
  readonly fileIndex: number;
  readonly fileCount: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly eventsAdded: number;
}

export interface FileImportOutcome {
  readonly file: string;
  readonly format: ImportFormat;
  readonly sessionIds: readonly string[];
  readonly eventsAdded: number;
  readonly linesRead: number;
  /** Whole lines already imported before (skipped through the cursor). */
  readonly linesBefore: number;
  readonly bytesRead: number;
  /** The file was imported before and had not changed. */
  readonly unchanged: boolean;
}

export interface ImportSummary {
  readonly files: readonly FileImportOutcome[];
  /** Sessions that got at least one new event. */
  readonly sessionIds: readonly string[];
  readonly eventsAdded: number;
  readonly duplicates: number;
  readonly bytesRead: number;
  readonly problems: readonly LineProblem[];
  /** Claude Code record types read but not kept as events (attachments, file snapshots, …), with counts. */
  readonly notImported: Readonly<Record<string, number>>;
  readonly cancelled: boolean;
}

export type ImportFormat = 'claude-code' | 'jsonl' | 'markdown';

/** A transcript found under the paths of an import (what the quick pick lists). */
export interface ScannedTranscript {
  readonly file: string;
  readonly format: ImportFormat;
  readonly bytes: number;
  readonly modifiedMs: number;
  /** The first words of the session (its title or first question), when the head shows them. */
  readonly title: string | null;
  /** The first question the user asked, when the head shows it (Claude Code and this store's JSON lines). */
  readonly firstPrompt: string | null;
  /** The folder Claude Code ran in (its records' `cwd`), when the head names it. */
  readonly project: string | null;
  /** Bytes already imported (0: never). */
  readonly importedBytes: number;
}


/** What one source line became: events, or a problem, or nothing (a record kept no event). */
export interface LineOutcome {
  readonly drafts: EventDraft[];
  readonly problem?: string;
  /** Imported, but cut to fit (the problem says what). */
  readonly partial?: boolean;
  /** The record's type when it is read but not kept (e.g. `attachment`). */
  readonly notImported?: string;
}

/** Turns the lines of one file into event drafts; keeps what it needs across lines. */
export interface LineMapper {
  readonly format: ImportFormat;
  map(line: string, lineNumber: number): LineOutcome;
}

/** Most characters of one imported text: an event holds at most 16 MiB as JSON. */
export const maxImportedTextChars = 4 * 1024 * 1024;

/** Cuts `text` to the import limit; says so in the text itself, so the cut is visible. */
export function capText(text: string): { text: string; cut: number } {
  if (text.length <= maxImportedTextChars) {
    return { text, cut: 0 };
  }
  const cut = text.length - maxImportedTextChars;
  return { text: `${text.slice(0, maxImportedTextChars)}\n[… ${cut} more characters not imported: an imported text holds at most ${maxImportedTextChars} characters]`, cut };
}
