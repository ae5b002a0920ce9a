import * as vscode from 'vscode';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { AppendVerdict, LedgerStats, SessionSummary, VerifyReport } from '../core/ledger';
import { ChatNotifications, ChatRequests, type ChatProgressParams, type ChatSendParams, type ChatSendResult } from '../shared/chatProtocol';
import { EngineNotifications, EngineRequests, type EngineInfo, type EngineInitializationOptions, type ReadSessionParams, type ReadSessionResult, type StoreChangedParams } from '../shared/engineProtocol';
import { Disposable } from './lifecycle';

/**
 * The extension's side of the engine process. vscode-languageclient starts it, restarts it after
 * a crash, and carries the typed requests; this class only names them.
 */
export class EngineClient extends Disposable {
  private readonly client: LanguageClient;
  private readonly changed = this.register(new vscode.EventEmitter<StoreChangedParams>());
  private readonly stateChanged = this.register(new vscode.EventEmitter<'running' | 'stopped'>());
  private readonly chatProgress = this.register(new vscode.EventEmitter<ChatProgressParams>());
  readonly onDidChangeStore = this.changed.event;
  readonly onDidChangeState = this.stateChanged.event;
  /** Streaming progress of chat sends, keyed by the requestId the caller chose. */
  readonly onChatProgress = this.chatProgress.event;

  constructor(
    context: vscode.ExtensionContext,
    outputChannel: vscode.LogOutputChannel,
    /** Evaluated at every (re)start, so a restart picks up e.g. newly granted workspace trust. */
    initializationOptions: () => EngineInitializationOptions,
  ) {
    super();
    const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel,
      initializationOptions,
    };
    this.client = new LanguageClient('contextLedger', 'Context Ledger Engine', serverOptions, clientOptions);
    this.register(this.client.onNotification(EngineNotifications.storeChanged, (params) => this.changed.fire(params)));
    this.register(this.client.onNotification(ChatNotifications.progress, (params) => this.chatProgress.fire(params)));
    this.register(
      this.client.onDidChangeState((event) => {
        if (event.newState === State.Running) {
          this.stateChanged.fire('running');
        } else if (event.newState === State.Stopped) {
          this.stateChanged.fire('stopped');
        }
      }),
    );
  }

  start(): Promise<void> {
    return this.client.start();
  }

  restart(): Promise<void> {
    return this.client.restart();
  }

  get isRunning(): boolean {
    return this.client.state === State.Running;
  }

  append(events: readonly unknown[]): Promise<readonly AppendVerdict[]> {
    return this.client.sendRequest(EngineRequests.append, { events }).then((result) => result.verdicts);
  }

  listSessions(): Promise<readonly SessionSummary[]> {
    return this.client.sendRequest(EngineRequests.listSessions);
  }

  readSession(params: ReadSessionParams): Promise<ReadSessionResult> {
    return this.client.sendRequest(EngineRequests.readSession, params);
  }

  stats(): Promise<LedgerStats> {
    return this.client.sendRequest(EngineRequests.stats);
  }

  verify(): Promise<VerifyReport> {
    return this.client.sendRequest(EngineRequests.verify);
  }


  /** Sends a chat turn; resolves when the turn is over (complete, cut, cancelled or failed). */
  chatSend(params: ChatSendParams): Promise<ChatSendResult> {
    return this.client.sendRequest(ChatRequests.send, params);
  }

  chatCancel(requestId: string): Promise<boolean> {
    return this.client.sendRequest(ChatRequests.cancel, { requestId });
  }


  info(): Promise<EngineInfo> {
    return this.client.sendRequest(EngineRequests.info);
  }

  override dispose(): void {
    void this.client.dispose(2000).catch(() => undefined);
    super.dispose();
  }
}
