import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DriftCheckResult, DriftDiagnostic } from '../../shared/driftProtocol';
import { readChatSettings, settingReader } from '../chat/chatSettings';
import { DriftCommandId, FactsCommandId } from '../commandIds';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';

// Prompt drift in the editor: the engine checks, this shows its answer as diagnostics on the
// prompt files' lines, with code actions, and asks again when a prompt file, package.json, a
// lockfile, a Makefile or .nvmrc changes, or the prompt setting does.

/** What the fact code actions need (driftFactActions.ts has them on the facts engine). */
export interface DriftFactActions {
  /** Re-checks the fact's citations and records it verified under the current prompt version. */
  markVerified(factId: string): Promise<{ readonly key: string; readonly status: string; readonly detail: string | null }>;
  retire(factId: string): Promise<{ readonly key: string }>;
}

export interface DriftFeatureDependencies {
  readonly engine: EngineClient;
  readonly log: vscode.LogOutputChannel;
  readonly facts?: DriftFactActions;
}

export const driftCodeActionKinds = {
  update: vscode.CodeActionKind.QuickFix.append('contextLedger.drift.update'),
  markVerified: vscode.CodeActionKind.QuickFix.append('contextLedger.drift.markFactVerified'),
  retireFact: vscode.CodeActionKind.QuickFix.append('contextLedger.drift.retireFact'),
};

const promptFileGlob = '**/{AGENTS.md,CLAUDE.md,copilot-instructions.md,.cursorrules}';
const watchedGlob = '**/{AGENTS.md,CLAUDE.md,copilot-instructions.md,.cursorrules,package.json,package-lock.json,npm-shrinkwrap.json,pnpm-lock.yaml,yarn.lock,bun.lockb,bun.lock,Makefile,makefile,GNUmakefile,.nvmrc,.node-version}';
const debounceMs = 300;

export class DriftFeature extends Disposable {
  private readonly collection = this.register(vscode.languages.createDiagnosticCollection('contextLedger.drift'));
  private readonly details = new WeakMap<vscode.Diagnostic, DriftDiagnostic>();
  private timer: NodeJS.Timeout | undefined;
  private last: DriftCheckResult | undefined;

