import type { ImportSummary } from './importTypes';

/** An import's summary as lines for a terminal or a notification: counts, then each skipped line. */
export function describeImportSummary(summary: ImportSummary, maxProblems = 50): string[] {
  const unchanged = summary.files.filter((file) => file.unchanged).length;
  const skipped = summary.problems.filter((problem) => !problem.partial);
  const lines = [
    `${summary.cancelled ? 'import cancelled: ' : ''}${summary.files.length} files (${unchanged} unchanged since the last import), ${summary.sessionIds.length} sessions with new events, ${summary.eventsAdded} events added, ${summary.duplicates} already stored, ${skipped.length} lines skipped`,
  ];
  const notImported = Object.entries(summary.notImported).sort((a, b) => b[1] - a[1]);
  if (notImported.length > 0) {
    lines.push(`records kept as no event: ${notImported.map(([type, count]) => `${type} ${count}`).join(', ')}`);
  }
  for (const problem of summary.problems.slice(0, maxProblems)) {
    lines.push(`${problem.partial ? 'imported in part' : 'skipped'} ${problem.file}:${problem.line}: ${problem.problem}`);
  }
  if (summary.problems.length > maxProblems) {
    lines.push(`… and ${summary.problems.length - maxProblems} more`);
  }
  if (summary.cancelled) {
    lines.push('what was imported is stored; importing the same paths again goes on from where this stopped');
  }
  return lines;
}
