import * as fs from 'node:fs';
import { detectFormat, findTranscriptFiles, type Importer } from './importer';
import type { ScannedTranscript } from './importTypes';
import { readHead } from './lineReader';

// What the import quick pick lists: each transcript under the paths with its size, age, how much
// of it is imported, and a title read from its head (Claude Code's title line or first question).

export function scanTranscripts(paths: readonly string[], importer: Importer): ScannedTranscript[] {
  return findTranscriptFiles(paths).map((file) => {
    const stat = fs.statSync(file);
    const format = detectFormat(file);
    return { file, format, bytes: stat.size, modifiedMs: stat.mtimeMs, title: titleOf(file, format), importedBytes: importer.importedBytes(file) };
  });
}

function titleOf(file: string, format: string): string | null {
  if (format === 'markdown') {
    return /^# (.+)$/m.exec(readHead(file, 4096).toString('utf8'))?.[1]?.trim() ?? null;
  }
  for (const line of readHead(file, 256 * 1024).toString('utf8').split('\n')) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (format === 'jsonl' && record.kind === 'session.started') {
      const name = (record.body as { name?: unknown } | undefined)?.name;
      return typeof name === 'string' && name !== '' ? name : null;
    }
    if (record.type === 'summary' && typeof record.summary === 'string') {
      return record.summary.slice(0, 120);
    }
    const message = record.message as { content?: unknown } | undefined;
    if (record.type === 'user' && record.isMeta !== true && typeof message?.content === 'string' && !message.content.startsWith('<')) {
      return message.content.replace(/\s+/g, ' ').trim().slice(0, 120);
    }
  }
  return null;
}
