import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * The store folder of this workspace: the `contextLedger.storePath` setting when the workspace
 * is trusted (a workspace must not point us at an arbitrary folder), else the extension's
 * workspace storage, else (no folder open) its global storage.
 */
export function resolveStoreDir(context: vscode.ExtensionContext): string {
  const configured = vscode.workspace.getConfiguration('contextLedger').get<string>('storePath', '').trim();
  if (configured && vscode.workspace.isTrusted) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return path.isAbsolute(configured) || !folder ? configured : path.join(folder, configured);
  }
  const base = context.storageUri ?? context.globalStorageUri;
  return path.join(base.fsPath, 'store');
}
