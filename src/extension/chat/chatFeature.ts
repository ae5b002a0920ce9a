import * as vscode from 'vscode';
import type { ContextReceipt } from '../../core/context/contextTypes';
import { receiptLines } from '../../core/report/receiptReport';
import { chatPanelViewType, parseViewState, type ChatViewState, type HostMessage, type PanelCommand } from '../../shared/chatPanelMessages';
import { ChatCommandId, ViewId } from '../commandIds';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { ActiveChat } from './activeChat';
import type { ApiKeyStore } from './apiKey';
import { BudgetGauge } from './budgetGauge';
import { editorHost, sideBarHost, type ChatHost } from './chatHosts';
import { ChatPanel, webviewOptions } from './chatPanel';
import { readChatSettings, settingReader, windowLabel, type ResolvedChatSettings } from './chatSettings';
import { openWorkspaceFile } from './openFile';

/** The chat panel as the integration tests drive it (through the extension's API). */
export interface ChatPanelHandle {
  readonly isReady: boolean;
  readonly currentSessionId: string | null;
  readonly posted: readonly HostMessage[];
  readonly rejectedCount: number;
  readonly onDidPost: vscode.Event<HostMessage>;
  whenReady(): Promise<void>;
  /** Handles a message as if the webview had posted it; false = rejected as malformed. */
  receive(message: unknown): boolean;
}

export interface ChatApi {
  /** The chat open in an editor tab, if any. */
  panel(): ChatPanelHandle | undefined;
  /** The side-bar chat view's controller, once VS Code has shown the view. */
  view(): ChatPanelHandle | undefined;
  /** What the status bar gauge shows, and whether it is in warning colours. */
  gauge(): { readonly text: string; readonly warning: boolean };
  activeSession(): { readonly sessionId: string | null; readonly receipt: ContextReceipt | null };
  /** The settings a send would use now. */
  settings(): ResolvedChatSettings;
}

export interface ChatFeatureOptions {
  readonly context: vscode.ExtensionContext;
  readonly engine: EngineClient;
  readonly keys: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
  /**
   * Whether commands return the panel handle and the receipt (for the integration tests). Any
   * extension can run our commands; outside ExtensionMode.Test they return nothing of the chat.
   */
  readonly exposeTestHooks: boolean;
}

/**
 * The chat: its side-bar view and its editor tab (one each; both run the same controller and
 * webview; the tab is restored after a reload by a serializer), the API key commands, "New
 * Topic", "Show Context Receipt" and the status bar gauge.
 */
export class ChatFeature extends Disposable {
  private readonly keys: ApiKeyStore;
  private readonly activeChat = this.register(new ActiveChat());
  private readonly gauge: BudgetGauge;
  private panel: ChatPanel | undefined;
  private view: ChatPanel | undefined;
  /** The chat the user turned to last: where a session picked in the tree opens. */
  private lastFocused: ChatPanel | undefined;
  /** What the side-bar view shows when VS Code resolves it (a session opened before that). */
  private pendingViewState: ChatViewState | undefined;
  private viewWaiters: Array<(view: ChatPanel) => void> = [];
  private lastTextEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private warnedSettings = '';

