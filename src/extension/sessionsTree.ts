import * as vscode from 'vscode';
import type { SessionSummary } from '../core/ledger';
import type { EngineClient } from './engineClient';
import { Disposable } from './lifecycle';

/** The Sessions view: one row per session, newest activity first. */
export class SessionsTreeProvider extends Disposable implements vscode.TreeDataProvider<SessionSummary> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly engine: EngineClient,
    private readonly reportError: (message: string) => void,
  ) {
    super();
    this.register(engine.onDidChangeStore(() => this.refresh()));
    this.register(engine.onDidChangeState(() => this.refresh()));
  }

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(element?: SessionSummary): Promise<SessionSummary[]> {
    if (element) {
      return [];
    }
    try {
      return [...(await this.engine.listSessions())];
    } catch (error) {
      this.reportError(`Context Ledger: could not list sessions: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  }

  getTreeItem(session: SessionSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(session.name, vscode.TreeItemCollapsibleState.None);
    item.id = session.id;
    item.description = `${session.turnCount} ${session.turnCount === 1 ? 'turn' : 'turns'} · ${formatAge(Date.now() - session.lastActivityMs)}`;
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMarkdown(session.name)}**\n\n` +
        `- ${session.turnCount} turns, ${session.eventCount} events\n` +
        `- last activity ${new Date(session.lastActivityMs).toLocaleString()}\n` +
        `- started ${new Date(session.startedMs).toLocaleString()}\n` +
        `- id \`${session.id}\`${session.closed ? '\n- closed' : ''}`,
    );
    item.iconPath = new vscode.ThemeIcon(session.closed ? 'archive' : 'comment-discussion');
    item.contextValue = session.closed ? 'session.closed' : 'session';
    return item;
  }
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  return `${Math.round(hours / 24)} d ago`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
