import type * as vscode from 'vscode';
import { webviewPageHtml } from '../webviewPage';

/** The memory panel's page: the chat's strict CSP, its data asked of the engine once loaded. */
export function memoryHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewPageHtml(webview, extensionUri, { title: 'Context Ledger Memory', stylesheets: ['memory.css'], script: 'memory.js', loading: 'Loading the memory panel…' });
}
