import * as vscode from 'vscode';
import { ChatCommandId } from '../commandIds';
import { Disposable } from '../lifecycle';
import type { ActiveChat, ActiveChatState } from './activeChat';
import { windowLabel } from './chatSettings';
import { budgetNumbers, budgetUse } from '../../shared/receiptNumbers';

/**
 * The status bar gauge: how full the active session's context budget was at its newest request
 * (receipt total / budget). Warning colours past 80 %; a click shows the receipt.
 */
export class BudgetGauge extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('contextLedger.budget', vscode.StatusBarAlignment.Right, 100));

  constructor(activeChat: ActiveChat) {
    super();
    this.item.name = 'Context Ledger Budget';
    this.item.command = ChatCommandId.showContextReceipt;
    this.register(activeChat.onDidChange((state) => this.update(state)));
    this.update(activeChat.state);
  }

  /** What the gauge shows now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  get warning(): boolean {
    return this.item.backgroundColor !== undefined;
  }

  private update({ sessionId, sessionName, receipt }: ActiveChatState): void {
    if (sessionId === null) {
      this.item.hide();
      return;
    }
    const session = sessionName ? `"${sessionName}"` : 'this session';
    if (!receipt) {
      this.item.text = '$(database) –';
      this.item.tooltip = `Context Ledger: no request in ${session} yet, so no context budget used.`;
      this.item.backgroundColor = undefined;
      this.item.accessibilityInformation = { label: `Context budget: no request in ${session} yet`, role: 'button' };
      this.item.show();
      return;
    }
    const { percent, label, warn, over } = budgetUse(receipt);
    const numbers = budgetNumbers(receipt);
    this.item.text = `$(database) ${label}`;
    this.item.tooltip = new vscode.MarkdownString(
      `**Context budget** of ${escapeMarkdown(session)}: ${numbers} at the newest request, ${windowLabel(receipt.window)}` +
        `${receipt.tokenSource === 'estimate' ? ', estimated offline' : ''}.\n\nClick to show the context receipt.`,
    );
    this.item.backgroundColor = warn ? new vscode.ThemeColor(over ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Context budget ${percent} percent full: ${numbers}. Show the context receipt.`, role: 'button' };
    this.item.show();
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
