import * as vscode from 'vscode';
import type { RequestType } from 'vscode-jsonrpc';
import { LanguageClient, State, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { AppendVerdict, LedgerStats, SessionSummary, VerifyReport } from '../core/ledger';
import { ChatNotifications, ChatRequests, type ChatProgressParams, type ChatSendParams, type ChatSendResult } from '../shared/chatProtocol';
import { EngineNotifications, EngineRequests, type EngineInfo, type EngineInitializationOptions, type ReadSessionParams, type ReadSessionResult, type StoreChangedParams } from '../shared/engineProtocol';
import { ApiKeySender, startEngineProcess, type EngineProcess } from './engineProcess';
import { Disposable } from './lifecycle';

/** A chat send as callers make it; the client adds the key version (see ApiKeySender). */
export type ChatSendRequest = Omit<ChatSendParams, 'keyVersion'>;

/** Where the engine's API key comes from, and when it changes. */
export interface ApiKeySource {
  resolveKey(): Promise<string | null>;
  readonly onDidChange: vscode.Event<void>;
}

/**
 * The extension's side of the engine process. We start the process (so it has a key channel
 * beside LSP, see engineProcess.ts); vscode-languageclient asks for a new one after a crash and
 * carries the typed requests; this class names them.
 */
export class EngineClient extends Disposable {
  private readonly client: LanguageClient;
  private readonly keys: ApiKeySender;
  private engineProcess: EngineProcess | undefined;
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
    apiKeys: ApiKeySource,
  ) {
    super();
    const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath;
    // An extension host being debugged gets a debuggable engine too.
    const inspecting = process.execArgv.some((arg) => /^--(inspect|debug)(-brk)?(=|$)/.test(arg));
    this.keys = new ApiKeySender(
      () => apiKeys.resolveKey(),
      (error) => outputChannel.warn(`the API key could not be read; the engine starts without one: ${error instanceof Error ? error.message : String(error)}`),
    );
    // Called at every (re)start, the restart after a crash included.
    const serverOptions: ServerOptions = async () => {
      const engine = startEngineProcess({
        module,
        execArgv: inspecting ? ['--nolazy', '--inspect=6019'] : [],
        onOutput: (line, stream) => (stream === 'stderr' ? outputChannel.error(line) : outputChannel.info(line)),
      });
      engine.child.on('exit', (code, signal) => {
        if (code !== 0) {
          outputChannel.warn(`engine process ${engine.child.pid ?? '?'} exited (${signal ?? `code ${code}`})`);
        }
      });
      this.engineProcess = engine;
      await this.keys.attach(engine.keyChannel);
      return { reader: engine.reader, writer: engine.writer };
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel,
      initializationOptions,
    };
    this.client = new LanguageClient('contextLedger', 'Context Ledger Engine', serverOptions, clientOptions);
    this.register(this.client.onNotification(EngineNotifications.storeChanged, (params) => this.changed.fire(params)));
    this.register(this.client.onNotification(ChatNotifications.progress, (params) => this.chatProgress.fire(params)));
    // A key set, changed or cleared (here or in another window) reaches the engine at once.
    this.register(apiKeys.onDidChange(() => void this.keys.sync().catch((error: unknown) => outputChannel.warn(`the API key could not be handed to the engine: ${String(error)}`))));
    this.register(
      this.client.onDidChangeState((event) => {
        if (event.newState === State.Running) {
          this.stateChanged.fire('running');
        } else if (event.newState === State.Stopped) {
          // The client asked it to exit; make sure it does (we started it, so it is ours to end).
          this.engineProcess?.stop();
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
  async chatSend(request: ChatSendRequest): Promise<ChatSendResult> {
    const keyVersion = await this.keys.sync();
    return this.client.sendRequest(ChatRequests.send, { ...request, keyVersion });
  }

  chatCancel(requestId: string): Promise<boolean> {
    return this.client.sendRequest(ChatRequests.cancel, { requestId });
  }


  /** A request declared in another capability's protocol file (e.g. src/shared/factsProtocol.ts). */
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    // The client's parameter type is conditional on P (RequestParam<P>), which tsc cannot resolve for a generic P.
    return this.client.sendRequest(type, params as P extends null ? P | undefined : P);
  }

  info(): Promise<EngineInfo> {
    return this.client.sendRequest(EngineRequests.info);
  }

  override dispose(): void {
    const engine = this.engineProcess;
    void this.client
      .dispose(2000)
      .catch(() => undefined)
      .finally(() => engine?.stop(0));
    super.dispose();
  }
}
