import * as path from 'node:path';
import type { QuickPickItem } from 'vscode';
import type { ScannedTranscript } from '../../shared/importProtocol';

// The rows of "Import Claude Code Sessions…": each transcript found, with what tells sessions
// apart (its title or first prompt, the project folder it ran in, its size, how much is imported).

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** A quick pick row: the session's title or first prompt, its project folder, size and state. */
export function describeTranscript(transcript: ScannedTranscript): QuickPickItem & { file: string } {
  const state = transcript.importedBytes === 0 ? 'new' : transcript.importedBytes >= transcript.bytes ? 'imported' : 'grown since the last import';
  const agent = /agent-[^/\\]+\.jsonl$/.test(transcript.file) ? 'subagent · ' : '';
  const folder = transcript.project ?? path.basename(path.dirname(transcript.file));
  const label = transcript.title ?? transcript.firstPrompt ?? path.basename(transcript.file);
  const prompt = transcript.firstPrompt !== null && transcript.firstPrompt !== label ? `“${transcript.firstPrompt}” · ` : '';
  return {
    file: transcript.file,
    label,
    description: `${agent}${folder} · ${formatSize(transcript.bytes)} · ${state}`,
    detail: `${prompt}${new Date(transcript.modifiedMs).toLocaleString()} · ${transcript.file}`,
    picked: state !== 'imported',
  };
}
