import * as vscode from 'vscode';
import { mcpClientSnippets, mcpLaunch, mcpServerName, type McpClientSnippet, type McpLaunch } from '../../core/mcp/clientSetup';
import { mcpServerProviderId } from './mcpCommandIds';

// The store's MCP server as VS Code knows it (an MCP server definition provider: the Chat view's
// MCP list, Copilot's agent mode) and as other clients get it (Copy MCP Server Setup…): the CLI
// bundled with this extension, run by this VS Code's own Node, on this workspace's store.

export function storeMcpLaunch(context: vscode.ExtensionContext, storeDir: string): McpLaunch {
  const cli = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
  return mcpLaunch({ execPath: process.execPath, isElectron: process.versions.electron !== undefined }, cli, storeDir);
}

export function registerMcpServerProvider(context: vscode.ExtensionContext, storeDir: string): vscode.Disposable {
  const declared = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof declared === 'string' ? declared : '0';
  return vscode.lm.registerMcpServerDefinitionProvider(mcpServerProviderId, {
    provideMcpServerDefinitions: () => {
      const launch = storeMcpLaunch(context, storeDir);
      return [new vscode.McpStdioServerDefinition('Context Ledger', launch.command, [...launch.args], { ...launch.env }, version)];
    },
  });
}

/** Copy MCP Server Setup…: pick a client, get its snippet on the clipboard and in an editor. */
export async function copyMcpServerSetup(context: vscode.ExtensionContext, storeDir: string, kind?: string): Promise<McpClientSnippet | undefined> {
  const snippets = mcpClientSnippets(storeMcpLaunch(context, storeDir), mcpServerName);
  const chosen =
    snippets.find((snippet) => snippet.kind === kind) ??
    (await vscode.window.showQuickPick(
      snippets.map((snippet) => ({ label: snippet.label, detail: snippet.where, snippet })),
      { title: 'Copy MCP Server Setup', placeHolder: `Which assistant should use this store (${storeDir})?` },
    ))?.snippet;
  if (!chosen) {
    return undefined;
  }
  await vscode.env.clipboard.writeText(chosen.text);
  const document = await vscode.workspace.openTextDocument({ language: chosen.language, content: chosen.language === 'json' ? `${chosen.text}\n` : `# ${chosen.label}: ${chosen.where}\n${chosen.text}\n` });
  await vscode.window.showTextDocument(document, { preview: true });
  void vscode.window.showInformationMessage(`Context Ledger: the ${chosen.label} setup is on the clipboard (${chosen.where}).`);
  return chosen;
}