  constructor(private readonly deps: DriftFeatureDependencies) {
    super();
    const watcher = this.register(vscode.workspace.createFileSystemWatcher(watchedGlob));
    this.register(watcher.onDidChange(() => this.schedule()));
    this.register(watcher.onDidCreate(() => this.schedule()));
    this.register(watcher.onDidDelete(() => this.schedule()));
    this.register(vscode.workspace.onDidSaveTextDocument((document) => vscode.languages.match({ pattern: watchedGlob }, document) > 0 && this.schedule()));
    this.register(vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('contextLedger.systemPrompt') && this.schedule()));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()));
    this.register(deps.engine.onDidChangeState((state) => state === 'running' && this.schedule()));
    this.register(vscode.languages.registerCodeActionsProvider({ pattern: promptFileGlob }, { provideCodeActions: (document, _range, context) => this.codeActions(document, context) }, { providedCodeActionKinds: Object.values(driftCodeActionKinds) }));
    this.register(vscode.commands.registerCommand(DriftCommandId.checkPromptDrift, () => this.checkAndReport()));
    if (deps.facts) {
      const facts = deps.facts;
      this.register(
        vscode.commands.registerCommand(DriftCommandId.markFactVerified, (factId: unknown) =>
          this.factAction(async () => {
            const result = await facts.markVerified(String(factId));
            void vscode.window.showInformationMessage(`Context Ledger: ${result.key} is ${result.status}${result.detail ? `: ${result.detail}` : ''} under the current prompt version.`);
            return result;
          }),
        ),
      );
      this.register(
        vscode.commands.registerCommand(DriftCommandId.retireFact, (factId: unknown) =>
          this.factAction(async () => {
            const retired = await facts.retire(String(factId));
            void vscode.window.showInformationMessage(`Context Ledger: ${retired.key} is retired (its history keeps it).`);
            return retired;
          }),
        ),
      );
    }
    this.register({ dispose: () => clearTimeout(this.timer) });
  }

  /**
   * Runs a fact code action, then checks again (which refreshes the Facts view) either way: a fact
   * that changed under the action is reported (nothing was written), never acted on unseen.
   */
  private async factAction<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.warn(`drift fact action: ${message}`);
      void vscode.window.showWarningMessage(`Context Ledger: ${message}`);
      return undefined;
    } finally {
      await this.check().catch((error: unknown) => this.deps.log.warn(`prompt drift check failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  /** The last answer (test hook and the command's report). */
  get lastResult(): DriftCheckResult | undefined {
    return this.last;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check().catch((error: unknown) => this.deps.log.warn(`prompt drift check failed: ${error instanceof Error ? error.message : String(error)}`)), debounceMs);
  }

  async check(): Promise<DriftCheckResult> {
    const configuration = vscode.workspace.getConfiguration('contextLedger');
    const { settings } = readChatSettings(settingReader(configuration, vscode.workspace.isTrusted));
    // The key version lets the engine also ask the model about the facts (only with a key, and
    // only if the user leaves it on: each check whose files or facts changed is a request).
    const askModel = configuration.get<boolean>('drift.modelCheck', true);
    const model = askModel ? { keyVersion: await this.deps.engine.keyVersion(), settings: { model: settings.model, baseUrl: settings.baseUrl, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs } } : undefined;
    const result = await this.deps.engine.driftCheck({ systemPrompt: settings.systemPrompt, ...(model ? { model } : {}) });
    this.last = result;
    this.show(result);
    // The Facts view's Drifted group follows what the check found.
    void vscode.commands.executeCommand(FactsCommandId.refreshFacts);
    return result;
  }

  private async checkAndReport(): Promise<DriftCheckResult | undefined> {
    try {
      const result = await this.check();
      const version = result.promptVersion ? ` under prompt version ${result.promptVersion.version}${result.promptVersion.recorded ? ' (new)' : ''}` : '';
      const summary = result.unavailable
        ? `Prompt drift was not checked: ${result.unavailable}.`
        : result.promptFiles.length === 0
          ? 'No prompt files (AGENTS.md, CLAUDE.md, .github/copilot-instructions.md, .cursorrules) in this workspace.'
          : `${result.diagnostics.length === 0 ? 'No prompt drift' : `${result.diagnostics.length} prompt drift ${result.diagnostics.length === 1 ? 'problem' : 'problems'}`} in ${result.promptFiles.join(', ')}${version}.${result.modelCheck ? ` Facts: ${result.modelCheck.ran ? result.modelCheck.note : `rule checks only (${result.modelCheck.note})`}.` : ''}`;
      this.deps.log.info(summary);
      if (result.diagnostics.length > 0) {
        void vscode.window.showWarningMessage(`Context Ledger: ${summary}`, 'Show Problems').then((choice) => {
          if (choice) {
            void vscode.commands.executeCommand('workbench.actions.view.problems');
          }
        });
      } else {
        void vscode.window.showInformationMessage(`Context Ledger: ${summary}`);
      }
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.error(`prompt drift check failed: ${message}`);
      void vscode.window.showErrorMessage(`Context Ledger: the prompt drift check failed: ${message}`);
      return undefined;
    }
  }

  private show(result: DriftCheckResult): void {
    this.collection.clear();
    if (!result.folder) {
      return;
    }
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const drift of result.diagnostics) {
      const line = Math.max(0, drift.line - 1);
      const range = drift.range ? new vscode.Range(line, drift.range.start, line, drift.range.end) : new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER);
      const diagnostic = new vscode.Diagnostic(range, drift.message, drift.severity === 'information' ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'Context Ledger';
      diagnostic.code = drift.code;
      this.details.set(diagnostic, drift);
      const file = path.join(result.folder, ...drift.path.split('/'));
      byFile.set(file, [...(byFile.get(file) ?? []), diagnostic]);
    }
    for (const [file, diagnostics] of byFile) {
      this.collection.set(vscode.Uri.file(file), diagnostics);
    }
  }

  private codeActions(document: vscode.TextDocument, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      const drift = this.details.get(diagnostic);
      if (!drift) {
        continue;
      }
      const fix = drift.fix;
      if (fix) {
        const range = new vscode.Range(drift.line - 1, fix.start, drift.line - 1, fix.end);
        // The line was edited since the check: the fix would land on other text.
        if (fix.oldText === undefined || document.getText(range) === fix.oldText) {
          const action = new vscode.CodeAction(fix.title, driftCodeActionKinds.update);
          action.edit = new vscode.WorkspaceEdit();
          action.edit.replace(document.uri, range, fix.newText);
          action.diagnostics = [diagnostic];
          action.isPreferred = true;
          actions.push(action);
        }
      }
      if (drift.factId && this.deps.facts) {
        // Verifying answers "made under an older prompt"; it cannot answer a contradiction (the
        // prompt line still says otherwise: update the line, or retire the fact).
        if (drift.code === 'fact-older-prompt') {
          actions.push(this.factCodeAction('Mark Fact Verified', driftCodeActionKinds.markVerified, DriftCommandId.markFactVerified, drift.factId, diagnostic));
        }
        actions.push(this.factCodeAction('Retire Fact', driftCodeActionKinds.retireFact, DriftCommandId.retireFact, drift.factId, diagnostic));
      }
    }
    return actions;
  }

  private factCodeAction(title: string, kind: vscode.CodeActionKind, command: string, factId: string, diagnostic: vscode.Diagnostic): vscode.CodeAction {
    const action = new vscode.CodeAction(title, kind);
    action.command = { title, command, arguments: [factId] };
    action.diagnostics = [diagnostic];
    return action;
  }
}
