// For the chat suites: the local Messages API test server the runner started (scripted over
// HTTP), the chat panel handle from the extension's API, and waiting for what the panel posts.
import * as vscode from 'vscode';
import type { ChatPanelHandle } from '../../src/extension/chat/chatFeature';
import type { StoredEvent } from '../../src/core/log/events';
import type { SessionSummary } from '../../src/core/ledger';
import type { HostMessage } from '../../src/shared/chatPanelMessages';
import type { MessagesApiScript } from '../fixtures/messagesApiScripts';
import { runCli, runnerEnvironment } from './helpers';

export function messagesApiUrl(): string {
  const url = process.env.CONTEXT_LEDGER_TEST_MESSAGES_API;
  if (!url) {
    throw new Error('CONTEXT_LEDGER_TEST_MESSAGES_API is not set: the runner starts the Messages API test server (scripts/run-integration.mjs)');
  }
  return url;
}

/** Queues answers at the test server, one per coming /v1/messages request. */
export async function scriptAnswers(...items: MessagesApiScript[]): Promise<void> {
  const response = await fetch(`${messagesApiUrl()}/_test/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) });
  if (!response.ok) {
    throw new Error(`the test server refused the scripts: ${response.status} ${await response.text()}`);
  }
}

export interface RecordedApiRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly requestId: string;
  readonly status: number | null;
}

export async function recordedRequests(): Promise<RecordedApiRequest[]> {
  const response = await fetch(`${messagesApiUrl()}/_test/requests`);
  return (await response.json()) as RecordedApiRequest[];
}

export async function pendingScripts(): Promise<number> {
  const response = await fetch(`${messagesApiUrl()}/_test/pending`);
  return ((await response.json()) as { scripts: number }).scripts;
}

/** Resolves with the first message the panel posts (from `fromIndex` on) that `match` accepts. */
export async function waitForPosted<T extends HostMessage>(handle: ChatPanelHandle, match: (message: HostMessage) => message is T, what: string, timeoutMs = 30_000, fromIndex = 0): Promise<T> {
  const already = handle.posted.slice(fromIndex).find(match);
  if (already) {
    return already;
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for the panel to post ${what}; it posted: ${handle.posted.map((message) => message.type).join(', ')}`));
    }, timeoutMs);
    const subscription = handle.onDidPost((message) => {
      if (match(message)) {
        clearTimeout(timer);
        subscription.dispose();
        resolve(message);
      }
    });
  });
}

export function sendResultFor(requestId: string) {
  return (message: HostMessage): message is Extract<HostMessage, { type: 'sendResult' }> => message.type === 'sendResult' && message.requestId === requestId;
}

export function replyFor(requestId: string) {
  return (message: HostMessage): message is Extract<HostMessage, { type: 'reply' }> => message.type === 'reply' && message.requestId === requestId;
}

export function sendStartedFor(requestId: string) {
  return (message: HostMessage): message is Extract<HostMessage, { type: 'sendStarted' }> => message.type === 'sendStarted' && message.requestId === requestId;
}

export function progressFor(handle: ChatPanelHandle, requestId: string): Array<Extract<HostMessage, { type: 'progress' }>['progress']> {
  return handle.posted.filter((message): message is Extract<HostMessage, { type: 'progress' }> => message.type === 'progress' && message.requestId === requestId).map((message) => message.progress);
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the chat with the palette command and waits for its webview's `ready` handshake. */
export async function openChat(): Promise<ChatPanelHandle> {
  const handle = await vscode.commands.executeCommand<ChatPanelHandle>('contextLedger.openChat');
  if (!handle) {
    throw new Error('Open Chat returned no panel');
  }
  await withTimeout(handle.whenReady(), 30_000, "the chat webview's ready handshake");
  return handle;
}

/** A session's events as another process reads them from the store (the CLI). */
export async function sessionEvents(sessionId: string): Promise<{ session: SessionSummary; events: StoredEvent[] }> {
  const result = await runCli(runnerEnvironment(), ['show', sessionId, '--json']);
  if (result.code !== 0) {
    throw new Error(`context-ledger show ${sessionId} failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as { session: SessionSummary; events: StoredEvent[] };
}

export function chatTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('contextLedger.chat'));
}
