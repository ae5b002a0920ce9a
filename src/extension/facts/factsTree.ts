import * as vscode from 'vscode';
import type { FactHead, FactHistoryEntry, FactProposal, FactView } from '../../core/facts/factTypes';
import { FactsRequests, type FactsListResult } from '../../shared/factsProtocol';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';

// The Facts view: groups of facts by state (active, conflicted, stale, drifted, proposed,
// retired); a conflicted fact lists its values, each with Keep This Value. Context values
// (`fact.active`, `fact.conflicted`, `fact.proposal`, …) choose the inline actions in package.json.

export type FactGroupName = 'active' | 'conflicted' | 'stale' | 'drifted' | 'proposed' | 'retired';

export type FactsNode =
  | { readonly type: 'group'; readonly group: FactGroupName; readonly count: number }
  | { readonly type: 'fact'; readonly group: FactGroupName; readonly fact: FactView; readonly dueForReview: boolean; readonly driftedWhy?: string }
  | { readonly type: 'value'; readonly fact: FactView; readonly head: FactHead; readonly index: number }
  | { readonly type: 'proposal'; readonly proposal: FactProposal };

const groupLabels: Record<FactGroupName, string> = {
  active: 'Active',
  conflicted: 'Conflicted',
  stale: 'Stale',
  drifted: 'Drifted',
  proposed: 'Proposed',
  retired: 'Retired',
};
const groupOrder: readonly FactGroupName[] = ['conflicted', 'proposed', 'stale', 'drifted', 'active', 'retired'];

/** Which group a fact is shown in; `drifted`: the keys prompt drift concerns (the engine's list). */
export function groupOf(fact: FactView, drifted: ReadonlySet<string> = new Set()): FactGroupName {
  if (fact.state === 'conflicted') {
    return 'conflicted';
  }
  if (fact.state === 'retired') {
    return 'retired';
  }
  return fact.stale ? 'stale' : drifted.has(fact.key) ? 'drifted' : 'active';
}

