import type { DriftDiagnostic } from './driftTypes';
import type { PromptClaims } from './promptClaims';
import type { PromptDocument } from './promptText';

// The prompt files against each other: one says pnpm and another npm, one says Node.js 20 and
// another 22, or one repeats another's instructions (two copies drift apart).

export function checkAcrossFiles(all: readonly PromptClaims[], documents: readonly PromptDocument[]): DriftDiagnostic[] {
  const diagnostics: DriftDiagnostic[] = [];
  for (const claims of all) {
    for (const other of all) {
      if (other === claims) {
        continue;
      }
      const theirs = new Set(other.managers.filter((claim) => claim.cwd === undefined).map((claim) => claim.manager));
      const mine = claims.managers.filter((claim) => claim.cwd === undefined);
      const first = mine.find((claim) => !theirs.has(claim.manager));
      // Contradiction: each file names managers the other never does.
      if (first && theirs.size > 0 && mine.every((claim) => !theirs.has(claim.manager))) {
        diagnostics.push({
          path: claims.path,
          line: first.line,
          code: 'cross-file-contradiction',
          severity: 'warning',
          message: `${claims.path} says ${first.manager}, but ${other.path} says ${[...theirs].join(' and ')}.`,
          range: { start: first.start, end: first.end },
        });
      }
      const theirMajors = new Set(other.runtimes.filter((claim) => !claim.atLeast).map((claim) => claim.major));
      const mismatch = claims.runtimes.find((claim) => !claim.atLeast && theirMajors.size > 0 && !theirMajors.has(claim.major));
      if (mismatch && claims.runtimes.filter((claim) => !claim.atLeast).every((claim) => !theirMajors.has(claim.major))) {
        diagnostics.push({
          path: claims.path,
          line: mismatch.line,
          code: 'cross-file-contradiction',
          severity: 'warning',
          message: `${claims.path} says ${mismatch.text}, but ${other.path} says Node.js ${[...theirMajors].join(' or ')}.`,
          range: { start: mismatch.start, end: mismatch.end },
        });
      }
    }
  }
  return [...diagnostics, ...checkDuplicates(documents)];
}

const minDuplicateChars = 30;

function normalise(text: string): string {
  return text
    .replace(/^\s*(?:[-*+>]|\d+[.)])\s+/, '')
    .replace(/[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** One diagnostic per pair of files: where the later file starts repeating the earlier one. */
function checkDuplicates(documents: readonly PromptDocument[]): DriftDiagnostic[] {
  const diagnostics: DriftDiagnostic[] = [];
  const seen = new Map<string, { path: string; line: number }>();
  for (const document of documents) {
    const repeats = new Map<string, { first: number; count: number; theirLine: number }>();
    const mine = new Set<string>();
    for (const line of document.lines) {
      const key = normalise(line.text);
      if (key.length < minDuplicateChars || mine.has(key)) {
        continue;
      }
      mine.add(key);
      const earlier = seen.get(key);
      if (earlier && earlier.path !== document.path) {
        const entry = repeats.get(earlier.path) ?? { first: line.number, count: 0, theirLine: earlier.line };
        entry.count++;
        repeats.set(earlier.path, entry);
      }
    }
    for (const [otherPath, entry] of repeats) {
      diagnostics.push({
        path: document.path,
        line: entry.first,
        code: 'duplicate-instructions',
        severity: 'information',
        message: `${document.path} repeats ${entry.count === 1 ? 'a line' : `${entry.count} lines`} of ${otherPath} (line ${entry.theirLine}); two copies drift apart: keep one and refer to it.`,
      });
    }
    for (const key of mine) {
      if (!seen.has(key)) {
        seen.set(key, { path: document.path, line: document.lines.find((line) => normalise(line.text) === key)!.number });
      }
    }
  }
  return diagnostics;
}
