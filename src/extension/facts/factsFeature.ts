import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import { describeFactKeyProblem } from '../../core/facts/factEvents';
import type { FactView } from '../../core/facts/factTypes';
import { factChangedErrorCode, FactsRequests, type FactsSettings } from '../../shared/factsProtocol';
import { factsViewId, FactsCommandId } from '../commandIds';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { readFactsSettings } from './factsSettings';
import { FactsTreeProvider, type FactsNode } from './factsTree';

// The Facts view and its commands. Every write here is the user's own action; edits carry the
// version the user saw, and a fact that changed meanwhile is reported, not overwritten.

export class FactsFeature extends Disposable {
  readonly tree: FactsTreeProvider;

  constructor(
    private readonly engine: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.tree = this.register(new FactsTreeProvider(engine, (message) => log.error(message)));
    this.register(vscode.window.createTreeView(factsViewId, { treeDataProvider: this.tree, showCollapseAll: true }));
    this.register(engine.onDidChangeState((state) => state === 'running' && void this.configure()));
    this.register(vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('contextLedger.facts') && void this.configure()));
    const commands: Record<(typeof FactsCommandId)[keyof typeof FactsCommandId], (node?: unknown) => Promise<unknown>> = {
      [FactsCommandId.addFact]: () => this.addFact(),
      [FactsCommandId.rememberSelection]: () => this.rememberSelection(),
      [FactsCommandId.refreshFacts]: async () => {
        this.tree.refresh();
        return this.tree.load();
      },
      [FactsCommandId.editFact]: (node) => this.editFact(this.factOf(node)),
      [FactsCommandId.pinFact]: (node) => this.engine.request(FactsRequests.pin, { key: this.factOf(node).key, pinned: true }),
      [FactsCommandId.unpinFact]: (node) => this.engine.request(FactsRequests.pin, { key: this.factOf(node).key, pinned: false }),
      [FactsCommandId.retireFact]: (node) => {
        const fact = this.factOf(node);
        return this.engine.request(FactsRequests.retire, { key: fact.key, expectedVector: fact.vector });
      },
      [FactsCommandId.mergeFact]: (node) => this.mergeFact(this.factOf(node)),
      [FactsCommandId.keepValue]: (node) => {
        const value = node as Extract<FactsNode, { type: 'value' }>;
        if (value?.type !== 'value') {
          throw new Error('choose a value of a conflicted fact in the Facts view');
        }
        return this.engine.request(FactsRequests.merge, { key: value.fact.key, expectedVector: value.fact.vector, pick: value.index });
      },
      [FactsCommandId.confirmProposal]: (node) => this.engine.request(FactsRequests.confirm, { proposalId: this.proposalOf(node) }),
      [FactsCommandId.rejectProposal]: (node) => this.engine.request(FactsRequests.reject, { proposalId: this.proposalOf(node) }),
      [FactsCommandId.goToSource]: (node) => this.goToSource(this.factOf(node)),
      [FactsCommandId.markVerified]: async (node) => {
        const fact = this.factOf(node);
        const result = await this.engine.request(FactsRequests.verify, { key: fact.key, expectedVector: fact.vector });
        void vscode.window.showInformationMessage(`Context Ledger: ${this.factOf(node).key} is ${result.status}${result.detail ? `: ${result.detail}` : ''}.`);
        return result;
      },
    };
    for (const [id, run] of Object.entries(commands)) {
      this.register(vscode.commands.registerCommand(id, async (node?: unknown) => this.guard(id, () => run(node))));
    }
    void this.configure();
  }

  private async configure(): Promise<void> {
    if (!this.engine.isRunning) {
      return;
    }
    const settings: FactsSettings = readFactsSettings(vscode.workspace.getConfiguration('contextLedger'), vscode.workspace.isTrusted);
    try {
      await this.engine.request(FactsRequests.configure, settings);
    } catch (error) {
      this.log.warn(`the facts settings could not be sent to the engine: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async guard(id: string, run: () => Promise<unknown>): Promise<unknown> {
    try {
      const result = await run();
      this.tree.refresh();
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.appendLine(`[${id}] ${message}`);
      if (error instanceof ResponseError && error.code === factChangedErrorCode) {
        this.tree.refresh();
        void vscode.window.showWarningMessage(`Context Ledger: ${message}`);
      } else {
        void vscode.window.showErrorMessage(`Context Ledger: ${message}`);
      }
      return undefined;
    }
  }

  private factOf(node: unknown): FactView {
    const candidate = node as FactsNode | undefined;
    if (candidate?.type === 'fact' || candidate?.type === 'value') {
      return candidate.fact;
    }
    throw new Error('choose a fact in the Facts view');
  }

  private proposalOf(node: unknown): string {
    const candidate = node as FactsNode | undefined;
    if (candidate?.type === 'proposal') {
      return candidate.proposal.proposalId;
    }
    throw new Error('choose a proposal in the Facts view');
  }

  private async askKey(suggested = ''): Promise<string | undefined> {
    return vscode.window.showInputBox({ ignoreFocusOut: true, title: 'Fact key', prompt: 'A dotted key, e.g. build.command', value: suggested, validateInput: (value) => describeFactKeyProblem(value) ?? null });
  }

  private async askValue(title: string, value = ''): Promise<string | undefined> {
    return vscode.window.showInputBox({ ignoreFocusOut: true, title, value, validateInput: (text) => (text.trim() === '' ? 'A fact needs a value' : null) });
  }

  private async addFact(): Promise<FactView | undefined> {
    const key = await this.askKey();
    const value = key === undefined ? undefined : await this.askValue(`Value of ${key}`);
    if (key === undefined || value === undefined) {
      return undefined;
    }
    const existing = (await this.tree.load()).facts.find((fact) => fact.key === key);
    return this.engine.request(FactsRequests.add, { key, value, ...(existing ? { expectedVector: existing.vector } : {}) });
  }

  private async rememberSelection(): Promise<FactView | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
      throw new Error('select lines of a workspace file first');
    }
    const path = vscode.workspace.asRelativePath(editor.document.uri, false);
    const selection = editor.selection;
    const startLine = selection.start.line + 1;
    // A selection that ends at the start of a line does not include that line.
    const endLine = Math.max(startLine, selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line : selection.end.line + 1);
    const citation = await this.engine.request(FactsRequests.cite, { path, startLine, endLine });
    const selected = editor.document.getText(selection.isEmpty ? editor.document.lineAt(selection.start.line).range : selection).trim();
    const key = await this.askKey();
    const value = key === undefined ? undefined : await this.askValue(`Value of ${key} (cites ${path}:${startLine}–${endLine})`, selected.slice(0, 500));
    if (key === undefined || value === undefined) {
      return undefined;
    }
    const existing = (await this.tree.load()).facts.find((fact) => fact.key === key);
    return this.engine.request(FactsRequests.add, { key, value, citations: [citation], path, line: startLine, ...(existing ? { expectedVector: existing.vector } : {}) });
  }

  private async editFact(fact: FactView): Promise<FactView | readonly FactView[] | undefined> {
    if (fact.state === 'conflicted') {
      return this.mergeFact(fact);
    }
    const value = await this.askValue(`New value of ${fact.key}`, fact.heads[0]?.value ?? '');
    return value === undefined ? undefined : this.engine.request(FactsRequests.add, { key: fact.key, value, expectedVector: fact.vector });
  }

  private async mergeFact(fact: FactView): Promise<readonly FactView[] | undefined> {
    type Choice = vscode.QuickPickItem & { readonly run: () => Promise<readonly FactView[] | undefined> };
    const merge = (params: { pick?: number; value?: string; retire?: boolean; split?: readonly string[] }) => this.engine.request(FactsRequests.merge, { key: fact.key, expectedVector: fact.vector, ...params });
    const choices: Choice[] = [
      ...fact.heads.map((head, index): Choice => ({ label: `Keep ${index + 1}: ${head.value ?? '(retired)'}`, description: `${head.writerId} · ${head.trust}`, run: () => merge({ pick: index + 1 }) })),
      {
        label: 'Edit a new value…',
        run: async () => {
          const value = await this.askValue(`Merged value of ${fact.key}`, fact.heads.find((head) => head.value !== null)?.value ?? '');
          return value === undefined ? undefined : merge({ value });
        },
      },
      {
        label: 'Keep each value under its own key…',
        run: async () => {
          const keys: string[] = [];
          for (const index of fact.heads.filter((candidate) => candidate.value !== null).keys()) {
            const key = await this.askKey(`${fact.key}.${index + 1}`);
            if (key === undefined) {
              return undefined;
            }
            keys.push(key);
          }
          return merge({ split: keys });
        },
      },
      { label: 'Retire the fact', run: () => merge({ retire: true }) },
    ];
    const chosen = await vscode.window.showQuickPick(choices, { title: `Merge ${fact.key}`, placeHolder: fact.state === 'conflicted' ? `${fact.heads.length} values were written concurrently` : 'Replace the value' });
    return chosen?.run();
  }

  private async goToSource(fact: FactView): Promise<boolean> {
    const head = fact.heads[0];
    const citation = head?.citations[0];
    const relative = citation?.path ?? head?.provenance.path;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!relative || !folder) {
      void vscode.window.showInformationMessage(`Context Ledger: ${fact.key} has no file it came from${head?.provenance.sessionId ? ` (it came from session ${head.provenance.sessionId})` : ''}.`);
      return false;
    }
    const line = Math.max(0, (citation?.startLine ?? head?.provenance.line ?? 1) - 1);
    const endLine = Math.max(line, (citation?.endLine ?? line + 1) - 1);
    await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, relative), { selection: new vscode.Range(line, 0, endLine, 0), preview: true });
    return true;
  }
}
