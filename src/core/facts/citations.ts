import { createHash } from 'node:crypto';
import type { FactCitation } from './factEvents';
import type { FactView } from './factTypes';

// Citations are checked when a fact is read for a request, not trusted from when it was
// written: the cited lines are hashed again in the file as it is now. Lines that moved (the
// same text elsewhere in the file) move the citation; changed or missing lines make the fact
// stale, and a stale fact is never served as if it held.

/** Reads a workspace file's text, or says why it cannot (missing, secret, ignored). */
export type ReadWorkspaceText = (relativePath: string) => { readonly text: string } | { readonly problem: string };

export type CitationCheck =
  | { readonly status: 'ok'; readonly citation: FactCitation }
  | { readonly status: 'moved'; readonly citation: FactCitation; readonly from: FactCitation }
  | { readonly status: 'stale'; readonly citation: FactCitation; readonly detail: string };

function splitLines(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

function hashLines(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** A citation of lines `startLine`..`endLine` (from 1) of `text`. */
export function citeLines(relativePath: string, text: string, startLine: number, endLine: number): FactCitation {
  const lines = splitLines(text);
  if (!Number.isSafeInteger(startLine) || !Number.isSafeInteger(endLine) || startLine < 1 || endLine < startLine || endLine > lines.length) {
    throw new RangeError(`lines ${startLine}–${endLine} are not in ${relativePath} (it has ${lines.length} lines)`);
  }
  return { path: relativePath, startLine, endLine, sha256: hashLines(lines.slice(startLine - 1, endLine)) };
}

/** Checks one citation against the file now. */
export function checkCitation(citation: FactCitation, read: ReadWorkspaceText): CitationCheck {
  const file = read(citation.path);
  if ('problem' in file) {
    return { status: 'stale', citation, detail: `${citation.path} cannot be read now (${file.problem})` };
  }
  const lines = splitLines(file.text);
  const span = citation.endLine - citation.startLine + 1;
  if (citation.endLine <= lines.length && hashLines(lines.slice(citation.startLine - 1, citation.endLine)) === citation.sha256) {
    return { status: 'ok', citation };
  }
  // Moved: the same lines elsewhere (nearest first, so a repeated block keeps its closest copy).
  const starts = [...Array(Math.max(0, lines.length - span + 1)).keys()].sort((a, b) => Math.abs(a + 1 - citation.startLine) - Math.abs(b + 1 - citation.startLine));
  for (const start of starts) {
    if (hashLines(lines.slice(start, start + span)) === citation.sha256) {
      const moved = { ...citation, startLine: start + 1, endLine: start + span };
      return { status: 'moved', citation: moved, from: citation };
    }
  }
  return { status: 'stale', citation, detail: `${citation.path}:${citation.startLine}–${citation.endLine} changed since it was cited` };
}

/** The outcome of checking one fact's current value. */
export interface FactCheck {
  readonly key: string;
  readonly headEventId: string;
  readonly status: 'verified' | 'stale' | 'uncited';
  readonly citations: readonly FactCitation[];
  /** Some citation moved: the check is worth recording even if the status did not change. */
  readonly moved: boolean;
  readonly detail: string | null;
}

/** Checks every citation of a fact that has one current value. */
export function checkFact(fact: FactView, read: ReadWorkspaceText): FactCheck | undefined {
  const head = fact.heads.length === 1 ? fact.heads[0] : undefined;
  if (!head || head.value === null) {
    return undefined;
  }
  if (head.citations.length === 0) {
    return { key: fact.key, headEventId: head.eventId, status: 'uncited', citations: [], moved: false, detail: null };
  }
  const checks = head.citations.map((citation) => checkCitation(citation, read));
  const stale = checks.filter((check): check is Extract<CitationCheck, { status: 'stale' }> => check.status === 'stale');
  return {
    key: fact.key,
    headEventId: head.eventId,
    status: stale.length > 0 ? 'stale' : 'verified',
    citations: checks.map((check) => check.citation),
    moved: checks.some((check) => check.status === 'moved'),
    detail: stale.length > 0 ? stale.map((check) => check.detail).join('; ') : null,
  };
}
