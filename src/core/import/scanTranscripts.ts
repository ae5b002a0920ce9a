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
    return { file, format, bytes: stat.size, modifiedMs: stat.mtimeMs, ...headOf(file, format), importedBytes: importer.importedBytes(file) };
  });
}

const excerpt = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 120);

function headOf(file: string, format: string): Pick<ScannedTranscript, 'title' | 'firstPrompt' | 'project'> {
  if (format === 'markdown') {
    const head = readHead(file, 4096).toString('utf8');
    const prompt = /^## User\s*\n+([^\n]+)/m.exec(head)?.[1];
    return { title: /^# (.+)$/m.exec(head)?.[1]?.trim() ?? null, firstPrompt: prompt ? excerpt(prompt) : null, project: null };
  }
  let title: string | null = null;
  let firstPrompt: string | null = null;
  let project: string | null = null;
  for (const line of readHead(file, 256 * 1024).toString('utf8').split('\n')) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (format === 'jsonl') {
      const body = record.body as { name?: unknown; text?: unknown } | undefined;
      if (record.kind === 'session.started' && typeof body?.name === 'string' && body.name !== '') {
        title ??= body.name;
      } else if (record.kind === 'message.user' && typeof body?.text === 'string') {
        firstPrompt ??= excerpt(body.text);
      }
    } else {
      if (typeof record.cwd === 'string' && record.cwd.length <= 4096) {
        project ??= record.cwd;
      }
      if (record.type === 'summary' && typeof record.summary === 'string') {
        title ??= record.summary.slice(0, 120);
      }
      const message = record.message as { content?: unknown } | undefined;
      const content = typeof message?.content === 'string' ? message.content : Array.isArray(message?.content) ? (message.content as Array<{ type?: unknown; text?: unknown }>).find((block) => block?.type === 'text' && typeof block.text === 'string')?.text : undefined;
      if (record.type === 'user' && record.isMeta !== true && record.isCompactSummary !== true && typeof content === 'string' && !content.trimStart().startsWith('<')) {
        firstPrompt ??= excerpt(content);
      }
    }
    if (firstPrompt !== null && (format === 'jsonl' || project !== null)) {
      break;
    }
  }
  return { title: title ?? firstPrompt, firstPrompt, project };
}
