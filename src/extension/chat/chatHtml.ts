import type * as vscode from 'vscode';
import { webviewPageHtml } from '../webviewPage';

/**
 * The chat's stylesheets in media/chat/, one per part of the panel, in cascade order: a later
 * file's rules win over an earlier one's of the same specificity (accessibility overrides all).
 */
export const chatStylesheets: readonly string[] = ['base', 'toolbar', 'transcript', 'answers', 'receipts', 'notices', 'composer', 'accessibility'].map((part) => `chat/${part}.css`);

/** The chat webview's page; its initial state travels in an escaped `data-initial` attribute. */
export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri, initialJson: string): string {
  return webviewPageHtml(webview, extensionUri, { title: 'Context Ledger Chat', stylesheets: chatStylesheets, script: 'chat.js', loading: 'Loading the chat…', data: { initial: initialJson } });
}
