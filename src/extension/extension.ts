import * as vscode from 'vscode';
import type { LedgerStats, SessionSummary } from '../core/ledger';
import type { EngineInfo } from '../shared/engineProtocol';
import { ApiKeyStore } from './chat/apiKey';
import { ChatFeature, type ChatApi } from './chat/chatFeature';
import { ViewId } from './commandIds';
import { registerCommands } from './commands';
import { registerImportCommands } from './import/importCommands';
import { CompactionFeature } from './compactionCommands';
import { EngineClient } from './engineClient';
import { CommandId } from './commandIds';
import { FactsFeature } from './facts/factsFeature';
import { Disposable } from './lifecycle';
import { RetrievalFeature } from './retrieval/retrievalFeature';
import { SessionsTreeProvider } from './sessionsTree';
import { resolveStoreDir } from './storeLocation';
import { DriftFeature } from './drift/driftFeature';
import { engineDriftFactActions } from './drift/driftFactActions';
import { MemoryFeature } from './memory/memoryFeature';
import { McpFeature } from './mcp/mcpFeature';

/**
 * What activate() returns, only in ExtensionMode.Test (the integration tests): it sends chat
 * messages on the user's key and reads their sessions, so no other extension gets it.
 */
export interface ContextLedgerApi {
  readonly storeDir: string;
  listSessions(): Promise<readonly SessionSummary[]>;
  stats(): Promise<LedgerStats>;
  engineInfo(): Promise<EngineInfo>;
  readonly chat: ChatApi;
}

class ContextLedgerExtension extends Disposable {
  readonly output = this.register(vscode.window.createOutputChannel('Context Ledger', { log: true }));
  readonly engine: EngineClient;
  readonly storeDir: string;
  readonly chat: ChatFeature;

  constructor(context: vscode.ExtensionContext) {
    super();
    this.storeDir = resolveStoreDir(context);
    const configuration = vscode.workspace.getConfiguration('contextLedger');
    const keys = this.register(new ApiKeyStore(context.secrets));
    this.engine = this.register(
      new EngineClient(
        context,
        this.output,
        () => ({
          storeDir: this.storeDir,
          wasmPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath,
          snapshotEveryEvents: configuration.get<number>('snapshotEveryEvents', 5000),
          workspaceFolder: trustedWorkspaceFolder(),
        }),
        keys,
      ),
    );
    const sessions = this.register(new SessionsTreeProvider(this.engine, (message) => this.output.error(message)));
    sessions.attach(this.register(vscode.window.createTreeView(ViewId.sessions, { treeDataProvider: sessions, showCollapseAll: false })));
    this.chat = this.register(new ChatFeature({ context, engine: this.engine, keys, log: this.output, exposeTestHooks: exposesTestHooks(context.extensionMode) }));
    this.register(this.chat.onDidChangeActiveSession((sessionId) => sessions.setActiveSession(sessionId)));
    this.register(new CompactionFeature({ engine: this.engine, activeSessionId: () => this.chat.activeSessionId, hasApiKey: async () => (await keys.resolveKey()) !== null, output: this.output }));
    this.register(new RetrievalFeature(this.engine, this.output));
    for (const disposable of registerCommands({ engine: this.engine, sessions, output: this.output, chat: this.chat })) {
      this.register(disposable);
    }
    registerImportCommands({ engine: this.engine, output: this.output }).forEach((disposable) => this.register(disposable));
    this.register(new DriftFeature({ engine: this.engine, log: this.output, facts: engineDriftFactActions(this.engine) }));
    this.register(new FactsFeature(this.engine, this.output));
    this.register(new MemoryFeature({ engine: this.engine, extensionUri: context.extensionUri, log: this.output, activeSessionId: () => this.chat.activeSessionId, hasApiKey: async () => (await keys.resolveKey()) !== null, exposeTestHooks: exposesTestHooks(context.extensionMode) }));
    this.register(new McpFeature({ context, engine: this.engine, storeDir: this.storeDir, log: this.output }));
    // Trust granted later gives the model's tools the folder: restart the engine with it.
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.engine.restart()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('contextLedger.storePath') || event.affectsConfiguration('contextLedger.snapshotEveryEvents')) {
          void vscode.window.showInformationMessage('Context Ledger: reload the window to use the new store settings.', 'Reload Window').then((choice) => {
            if (choice) {
              void vscode.commands.executeCommand('workbench.action.reloadWindow');
            }
          });
        }
      }),
    );
  }

  api(): ContextLedgerApi {
    return {
      storeDir: this.storeDir,
      listSessions: () => this.engine.listSessions(),
      stats: () => this.engine.stats(),
      engineInfo: () => this.engine.info(),
      chat: this.chat.api(),
    };
  }
}

/**
 * Test hooks (the API, the chat panel handle from Open Chat) only for the integration tests:
 * VS Code runs an extension in Test mode only when it is under development with an
 * extensionTestsPath, which both test runners give.
 */
export function exposesTestHooks(mode: vscode.ExtensionMode): boolean {
  return mode === vscode.ExtensionMode.Test;
}

/** The folder the model's read-only tools may read: only in a trusted, local workspace. */
function trustedWorkspaceFolder(): string | null {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return vscode.workspace.isTrusted && folder?.uri.scheme === 'file' ? folder.uri.fsPath : null;
}

export async function activate(context: vscode.ExtensionContext): Promise<ContextLedgerApi | undefined> {
  try {
    const extension = new ContextLedgerExtension(context);
    context.subscriptions.push(extension);
    extension.output.info(`store folder: ${extension.storeDir}`);
    await extension.engine.start();
    const info = await extension.engine.info();
    if (info.openError) {
      extension.output.error(`the store could not be opened: ${info.openError}`);
      const actions = info.openErrorRepairable ? ['Repair Store', 'Show Engine Log'] : ['Show Engine Log'];
      void vscode.window.showErrorMessage(`Context Ledger: the store could not be opened: ${info.openError}`, ...actions).then((choice) => {
        if (choice === 'Repair Store') {
          void vscode.commands.executeCommand(CommandId.repairStore);
        } else if (choice) {
          extension.output.show(true);
        }
      });
    }
    return exposesTestHooks(context.extensionMode) ? extension.api() : undefined;
  } catch (error) {
    // VS Code shows nothing when activation throws; say what happened.
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Context Ledger could not start: ${message}`);
    return undefined;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
