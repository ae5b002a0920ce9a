import type * as vscode from 'vscode';
import { webviewPageHtml } from '../webviewPage';

/** The chat webview's page; its initial state travels in an escaped `data-initial` attribute. */
export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri, initialJson: string): string {
  return webviewPageHtml(webview, extensionUri, { title: 'Context Ledger Chat', stylesheet: 'chat.css', script: 'chat.js', loading: 'Loading the chat…', data: { initial: initialJson } });
}
