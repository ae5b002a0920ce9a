import * as vscode from 'vscode';
import { CompactionErrorCode, CompactionRequests } from '../../shared/compactionProtocol';
import { MemoryRequests } from '../../shared/memoryPanelProtocol';
import { parseMemoryWebviewMessage, type MemoryCompactorSetting, type MemoryHostMessage, type MemoryPanelCommand, type MemoryReplyError, type MemorySessionItem, type MemoryWebviewMessage } from '../../shared/memoryPanelMessages';
import { readChatSettings, settingReader } from '../chat/chatSettings';
import { ChatCommandId, ImportCommandId } from '../commandIds';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { configuredCompactor, modelChoiceOf } from './compactorSetting';
import { memoryHtml } from './memoryHtml';
import { MemoryPreviews, NoApiKeyError } from './memoryPreviews';

// The controller of the memory panel (an editor webview). It parses every message the webview
// posts before acting, asks the engine (the memory and compaction requests), and keeps the
// previews itself: the webview names a preview by id, so a commit sends exactly the body the
// engine previewed, never one the webview made up.

export interface MemoryPanelServices {
  readonly engine: EngineClient;
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** An API key is set (a model compaction needs one). */
  readonly hasApiKey: () => Promise<boolean>;
}

const commandIds: Record<MemoryPanelCommand, string> = {
  importClaudeCode: ImportCommandId.importClaudeCode,
  openChat: ChatCommandId.openChat,
  setApiKey: ChatCommandId.setApiKey,
};
const maxPosted = 500;

function errorOf(error: unknown): MemoryReplyError {
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const reason =
    error instanceof NoApiKeyError ? 'noKey' : code === CompactionErrorCode.stale ? 'stale' : code === CompactionErrorCode.barrier ? 'barrier' : code === CompactionErrorCode.invalid ? 'invalid' : code === CompactionErrorCode.model ? 'model' : 'other';
  return { message, reason };
}

