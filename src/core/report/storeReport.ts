import type { LedgerStats, VerifyReport } from '../ledger';

// Human-readable summaries of engine reports, shared by the CLI and the extension so both say
// the same thing the same way.
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function summarizeStats(stats: LedgerStats): string {
  const snapshot = stats.snapshot
    ? `snapshot at seq ${stats.snapshot.seq} (${formatBytes(stats.snapshot.bytes)}, ${stats.snapshot.eventsSince} events since)`
    : 'no snapshot yet';
  return (
    `${stats.sessionEventCount} events in ${stats.sessionCount} ${stats.sessionCount === 1 ? 'session' : 'sessions'}` +
    `${stats.eventCount > stats.sessionEventCount ? ` (and ${stats.eventCount - stats.sessionEventCount} in system streams)` : ''}; ` +
    `journal ${formatBytes(stats.journal.bytes)} in ${stats.journal.segments} ${stats.journal.segments === 1 ? 'segment' : 'segments'}; ` +
    `${snapshot}; opened in ${stats.openMs} ms`
  );
}

export function statsLines(stats: LedgerStats): string[] {
  return [
    `store:            ${stats.storeDir} (id ${stats.storeId})`,
    `writer:           ${stats.writerId}${stats.readOnly ? ' (read-only)' : ''}`,
    `schema version:   ${stats.schemaVersion}`,
    `events:           ${stats.eventCount} (last seq ${stats.lastSeq})`,
    `sessions:         ${stats.sessionCount}`,
    `rejected appends: ${stats.rejectedAppendCount}`,
    `journal:          ${formatBytes(stats.journal.bytes)} in ${stats.journal.segments} segment(s), at segment ${stats.journal.position.segment} offset ${stats.journal.position.offset}`,
    `snapshot:         ${stats.snapshot ? `${stats.snapshot.file} (${formatBytes(stats.snapshot.bytes)}, ${stats.snapshot.eventsSince} events since)` : 'none'}`,
    `database:         ${formatBytes(stats.databaseBytes)} in memory`,
    `opened in:        ${stats.openMs} ms`,
    `damaged records:  ${stats.damagedRecords}`,
    ...stats.recovery.map((message) => `recovery:         ${message}`),
  ];
}

export function summarizeVerify(report: VerifyReport): string {
  if (report.ok) {
    const warned = report.warnings.length > 0 ? ` (${report.warnings.length} recovered ${report.warnings.length === 1 ? 'issue' : 'issues'}, nothing lost)` : '';
    return `store verified: ${report.eventCount} events, ${report.recordCount} journal records in ${report.segments} segment(s), ${report.snapshotsChecked} snapshot(s) checked, no problems${warned}`;
  }
  return `store verification found ${report.problems.length} ${report.problems.length === 1 ? 'problem' : 'problems'}: ${report.problems[0]}${report.problems.length > 1 ? ' …' : ''}`;
}

export function verifyLines(report: VerifyReport): string[] {
  return [summarizeVerify(report), ...report.problems.map((problem) => `problem: ${problem}`), ...report.warnings.map((warning) => `warning: ${warning}`)];
}
