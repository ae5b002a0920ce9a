import * as vscode from 'vscode';
import type { SessionSummary } from '../core/ledger';
import { CompactionErrorCode, CompactionNotifications, CompactionRequests, type CompactionPreviewParams, type CompactionPreviewResult, type CompactionTier } from '../shared/compactionProtocol';
import { readChatSettings, settingReader } from './chat/chatSettings';
import type { EngineClient } from './engineClient';
import { Disposable } from './lifecycle';
import { configuredCompactor } from './memory/compactorSetting';

// The compaction commands: Compact Session… (tier, preview in a read-only document, confirm,
// commit), Undo Last Compaction, Set Session Fidelity Tier…, and the notice of an automatic
// compaction with its Undo button. The engine does the work (src/server/compactionService.ts).

export const CompactionCommandId = {
  compactSession: 'contextLedger.compactSession',
  undoCompaction: 'contextLedger.undoCompaction',
  setCompactionTier: 'contextLedger.setCompactionTier',
} as const;

const previewScheme = 'context-ledger-compaction';

export interface CompactionFeatureOptions {
  readonly engine: EngineClient;
  /** The session the chat shows (the default target). */
  readonly activeSessionId: () => string | null;
  /** An API key is set (then the model may write the summary). */
  readonly hasApiKey: () => Promise<boolean>;
  readonly output: vscode.LogOutputChannel;
}

/** Options a caller (a keybinding, a test) may pass instead of answering the prompts. */
interface CompactOptions {
  readonly tier?: CompactionTier;
  readonly summarizer?: 'model' | 'offline';
  /** Commit without the confirmation dialog. */
  readonly confirm?: boolean;
  readonly range?: { readonly firstTurn: number; readonly lastTurn: number };
}

function sessionIdArgument(argument: unknown): string | undefined {
  if (typeof argument === 'string') {
    return argument;
  }
  return typeof argument === 'object' && argument !== null && typeof (argument as { id?: unknown }).id === 'string' ? (argument as { id: string }).id : undefined;
}

function describeError(error: unknown): { code: number | undefined; message: string } {
  // Duck-typed: a ResponseError from the client's copy of vscode-jsonrpc has a numeric code.
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : undefined;
  return { code, message: error instanceof Error ? error.message : String(error) };
}

export class CompactionFeature extends Disposable {
  private readonly previews = new Map<string, string>();
  private readonly previewChanged = this.register(new vscode.EventEmitter<vscode.Uri>());
  private previewCount = 0;