export class MemoryPanel extends Disposable {
  private ready = false;
  private rejected = 0;
  private disposing = false;
  private readonly postedLog: MemoryHostMessage[] = [];
  private sessionId: string | null;
  private readonly previews: MemoryPreviews;
  private readonly disposedEmitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly services: MemoryPanelServices,
    sessionId: string | null,
  ) {
    super();
    this.sessionId = sessionId;
    panel.webview.options = {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(services.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(services.extensionUri, 'media')],
    };
    panel.webview.html = memoryHtml(panel.webview, services.extensionUri);
    this.register(panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)));
    this.register(panel.onDidChangeViewState(() => !panel.visible && (this.ready = false)));
    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(services.engine.onDidChangeStore(({ sessionIds }) => this.post({ type: 'storeChanged', sessionIds })));
    this.register(vscode.workspace.onDidChangeConfiguration((event) => (event.affectsConfiguration('contextLedger.compaction.compactor') || event.affectsConfiguration('contextLedger.model')) && this.post({ type: 'compactor', compactor: this.compactorSetting() })));
    const { engine } = services;
    this.previews = new MemoryPreviews(
      {
        preview: (params) => engine.request(CompactionRequests.preview, params),
        compare: (params) => engine.request(MemoryRequests.compare, params),
        commit: (params) => engine.request(CompactionRequests.commit, params),
      },
      { configured: configuredCompactor, hasApiKey: services.hasApiKey, modelChoice: () => modelChoiceOf(engine) },
    );
  }

  private compactorSetting(): MemoryCompactorSetting {
    const { settings } = readChatSettings(settingReader(vscode.workspace.getConfiguration('contextLedger'), vscode.workspace.isTrusted));
    return { compactor: configuredCompactor(), model: settings.model };
  }

  override dispose(): void {
    if (!this.disposing) {
      this.disposing = true;
      this.disposedEmitter.fire();
      this.panel.dispose();
    }
    super.dispose();
  }

  /** The newest messages posted to the webview (tests read them). */
  get posted(): readonly MemoryHostMessage[] {
    return this.postedLog;
  }

  /** How many malformed webview messages were dropped. */
  get rejectedCount(): number {
    return this.rejected;
  }

  show(sessionId: string | null): void {
    this.panel.reveal();
    if (sessionId) {
      this.sessionId = sessionId;
      this.post({ type: 'showSession', sessionId });
    }
  }

  /** Handles a webview message; a malformed one is logged and goes no further. */
  receive(raw: unknown): boolean {
    const parsed = parseMemoryWebviewMessage(raw);
    if (!parsed.ok) {
      this.rejected++;
      this.services.log.warn(`memory panel: ignored a malformed message from the webview: ${parsed.problem}`);
      return false;
    }
    const message = parsed.value;
    if (message.type === 'ready') {
      this.ready = true;
      void this.init();
      return true;
    }
    this.answer(message).then(
      (value) => this.post({ type: 'reply', requestId: message.requestId, ok: true, value }),
      (error: unknown) => {
        const reply = errorOf(error);
        if (reply.reason === 'other') {
          this.services.log.error(`memory panel: ${message.type} failed: ${reply.message}`);
        }
        this.post({ type: 'reply', requestId: message.requestId, ok: false, error: reply });
      },
    );
    return true;
  }

  private async sessions(): Promise<MemorySessionItem[]> {
    const sessions = await this.services.engine.listSessions();
    return sessions.filter((session) => !session.hidden).map(({ id, name, eventCount, turnCount }) => ({ id, name, eventCount, turnCount }));
  }

  private async init(): Promise<void> {
    try {
      const sessions = await this.sessions();
      const sessionId = this.sessionId && sessions.some((session) => session.id === this.sessionId) ? this.sessionId : (sessions[0]?.id ?? null);
      this.post({ type: 'init', sessions, sessionId, compactor: this.compactorSetting() });
    } catch (error) {
      this.services.log.error(`memory panel: the sessions could not be read: ${errorOf(error).message}`);
      this.post({ type: 'init', sessions: [], sessionId: null });
    }
  }

  private async answer(message: Exclude<MemoryWebviewMessage, { type: 'ready' }>): Promise<unknown> {
    const { engine } = this.services;
    switch (message.type) {
      case 'sessions':
        return this.sessions();
      case 'overview':
        this.sessionId = message.sessionId;
        return engine.request(MemoryRequests.overview, { sessionId: message.sessionId });
      case 'page':
        return engine.request(MemoryRequests.page, { sessionId: message.sessionId, fromSeq: message.fromSeq });
      case 'growth':
        return engine.request(MemoryRequests.growth, { sessionId: message.sessionId });
      case 'search':
        return engine.request(MemoryRequests.search, { sessionId: message.sessionId, query: message.query });
      case 'health':
        return engine.request(MemoryRequests.health, { sessionId: message.sessionId });
      case 'preview':
        return this.previews.preview(message);
      case 'commit':
        return this.previews.commit(message.previewId);
      case 'cancelPreview':
        this.previews.cancel(message.previewId);
        return null;
      case 'undo': {
        const result = await engine.request(CompactionRequests.undo, { sessionId: message.sessionId, compactionId: message.compactionId });
        return { compactionId: result.compactionId, message: `Compaction of turns ${result.range.firstTurn}–${result.range.lastTurn} undone: they go into requests as they were.` };
      }
      case 'runCommand':
        void vscode.commands.executeCommand(commandIds[message.command]);
        return null;
    }
  }

  private post(message: MemoryHostMessage): void {
    if (!this.ready) {
      return; // `init` carries the state when the webview (re)loads.
    }
    this.postedLog.push(message);
    this.postedLog.splice(0, Math.max(0, this.postedLog.length - maxPosted));
    void this.panel.webview.postMessage(message).then(undefined, (error: unknown) => this.services.log.warn(`memory panel: a message was not delivered: ${String(error)}`));
  }
}
