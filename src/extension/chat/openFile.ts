import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ChatHost } from './chatHosts';

/**
 * Opens a file a tool call named ("Read src/a.ts" in the chat), relative to the workspace
 * folder. The path comes from the model through the webview, so it is untrusted: nothing outside
 * the folder opens. Beside an editor-tab chat, so the chat stays in view.
 */
export async function openWorkspaceFile(relativePath: string, host: ChatHost, line?: number): Promise<string | null> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    return 'Open a folder first: tool paths are relative to it.';
  }
  const root = folder.uri.fsPath;
  const resolved = path.resolve(root, relativePath);
  const inside = path.relative(root, resolved);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    return `${relativePath} is not a file in the workspace folder.`;
  }
  try {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, ...inside.split(path.sep)));
    const visible = vscode.window.visibleTextEditors.find((editor) => editor.document === document)?.viewColumn;
    const viewColumn = visible ?? (host.kind === 'editor' ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
    const at = line !== undefined ? new vscode.Position(Math.min(line, document.lineCount) - 1, 0) : undefined;
    await vscode.window.showTextDocument(document, { viewColumn, preview: true, preserveFocus: false, ...(at ? { selection: new vscode.Range(at, at) } : {}) });
    return null;
  } catch (error) {
    return `${relativePath} could not be opened: ${error instanceof Error ? error.message : String(error)}`;
  }
}