  constructor(private readonly options: CompactionFeatureOptions) {
    super();
    const { engine } = options;
    this.register(
      vscode.workspace.registerTextDocumentContentProvider(previewScheme, {
        onDidChange: this.previewChanged.event,
        provideTextDocumentContent: (uri) => this.previews.get(uri.toString()) ?? 'This preview is gone; run Compact Session… again.',
      }),
    );
    this.register(vscode.commands.registerCommand(CompactionCommandId.compactSession, (argument?: unknown, compactOptions?: CompactOptions) => this.guard(() => this.compact(argument, compactOptions ?? {}))));
    this.register(vscode.commands.registerCommand(CompactionCommandId.undoCompaction, (argument?: unknown, compactionId?: unknown) => this.guard(() => this.undo(argument, typeof compactionId === 'string' ? compactionId : undefined))));
    this.register(vscode.commands.registerCommand(CompactionCommandId.setCompactionTier, (argument?: unknown, tier?: unknown) => this.guard(() => this.setTier(argument, tier))));
    this.register(
      engine.onNotification(CompactionNotifications.compacted, (notice) => {
        const actions = notice.compactionId ? ['Undo'] : [];
        void vscode.window.showInformationMessage(`Context Ledger: ${notice.message}`, ...actions).then((choice) => {
          if (choice === 'Undo') {
            void vscode.commands.executeCommand(CompactionCommandId.undoCompaction, notice.sessionId, notice.compactionId);
          }
        });
      }),
    );
    this.register(engine.onDidChangeState((state) => state === 'running' && void this.configure()));
    this.register(vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('contextLedger.compaction') && void this.configure()));
    if (engine.isRunning) {
      void this.configure();
    }
  }

  private async guard<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      const { message } = describeError(error);
      this.options.output.error(`[compaction] ${message}`);
      void vscode.window.showErrorMessage(`Context Ledger: ${message}`);
      return undefined;
    }
  }

  private settings(): { defaultTier: CompactionTier; autoAtShare: number } {
    const configuration = vscode.workspace.getConfiguration('contextLedger.compaction');
    const tier = configuration.get<string>('tier');
    const share = configuration.get<number>('autoAtShare');
    return { defaultTier: tier === 'full' || tier === 'aggressive' ? tier : 'balanced', autoAtShare: typeof share === 'number' && share >= 0 && share <= 1 ? share : 0 };
  }

  private async configure(): Promise<void> {
    try {
      await this.options.engine.request(CompactionRequests.configure, this.settings());
    } catch (error) {
      this.options.output.warn(`compaction settings not sent to the engine: ${describeError(error).message}`);
    }
  }

  private async targetSession(argument: unknown, placeHolder: string): Promise<string | undefined> {
    const given = sessionIdArgument(argument) ?? this.options.activeSessionId();
    if (given) {
      return given;
    }
    const sessions: readonly SessionSummary[] = (await this.options.engine.listSessions()).filter((session) => !session.hidden);
    const picked = await vscode.window.showQuickPick(
      sessions.map((session) => ({ label: session.name, description: `${session.turnCount} turns`, id: session.id })),
      { placeHolder },
    );
    return picked?.id;
  }

  private async compact(argument: unknown, options: CompactOptions): Promise<string | undefined> {
    const sessionId = await this.targetSession(argument, 'Session to compact');
    if (!sessionId) {
      return undefined;
    }
    const tier = options.tier ?? (await this.pickTier('Fidelity tier of the summary'));
    if (!tier) {
      return undefined;
    }
    const useModel = options.summarizer ? options.summarizer === 'model' : await this.pickSummarizer();
    if (useModel === undefined) {
      return undefined;
    }
    const params: CompactionPreviewParams = { sessionId, tier, defaultTier: this.settings().defaultTier, ...(options.range ? { range: options.range } : {}), ...(useModel ? { model: await this.modelChoice() } : {}) };
    let preview: CompactionPreviewResult;
    try {
      preview = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Context Ledger: preparing the compaction preview…' }, () => this.options.engine.request(CompactionRequests.preview, params));
    } catch (error) {
      const { code, message } = describeError(error);
      if (code === CompactionErrorCode.barrier) {
        void vscode.window.showWarningMessage(`Context Ledger: not compacted now. ${message}`);
        return undefined;
      }
      throw error;
    }
    const uri = await this.showPreview(preview);
    const { body } = preview;
    const confirmed =
      options.confirm === true ||
      (await vscode.window.showInformationMessage(
        `Compact turns ${body.range.firstTurn}–${body.range.lastTurn}?`,
        { modal: true, detail: `${body.tier}, by ${body.model}: ${body.summaryTokens.toLocaleString('en-US')} tokens in place of ${body.sourceTokens.toLocaleString('en-US')}. The turns stay in the log; Undo Last Compaction brings them back.${preview.note ? `\n${preview.note}` : ''}` },
        'Commit',
      )) === 'Commit';
    if (!confirmed) {
      this.previews.delete(uri.toString());
      return undefined;
    }
    try {
      const committed = await this.options.engine.request(CompactionRequests.commit, { sessionId, body });
      void vscode.window.showInformationMessage(`Context Ledger: turns ${body.range.firstTurn}–${body.range.lastTurn} compacted.`, 'Undo').then((choice) => {
        if (choice === 'Undo') {
          void vscode.commands.executeCommand(CompactionCommandId.undoCompaction, sessionId, committed.compactionId);
        }
      });
      return committed.compactionId;
    } catch (error) {
      const { code, message } = describeError(error);
      if (code === CompactionErrorCode.stale) {
        const choice = await vscode.window.showWarningMessage(`Context Ledger: ${message}`, 'Preview Again');
        return choice === 'Preview Again' ? this.compact(sessionId, { ...options, tier, summarizer: useModel ? 'model' : 'offline' }) : undefined;
      }
      throw error;
    }
  }

  private async showPreview(preview: CompactionPreviewResult): Promise<vscode.Uri> {
    const { body } = preview;
    const uri = vscode.Uri.from({ scheme: previewScheme, path: `/compaction-preview-${++this.previewCount}.md` });
    const text = [
      `# Compaction preview: turns ${body.range.firstTurn}–${body.range.lastTurn} of session ${preview.sessionId}`,
      '',
      `Tier ${body.tier}, summary by ${body.model}; ${body.summaryTokens.toLocaleString('en-US')} tokens in place of ${body.sourceTokens.toLocaleString('en-US')} (${preview.sourceEventCount} events, seq ${body.range.firstSeq}–${body.range.lastSeq}). Nothing is committed until you confirm.${preview.note ? ` ${preview.note}` : ''}`,
      '',
      'What will replace these turns in every request:',
      '',
      preview.messageText,
      '',
    ].join('\n');
    this.previews.set(uri.toString(), text);
    this.previewChanged.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: true, preserveFocus: true });
    return uri;
  }

  private async pickTier(placeHolder: string, withFull = false): Promise<CompactionTier | undefined> {
    const items: Array<vscode.QuickPickItem & { tier: CompactionTier }> = [
      { label: 'Balanced', description: 'decisions, constraints, questions, paths, identifiers, numbers and errors verbatim', tier: 'balanced' },
      { label: 'Aggressive', description: 'shortest; the artifact trail keeps files, commands and errors', tier: 'aggressive' },
      ...(withFull ? [{ label: 'Full', description: 'never compact this session', tier: 'full' as const }] : []),
    ];
    return (await vscode.window.showQuickPick(items, { placeHolder }))?.tier;
  }

  private async pickSummarizer(): Promise<boolean | undefined> {
    if (!(await this.options.hasApiKey())) {
      return false;
    }
    const choices = [
      { label: 'Claude writes the summary', description: 'uses your API key', model: true },
      { label: 'Offline extractive summary', description: 'no key, sentences kept verbatim', model: false },
    ];
    // contextLedger.compaction.compactor comes first (the memory panel starts from it too).
    const picked = await vscode.window.showQuickPick(configuredCompactor() === 'model' ? choices : choices.reverse(), { placeHolder: 'Who writes the summary' });
    return picked?.model;
  }

  private async modelChoice(): Promise<NonNullable<CompactionPreviewParams['model']>> {
    const { settings } = readChatSettings(settingReader(vscode.workspace.getConfiguration('contextLedger'), vscode.workspace.isTrusted));
    return { keyVersion: await this.options.engine.keyVersion(), settings: { model: settings.model, baseUrl: settings.baseUrl, maxTokens: settings.maxTokens, timeoutMs: settings.timeoutMs } };
  }

  private async undo(argument: unknown, compactionId: string | undefined): Promise<string | undefined> {
    const sessionId = await this.targetSession(argument, 'Session whose last compaction to undo');
    if (!sessionId) {
      return undefined;
    }
    const undone = await this.options.engine.request(CompactionRequests.undo, { sessionId, ...(compactionId ? { compactionId } : {}) });
    void vscode.window.showInformationMessage(`Context Ledger: turns ${undone.range.firstTurn}–${undone.range.lastTurn} go into requests as they were again.`);
    return undone.compactionId;
  }

  private async setTier(argument: unknown, tierArgument: unknown): Promise<CompactionTier | undefined> {
    const sessionId = await this.targetSession(argument, 'Session whose fidelity tier to set');
    if (!sessionId) {
      return undefined;
    }
    const tier = tierArgument === 'full' || tierArgument === 'balanced' || tierArgument === 'aggressive' ? tierArgument : await this.pickTier('Fidelity tier of this session', true);
    if (!tier) {
      return undefined;
    }
    await this.options.engine.request(CompactionRequests.setTier, { sessionId, tier });
    return tier;
  }
}