export class FactsTreeProvider extends Disposable implements vscode.TreeDataProvider<FactsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private snapshot: Promise<FactsListResult> | undefined;

  constructor(
    private readonly engine: EngineClient,
    private readonly reportError: (message: string) => void,
  ) {
    super();
    this.register(engine.onDidChangeStore(() => this.refresh()));
    this.register(engine.onDidChangeState(() => this.refresh()));
  }

  refresh(): void {
    this.snapshot = undefined;
    this.changed.fire();
  }

  /** The facts and proposals as the view shows them now (commands and tests). */
  load(): Promise<FactsListResult> {
    this.snapshot ??= this.engine.isRunning ? this.engine.request(FactsRequests.list, {}) : Promise.resolve({ facts: [], proposals: [], dueForReview: [] });
    return this.snapshot;
  }

  async getChildren(node?: FactsNode): Promise<FactsNode[]> {
    let listed: FactsListResult;
    try {
      listed = await this.load();
    } catch (error) {
      this.snapshot = undefined;
      this.reportError(`the facts could not be listed: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
    const due = new Set(listed.dueForReview);
    const driftedWhy = new Map((listed.drifted ?? []).map((entry) => [entry.key, entry.why]));
    const drifted = new Set(driftedWhy.keys());
    if (!node) {
      const count = (group: FactGroupName) => (group === 'proposed' ? listed.proposals.length : listed.facts.filter((fact) => groupOf(fact, drifted) === group).length);
      return groupOrder.map((group) => ({ type: 'group', group, count: count(group) }));
    }
    if (node.type === 'group') {
      if (node.group === 'proposed') {
        return listed.proposals.map((proposal) => ({ type: 'proposal', proposal }));
      }
      return listed.facts
        .filter((fact) => groupOf(fact, drifted) === node.group)
        .map((fact) => ({ type: 'fact', group: node.group, fact, dueForReview: due.has(fact.key), ...(driftedWhy.has(fact.key) ? { driftedWhy: driftedWhy.get(fact.key)! } : {}) }));
    }
    if (node.type === 'fact' && node.fact.state === 'conflicted') {
      return node.fact.heads.map((head, index) => ({ type: 'value', fact: node.fact, head, index: index + 1 }));
    }
    return [];
  }

  /** The tooltip of a fact gets its earlier values (with when each stopped) when it is hovered. */
  async resolveTreeItem(item: vscode.TreeItem, node: FactsNode): Promise<vscode.TreeItem> {
    if (node.type !== 'fact' || node.fact.historyCount === 0 || !this.engine.isRunning) {
      return item;
    }
    try {
      const { history } = await this.engine.request(FactsRequests.get, { key: node.fact.key });
      item.tooltip = factTooltip(node.fact, node, history);
    } catch (error) {
      this.reportError(`the history of ${node.fact.key} could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    return item;
  }

  getTreeItem(node: FactsNode): vscode.TreeItem {
    switch (node.type) {
      case 'group': {
        // Expanded whatever the count: VS Code keeps a group's first state by its id, and the first
        // render can come before the engine answers (every group empty).
        const item = new vscode.TreeItem(groupLabels[node.group], node.group === 'retired' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group}`;
        item.description = String(node.count);
        item.contextValue = `factGroup.${node.group}`;
        if (node.group === 'drifted') {
          item.tooltip = 'Facts made under an older prompt version, or contradicting the current prompt (prompt drift).';
        }
        return item;
      }
      case 'fact': {
        const { fact } = node;
        const head = fact.heads[0];
        const item = new vscode.TreeItem(fact.key, fact.state === 'conflicted' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        item.id = `fact:${fact.key}`;
        item.description =
          fact.state === 'conflicted'
            ? `${fact.heads.length} values: merge`
            : `${head?.value ?? '(retired)'}${fact.pinned ? '  · pinned' : ''}${node.dueForReview ? '  · review' : ''}`;
        item.iconPath = new vscode.ThemeIcon(fact.state === 'conflicted' ? 'git-merge' : fact.stale ? 'warning' : fact.state === 'retired' ? 'archive' : node.driftedWhy ? 'compass' : fact.pinned ? 'pinned' : 'note');
        item.contextValue = `fact.${node.group}${fact.pinned ? '.pinned' : ''}${head?.citations.length || head?.provenance.path ? '.sourced' : ''}`;
        item.tooltip = factTooltip(fact, node);
        return item;
      }
      case 'value': {
        const item = new vscode.TreeItem(`${node.index}. ${node.head.value ?? '(retired)'}`, vscode.TreeItemCollapsibleState.None);
        item.id = `value:${node.fact.key}:${node.head.eventId}`;
        item.description = `${node.head.writerId}, ${new Date(node.head.wallMs).toLocaleString()}`;
        item.contextValue = 'factValue';
        item.iconPath = new vscode.ThemeIcon('circle-outline');
        item.tooltip = headTooltip(node.head);
        return item;
      }
      case 'proposal': {
        const { proposal } = node;
        const item = new vscode.TreeItem(proposal.key, vscode.TreeItemCollapsibleState.None);
        item.id = `proposal:${proposal.proposalId}`;
        item.description = `${proposal.value}  · ${proposal.trust}`;
        item.iconPath = new vscode.ThemeIcon('lightbulb');
        item.contextValue = 'factProposal';
        const tooltip = new vscode.MarkdownString(undefined, true);
        tooltip.appendMarkdown(`**Proposed** \`${escape(proposal.key)}\` = `).appendText(proposal.value);
        tooltip.appendMarkdown(`\n\nTrust: ${proposal.trust}. Nothing is stored until you confirm it.`);
        if (proposal.reason) {
          tooltip.appendMarkdown('\n\nReason given: ').appendText(proposal.reason.slice(0, 300));
        }
        tooltip.appendMarkdown(`\n\n${describeProvenance(proposal.provenance)}`);
        if (proposal.promptVersion) {
          tooltip.appendMarkdown(`\n\nProposed under prompt version ${escape(proposal.promptVersion)}.`);
        }
        item.tooltip = tooltip;
        return item;
      }
    }
  }
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function describeProvenance(provenance: FactHead['provenance']): string {
  const parts = [
    provenance.sessionId ? `session ${escape(provenance.sessionId)}` : '',
    provenance.eventId ? `event ${escape(provenance.eventId)}` : '',
    provenance.path ? `${escape(provenance.path)}${provenance.line ? `:${provenance.line}` : ''}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `From ${parts.join(', ')}.` : 'Stated directly (no source recorded).';
}

function headTooltip(head: FactHead): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendText(head.value ?? '(retired)');
  tooltip.appendMarkdown(`\n\nTrust: ${head.trust}; written by ${escape(head.writerId)} on ${new Date(head.wallMs).toLocaleString()} (${escape(head.kind)}).`);
  tooltip.appendMarkdown(`\n\n${describeProvenance(head.provenance)}`);
  if (head.citations.length > 0) {
    tooltip.appendMarkdown(`\n\nCites ${head.citations.map((citation) => `${escape(citation.path)}:${citation.startLine}–${citation.endLine}`).join(', ')}; ${head.verifyStatus === 'stale' ? `**stale**: ${escape(head.verifyDetail ?? 'the cited lines changed')}` : head.verifyStatus}.`);
  }
  if (head.promptVersion) {
    tooltip.appendMarkdown(`\n\nMade under prompt version ${escape(head.promptVersion)}.`);
  }
  return tooltip;
}

const historyShown = 5;
const endings: Record<FactHistoryEntry['ended'], string> = { superseded: 'replaced by a later write', overwritten: 'overwritten unseen (last writer wins)', merged: 'resolved by a merge' };

/** Earlier values, newest first, each with when it was current and how it stopped. */
export function historyMarkdown(history: readonly FactHistoryEntry[]): string {
  const lines = [...history]
    .sort((a, b) => b.toSeq - a.toSeq)
    .slice(0, historyShown)
    .map((entry) => `- ${entry.value === null ? '*(retired)*' : escape(entry.value.slice(0, 200))}: current from ${new Date(entry.fromMs).toLocaleString()} until ${new Date(entry.toMs).toLocaleString()}, ${endings[entry.ended]} (${escape(entry.writerId)}, ${entry.trust})`);
  const more = history.length > historyShown ? `\n\n…and ${history.length - historyShown} older (\`context-ledger facts history KEY\`).` : '';
  return `Earlier values:\n\n${lines.join('\n')}${more}`;
}

function factTooltip(fact: FactView, node?: Extract<FactsNode, { type: 'fact' }>, history?: readonly FactHistoryEntry[]): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendMarkdown(`**${escape(fact.key)}** (${fact.scope}, ${fact.state}${fact.pinned ? ', pinned' : ''})\n\n`);
  if (fact.state === 'conflicted') {
    tooltip.appendMarkdown(`${fact.heads.length} values were written concurrently (neither writer saw the other). Merge to choose.\n\n`);
  }
  const head = fact.heads[0];
  if (head && fact.state !== 'conflicted') {
    tooltip.appendMarkdown(headTooltip(head).value);
  }
  if (node?.driftedWhy) {
    tooltip.appendMarkdown('\n\n**Prompt drift**: ').appendText(node.driftedWhy);
  }
  if (node?.dueForReview) {
    tooltip.appendMarkdown('\n\n**Due for review**: neither sent nor verified for the review time (contextLedger.facts.reviewAfterDays).');
  }
  tooltip.appendMarkdown(`\n\nHistory: ${fact.historyCount} earlier value${fact.historyCount === 1 ? '' : 's'}${fact.usedMs ? `; last sent ${new Date(fact.usedMs).toLocaleString()}` : '; never sent yet'}.`);
  if (history && history.length > 0) {
    tooltip.appendMarkdown(`\n\n${historyMarkdown(history)}`);
  }
  return tooltip;
}
