import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** What differs between the extension's webview pages (the chat, the memory panel). */
export interface WebviewPage {
  readonly title: string;
  /** Stylesheets in media/, linked in this order after media/webview.css (what every page shares). */
  readonly stylesheets: readonly string[];
  /** The page's bundle in dist/webview/. */
  readonly script: string;
  /** What the page says until its script has drawn it. */
  readonly loading: string;
  /** `data-` attributes of the body (initial state), escaped: never inline script. */
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * A webview page with a strict CSP: no inline script or style, the one script carries a fresh
 * nonce, and assets come from dist/webview and media only.
 */
export function webviewPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (...segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const csp = ["default-src 'none'", `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`].join('; ');
  const data = Object.entries(page.data ?? {})
    .map(([name, value]) => ` data-${name}="${escapeAttribute(value)}"`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(asset('dist', 'webview', 'codicons', 'codicon.css'))}">
<link rel="stylesheet" href="${escapeAttribute(asset('media', 'webview.css'))}">
${page.stylesheets.map((stylesheet) => `<link rel="stylesheet" href="${escapeAttribute(asset('media', ...stylesheet.split('/')))}">`).join('\n')}
<title>${escapeAttribute(page.title)}</title>
</head>
<body${data}>
<main id="app" aria-busy="true"><p class="loading">${escapeAttribute(page.loading)}</p></main>
<script nonce="${nonce}" src="${escapeAttribute(asset('dist', 'webview', page.script))}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
