import * as vscode from 'vscode';
import type { SessionSummary } from '../core/ledger';
import type { SessionWithActivity } from '../core/memory/sessionActivity';
import { CommandId } from './commandIds';
import type { EngineClient } from './engineClient';
import { Disposable } from './lifecycle';

/**
 * The Sessions view: one row per session, newest activity first; hidden (deleted) sessions left
 * out. A click opens the session in the chat; the session the chat shows is selected and marked.
 */
export class SessionsTreeProvider extends Disposable implements vscode.TreeDataProvider<SessionSummary> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private view: vscode.TreeView<SessionSummary> | undefined;
  private activeSessionId: string | null = null;
  private shown: readonly SessionSummary[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly reportError: (message: string) => void,
  ) {
    super();
    this.register(engine.onDidChangeStore(() => this.refresh()));
    this.register(engine.onDidChangeState(() => this.refresh()));
  }

  /** The tree view showing this provider (to select the active row). */
  attach(view: vscode.TreeView<SessionSummary>): void {
    this.view = view;
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Refreshes and returns the sessions the view lists now (the Refresh Sessions command). */
  async reload(): Promise<readonly SessionSummary[]> {
    const sessions = await this.visibleSessions();
    this.refresh();
    return sessions;
  }

  /** The chat shows `sessionId` now (null: a new chat): mark and select its row. */
  setActiveSession(sessionId: string | null): void {
    if (sessionId === this.activeSessionId) {
      return;
    }
    this.activeSessionId = sessionId;
    this.refresh();
    this.revealActive();
  }

  get activeSession(): string | null {
    return this.activeSessionId;
  }

  private revealActive(): void {
    const active = this.shown.find((session) => session.id === this.activeSessionId);
    if (active && this.view?.visible) {
      this.view.reveal(active, { select: true, focus: false }).then(undefined, () => undefined);
    }
  }

  private async visibleSessions(): Promise<SessionSummary[]> {
    return (await this.engine.listSessions()).filter((session) => !session.hidden);
  }

  async getChildren(element?: SessionSummary): Promise<SessionSummary[]> {
    if (element) {
      return [];
    }
    try {
      const sessions = await this.visibleSessions();
      this.shown = sessions;
      // After the rows are drawn: the active one may be new (just created by the chat).
      setTimeout(() => this.revealActive(), 0);
      return sessions;
    } catch (error) {
      this.reportError(`Context Ledger: could not list sessions: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  }

  getParent(): undefined {
    return undefined; // A flat list; reveal() needs this.
  }

  getTreeItem(session: SessionSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(session.name, vscode.TreeItemCollapsibleState.None);
    const active = session.id === this.activeSessionId;
    // The engine gives an imported session its transcript's times (core/memory/sessionActivity.ts).
    const fromSource = (session as Partial<SessionWithActivity>).activityFromSource === true ? ' (in the imported transcript)' : '';
    item.id = session.id;
    item.description = `${turnsLabel(session.turnCount)} · ${formatAge(Date.now() - session.lastActivityMs)}${active ? ' · open' : ''}`;
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMarkdown(session.name)}**${active ? ' (open in the chat)' : ''}\n\n` +
        `- ${turnsLabel(session.turnCount)} (questions asked), ${session.eventCount} events\n` +
        `- last activity ${new Date(session.lastActivityMs).toLocaleString()}${fromSource}\n` +
        `- started ${new Date(session.startedMs).toLocaleString()}\n` +
        `- id \`${session.id}\`${session.closed ? '\n- closed' : ''}`,
    );
    item.iconPath = session.closed
      ? new vscode.ThemeIcon('archive')
      : active
        ? new vscode.ThemeIcon('comment-discussion', new vscode.ThemeColor('focusBorder'))
        : new vscode.ThemeIcon('comment-discussion');
    item.contextValue = session.closed ? 'session.closed' : 'session';
    item.command = { command: CommandId.openSession, title: 'Open in Chat', arguments: [session.id] };
    item.accessibilityInformation = { label: `${session.name}, ${turnsLabel(session.turnCount)}${active ? ', open in the chat' : ''}` };
    return item;
  }
}

export function turnsLabel(count: number): string {
  return `${count} ${count === 1 ? 'turn' : 'turns'}`;
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
