import * as vscode from 'vscode';
import { memoryPanelViewType } from '../../shared/memoryPanelMessages';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { MemoryPanel } from './memoryPanel';

// "Open Memory Panel": one memory panel per window, in an editor tab, on the session a caller
// names (a Sessions row, the chat's title button) or the chat's session, else the newest.

export const MemoryCommandId = {
  openMemoryPanel: 'contextLedger.openMemoryPanel',
} as const;

export interface MemoryFeatureOptions {
  readonly engine: EngineClient;
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** The session the chat shows, if any. */
  readonly activeSessionId: () => string | null;
  /** An API key is set (the model compactor needs one). */
  readonly hasApiKey: () => Promise<boolean>;
  /** The command returns the panel (integration tests only; other extensions get nothing). */
  readonly exposeTestHooks?: boolean;
}

function sessionIdArgument(argument: unknown): string | undefined {
  if (typeof argument === 'string' && argument.length > 0) {
    return argument;
  }
  // A Sessions tree row passes its item ({ id }); the chat's title button passes a URI (ignored).
  return typeof argument === 'object' && argument !== null && typeof (argument as { id?: unknown }).id === 'string' ? (argument as { id: string }).id : undefined;
}

export class MemoryFeature extends Disposable {
  private panel: MemoryPanel | undefined;

  constructor(private readonly options: MemoryFeatureOptions) {
    super();
    this.register(
      vscode.commands.registerCommand(MemoryCommandId.openMemoryPanel, (argument?: unknown) => {
        const panel = this.open(sessionIdArgument(argument) ?? options.activeSessionId());
        return options.exposeTestHooks ? panel : undefined;
      }),
    );
    this.register(
      vscode.window.registerWebviewPanelSerializer(memoryPanelViewType, {
        deserializeWebviewPanel: async (panel) => {
          this.adopt(panel, options.activeSessionId());
        },
      }),
    );
    this.register({ dispose: () => this.panel?.dispose() });
  }

  /** The open panel (tests read it through the extension's API). */
  get current(): MemoryPanel | undefined {
    return this.panel;
  }

  open(sessionId: string | null): MemoryPanel {
    if (this.panel) {
      this.panel.show(sessionId);
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(memoryPanelViewType, 'Context Ledger Memory', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { enableScripts: true, retainContextWhenHidden: false, enableFindWidget: true });
    return this.adopt(panel, sessionId);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, sessionId: string | null): MemoryPanel {
    this.panel?.dispose();
    const panel = new MemoryPanel(webviewPanel, { engine: this.options.engine, extensionUri: this.options.extensionUri, log: this.options.log, hasApiKey: this.options.hasApiKey }, sessionId);
    this.panel = panel;
    panel.onDidDispose(() => {
      if (this.panel === panel) {
        this.panel = undefined;
      }
    });
    return panel;
  }
}