  constructor(private readonly options: ChatFeatureOptions) {
    super();
    this.keys = options.keys;
    this.gauge = this.register(new BudgetGauge(this.activeChat));
    this.register(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        // While the chat panel has focus there is no active text editor: keep the last one.
        if (editor) {
          this.lastTextEditor = editor;
        }
      }),
    );
    this.register(
      vscode.window.registerWebviewPanelSerializer(chatPanelViewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          this.adopt(panel, parseViewState(state));
        },
      }),
    );
    this.register(
      vscode.window.registerWebviewViewProvider(
        ViewId.chat,
        { resolveWebviewView: (view, context) => void this.adoptView(view, this.pendingViewState ?? parseViewState(context.state)) },
        { webviewOptions: { retainContextWhenHidden: false } },
      ),
    );
    const commands: Record<(typeof ChatCommandId)[keyof typeof ChatCommandId], (...args: unknown[]) => Promise<unknown>> = {
      [ChatCommandId.openChat]: async () => this.testHook(await this.open()),
      [ChatCommandId.openChatInSideBar]: async () => this.testHook(await this.openInSideBar()),
      [ChatCommandId.setApiKey]: async () => this.keys.promptAndStore().then((stored) => {
        if (stored) {
          void vscode.window.showInformationMessage('Context Ledger: API key stored in SecretStorage.');
        }
        return stored;
      }),
      [ChatCommandId.clearApiKey]: async () => this.clearApiKey(),
      [ChatCommandId.newTopic]: async (label?: unknown) => this.newTopic(typeof label === 'string' ? label : undefined),
      [ChatCommandId.showContextReceipt]: async () => this.testHook(await this.showContextReceipt()),
    };
    // A refused base URL is not used (requests go to the Anthropic API): say so where it shows.
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('contextLedger.baseUrl')) {
          this.warnIfBaseUrlRefused();
        }
      }),
    );
    this.warnIfBaseUrlRefused();
    for (const [id, run] of Object.entries(commands)) {
      this.register(
        vscode.commands.registerCommand(id, async (...args: unknown[]) => {
          try {
            return await run(...args);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            options.log.error(`[${id}] ${message}`);
            void vscode.window.showErrorMessage(`Context Ledger: ${message}`);
            return undefined;
          }
        }),
      );
    }
  }

  private testHook<T>(value: T): T | undefined {
    return this.options.exposeTestHooks ? value : undefined;
  }

  api(): ChatApi {
    return {
      panel: () => this.panel,
      view: () => this.view,
      gauge: () => ({ text: this.gauge.text, warning: this.gauge.warning }),
      activeSession: () => ({ sessionId: this.activeChat.state.sessionId, receipt: this.activeChat.state.receipt }),
      settings: () => this.readSettings(),
    };
  }

  /** Opens the chat in an editor tab (or reveals it) and focuses its composer. */
  private async open(): Promise<ChatPanelHandle> {
    if (this.panel) {
      this.panel.reveal();
      this.panel.focusComposer();
      return this.panel;
    }
    return this.adopt(this.createPanel(), { sessionId: this.activeChat.state.sessionId, draft: '' });
  }

  /** Shows the side-bar chat view and focuses its composer. */
  private async openInSideBar(): Promise<ChatPanelHandle> {
    const view = await this.revealView();
    view.focusComposer();
    return view;
  }

  /**
   * Shows a session in the chat the user turned to last (the side-bar view if that is none or
   * was closed): what a click in the Sessions tree and New Session do.
   */
  async openSession(sessionId: string | null): Promise<ChatPanelHandle> {
    const target = this.lastFocused === this.panel && this.panel ? this.panel : undefined;
    if (target) {
      await target.showSession(sessionId);
      target.reveal();
      return target;
    }
    if (!this.view) {
      this.pendingViewState = { sessionId, draft: '' };
    }
    const view = await this.revealView();
    this.pendingViewState = undefined;
    await view.showSession(sessionId);
    return view;
  }

  /** The session the chat in use shows (the Sessions tree marks it). */
  get onDidChangeActiveSession(): vscode.Event<string | null> {
    return (listener, thisArgs, disposables) =>
      this.activeChat.onDidChange(
        (state) => {
          listener.call(thisArgs, state.sessionId);
        },
        undefined,
        disposables,
      );
  }

  get activeSessionId(): string | null {
    return this.activeChat.state.sessionId;
  }

  /** Renamed from the Sessions tree: the chats showing it say so, as after their own Rename. */
  sessionRenamed(sessionId: string, name: string, eventId: string): void {
    this.activeChat.rename(sessionId, name);
    for (const chat of [this.panel, this.view]) {
      chat?.showAppended(sessionId, [{ kind: 'renamed', eventId, name }]);
    }
  }

  /** A session was hidden (deleted from the tree): chats showing it turn to a new chat. */
  async sessionHidden(sessionId: string): Promise<void> {
    for (const chat of [this.panel, this.view]) {
      if (chat?.currentSessionId === sessionId) {
        await chat.showSession(null);
      }
    }
  }

  private async revealView(): Promise<ChatPanel> {
    if (this.view) {
      this.view.reveal();
      return this.view;
    }
    const resolved = new Promise<ChatPanel>((resolve) => this.viewWaiters.push(resolve));
    // VS Code makes `<view id>.focus` for every contributed view; it resolves the view on show.
    await vscode.commands.executeCommand(`${ViewId.chat}.focus`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the side-bar chat did not open (is the Context Ledger view hidden?)')), 15_000);
    });
    try {
      return await Promise.race([resolved, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private createPanel(): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(
      chatPanelViewType,
      'Context Ledger Chat',
      // Beside the file being edited, so answers and the code they are about are both in view.
      { viewColumn: vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: false },
      // State survives hiding through getState/setState and the controller, not a live iframe.
      { ...webviewOptions(this.options.context.extensionUri), enableFindWidget: true, retainContextWhenHidden: false },
    );
  }

  private adopt(webviewPanel: vscode.WebviewPanel, state: ChatViewState): ChatPanel {
    // One chat tab at a time: a second restored one (two saved in a layout) replaces the first.
    this.panel?.host.close();
    const panel = this.controller(editorHost(webviewPanel, vscode.Uri.joinPath(this.options.context.extensionUri, 'media', 'ledger.svg')), state);
    this.panel = panel;
    panel.onDidDispose(() => {
      if (this.panel === panel) {
        this.panel = undefined;
      }
    });
    return panel;
  }

  private adoptView(webviewView: vscode.WebviewView, state: ChatViewState): ChatPanel {
    this.view?.dispose();
    const view = this.controller(sideBarHost(webviewView), state);
    this.view = view;
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
      }
    });
    for (const resolve of this.viewWaiters.splice(0)) {
      resolve(view);
    }
    return view;
  }

  private controller(host: ChatHost, state: ChatViewState): ChatPanel {
    const chat = new ChatPanel(
      host,
      {
        engine: this.options.engine,
        keys: this.keys,
        activeChat: this.activeChat,
        extensionUri: this.options.context.extensionUri,
        log: this.options.log,
        readSettings: () => this.readSettings(),
        insertCode: (code) => this.insertCode(code, host),
        openFile: (path, line) => openWorkspaceFile(path, host, line),
        runCommand: (command) => this.runPanelCommand(command),
      },
      state,
    );
    this.lastFocused = chat;
    chat.onDidFocus(() => (this.lastFocused = chat));
    chat.onDidDispose(() => {
      if (this.lastFocused === chat) {
        this.lastFocused = undefined;
      }
    });
    return chat;
  }

  private readSettings(): ResolvedChatSettings {
    const configuration = vscode.workspace.getConfiguration('contextLedger');
    // An untrusted workspace's own values of the restricted settings are not used.
    const resolved = readChatSettings(settingReader(configuration, vscode.workspace.isTrusted));
    const problems = resolved.problems.join('; ');
    if (problems && problems !== this.warnedSettings) {
      this.options.log.warn(`chat settings: ${problems}`);
    }
    this.warnedSettings = problems;
    return resolved;
  }

  private warnIfBaseUrlRefused(): void {
    const problem = this.readSettings().problems.find((text) => text.startsWith('contextLedger.baseUrl'));
    if (problem) {
      void vscode.window.showWarningMessage(`Context Ledger: ${problem}.`, 'Open Settings').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'contextLedger.baseUrl');
        }
      });
    }
  }

  private async insertCode(code: string, host: ChatHost): Promise<string | null> {
    const editor = this.lastTextEditor;
    if (!editor || editor.document.isClosed) {
      return 'Open a file in an editor first: the code goes at its cursor.';
    }
    const selections = editor.selections;
    const visible = vscode.window.visibleTextEditors.find((candidate) => candidate.document === editor.document);
    // Keep the focus in the chat (Insert is clicked there) and the chat in view: a file behind
    // the chat's own tab opens beside it rather than over it.
    const viewColumn = visible?.viewColumn ?? (host.kind === 'editor' ? vscode.ViewColumn.Beside : editor.viewColumn);
    const shown = await vscode.window.showTextDocument(editor.document, { viewColumn, preserveFocus: true, preview: false });
    const applied = await shown.edit((edit) => {
      for (const selection of visible ? shown.selections : selections) {
        edit.replace(selection, code);
      }
    });
    return applied ? null : 'The editor did not accept the edit (is it read-only?).';
  }

  private async runPanelCommand(command: PanelCommand): Promise<void> {
    switch (command) {
      case 'setApiKey':
        await vscode.commands.executeCommand(ChatCommandId.setApiKey);
        return;
      case 'clearApiKey':
        await vscode.commands.executeCommand(ChatCommandId.clearApiKey);
        return;
      case 'newTopic':
        await vscode.commands.executeCommand(ChatCommandId.newTopic);
        return;
      case 'openSettings':
        await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:context-ledger.context-ledger');
        return;
      case 'showEngineLog':
        this.options.log.show(true);
        return;
    }
  }

  private async clearApiKey(): Promise<boolean> {
    await this.keys.clear();
    const { source } = await this.keys.resolve();
    void vscode.window.showInformationMessage(
      source === 'environment'
        ? 'Context Ledger: the stored API key was removed; ANTHROPIC_API_KEY from the environment is used now.'
        : 'Context Ledger: the stored API key was removed.',
    );
    return true;
  }

  /** Appends a topic boundary to the active session: session windows start afresh after it. */
  private async newTopic(label: string | undefined): Promise<string | undefined> {
    const sessionId = this.activeChat.state.sessionId;
    if (!sessionId) {
      void vscode.window.showInformationMessage('Context Ledger: open a chat session first (Context Ledger: Open Chat); a new topic starts in it.');
      return undefined;
    }
    const trimmed = label?.trim().slice(0, 200);
    const [verdict] = await this.options.engine.append([{ kind: 'topic.boundary', sessionId, body: trimmed ? { label: trimmed } : {} }]);
    if (verdict?.status !== 'appended') {
      throw new Error(`the topic boundary was not logged: ${verdict?.status === 'conflict' ? verdict.reason : 'unexpected verdict'}`);
    }
    for (const chat of [this.panel, this.view]) {
      chat?.showAppended(sessionId, [{ kind: 'topic', eventId: verdict.id, label: trimmed || null }]);
    }
    const { window } = this.readSettings().settings;
    if (window.kind === 'session') {
      void vscode.window.setStatusBarMessage('$(debug-step-over) Context Ledger: new topic', 3000);
    } else {
      // Only a session window starts afresh at a topic: say so, and offer it.
      void vscode.window
        .showInformationMessage(
          `Context Ledger: new topic logged. Your window (${windowLabel(window)}) ignores topics, so the next request still sends what it did; a session window starts afresh here.`,
          'Use Session Window',
        )
        .then(async (choice) => {
          if (choice) {
            const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
            await vscode.workspace.getConfiguration('contextLedger').update('window.kind', 'session', target);
          }
        });
    }
    return verdict.id;
  }

  /** Shows the newest receipt of the active session, expanded, in the chat panel. */
  private async showContextReceipt(): Promise<ContextReceipt | undefined> {
    const { receipt } = this.activeChat.state;
    if (!receipt) {
      void vscode.window.showInformationMessage('Context Ledger: no context receipt yet. Send a message in the chat; each answer gets one.');
      return undefined;
    }
    // The same receipt as text, as the CLI prints it, for copying into a bug report.
    this.options.log.info(`--- Context receipt ---\n${receiptLines(receipt).join('\n')}`);
    // In the chat that shows the session (the one the user turned to last), else a new tab.
    const panel = [this.lastFocused, this.view, this.panel].find((chat) => chat?.currentSessionId === this.activeChat.state.sessionId) ?? this.adopt(this.createPanel(), { sessionId: this.activeChat.state.sessionId, draft: '' });
    panel.reveal();
    const ready = await Promise.race([panel.whenReady().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
    if (ready) {
      panel.revealReceipt();
    }
    return receipt;
  }
}
