import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The memory panel's page: the chat's strict CSP (no inline script or style; the one script
 * carries a fresh nonce), assets from dist/webview and media only.
 */
export function memoryHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (...segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const csp = ["default-src 'none'", `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(asset('dist', 'webview', 'codicons', 'codicon.css'))}">
<link rel="stylesheet" href="${escapeAttribute(asset('media', 'memory.css'))}">
<title>Context Ledger Memory</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="loading">Loading the memory panel…</p></main>
<script nonce="${nonce}" src="${escapeAttribute(asset('dist', 'webview', 'memory.js'))}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
