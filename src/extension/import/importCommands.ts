import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeImportSummary } from '../../core/import/importReport';
import type { ImportSummary } from '../../shared/importProtocol';
import { ImportCommandId } from '../commandIds';
import { describeTranscript } from './transcriptPick';
import type { EngineClient } from '../engineClient';

// "Import Claude Code Sessions…": pick ~/.claude/projects (or other folders or files), choose
// all or some sessions, import them in the engine with a cancellable progress notification.

interface ImportCommandContext {
  readonly engine: EngineClient;
  readonly output: vscode.OutputChannel;
}

const defaultProjects = path.join(os.homedir(), '.claude', 'projects');

export function registerImportCommands(context: ImportCommandContext): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(ImportCommandId.importClaudeCode, async (paths?: unknown, choice?: unknown) => {
      try {
        return await importClaudeCode(context, paths, choice);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.output.appendLine(`[${ImportCommandId.importClaudeCode}] ${message}`);
        void vscode.window.showErrorMessage(`Context Ledger: ${message}`);
        return undefined;
      }
    }),
  ];
}

/** Paths given by a caller (tests, other commands): strings or file URIs. */
function givenPaths(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return undefined;
  }
  return value.map((item) => (item instanceof vscode.Uri ? item.fsPath : String(item)));
}

async function pickPaths(): Promise<string[] | undefined> {
  const hasDefault = await vscode.workspace.fs.stat(vscode.Uri.file(defaultProjects)).then(
    () => true,
    () => false,
  );
  const options: Array<vscode.QuickPickItem & { id: 'default' | 'browse' }> = [
    ...(hasDefault ? [{ id: 'default' as const, label: '$(folder) Claude Code projects', description: defaultProjects }] : []),
    { id: 'browse', label: '$(folder-opened) Choose folders or files…', description: 'a project folder, .jsonl sessions, an export (.jsonl) or Markdown (.md)' },
  ];
  const picked = options.length === 1 ? options[0] : await vscode.window.showQuickPick(options, { title: 'Import Claude Code Sessions', placeHolder: 'Where are the sessions?' });
  if (!picked) {
    return undefined;
  }
  if (picked.id === 'default') {
    return [defaultProjects];
  }
  const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: true, openLabel: 'Import', title: 'Import Claude Code Sessions', filters: { Transcripts: ['jsonl', 'md'] } });
  return uris?.map((uri) => uri.fsPath);
}

async function importClaudeCode({ engine, output }: ImportCommandContext, pathsArgument: unknown, choice: unknown): Promise<ImportSummary | undefined> {
  const paths = givenPaths(pathsArgument) ?? (await pickPaths());
  if (!paths || paths.length === 0) {
    return undefined;
  }
  const { transcripts } = await engine.importScan(paths);
  if (transcripts.length === 0) {
    void vscode.window.showInformationMessage(`Context Ledger: no transcripts (.jsonl) under ${paths.join(', ')}.`);
    return undefined;
  }
  let files: string[];
  if (choice === 'all') {
    files = transcripts.map((transcript) => transcript.file);
  } else {
    const items = [...transcripts].sort((a, b) => b.modifiedMs - a.modifiedMs).map(describeTranscript);
    const chosen = await vscode.window.showQuickPick(items, { title: `Import Claude Code Sessions (${transcripts.length} found)`, canPickMany: true, matchOnDescription: true, matchOnDetail: true, placeHolder: 'Choose the sessions to import (new and grown ones are chosen)' });
    if (!chosen || chosen.length === 0) {
      return undefined;
    }
    files = chosen.map((item) => item.file);
  }
  const requestId = randomUUID();
  const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Context Ledger: importing', cancellable: true }, async (progress, token) => {
    let reported = 0;
    const listener = engine.onImportProgress(({ requestId: id, progress: step }) => {
      if (id !== requestId) {
        return;
      }
      const done = (step.fileIndex + step.bytesDone / Math.max(1, step.bytesTotal)) / step.fileCount;
      const increment = Math.max(0, done * 100 - reported);
      reported += increment;
      progress.report({ increment, message: `${step.fileIndex + 1} of ${step.fileCount} files, ${step.eventsAdded} events added` });
    });
    const cancel = token.onCancellationRequested(() => void engine.importCancel(requestId));
    try {
      return await engine.importRun({ requestId, paths: files });
    } finally {
      listener.dispose();
      cancel.dispose();
    }
  });
  const lines = describeImportSummary(summary);
  output.appendLine('--- Import ---');
  for (const line of lines) {
    output.appendLine(line);
  }
  const show = summary.problems.length > 0 ? 'Show Skipped Lines' : 'Show Details';
  void vscode.window.showInformationMessage(`Context Ledger: ${lines[0]}`, show).then((picked) => {
    if (picked) {
      output.show(true);
    }
  });
  return summary;
}
