import * as path from 'node:path';
import * as vscode from 'vscode';
import { hitSummary, RetrievalNotifications, RetrievalRequests, type FileChange, type IndexProgress, type RetrievalConfiguration, type RetrievalHit } from '../../shared/retrievalProtocol';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { RetrievalCommandId } from './retrievalCommandIds';

// The extension's side of the retrieval cache, thin: it forwards file events and unsaved edits
// to the engine (which owns the index), runs the first index with a cancellable progress, and
// offers the three commands. The engine checks every hit against the file anyway, so a lost
// event here costs nothing but a re-chunk at read time.

const batchMs = 100;
const unsavedEditMs = 300;
const defaultMaxFileBytes = 512 * 1024;
/** The automatic index shows its progress once it has read this many files, or run this long. */
const quietReadFiles = 200;
const quietMs = 2000;

export class RetrievalFeature extends Disposable {
  private pendingChanges = new Map<string, FileChange>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly unsavedTimers = new Map<string, NodeJS.Timeout>();
  private indexing: vscode.CancellationTokenSource | undefined;
  private progressListeners = new Set<(progress: IndexProgress) => void>();

  constructor(
    private readonly engine: EngineClient,
    private readonly output: vscode.LogOutputChannel,
  ) {
    super();
    this.register(engine.onNotification(RetrievalNotifications.progress, (progress) => this.progressListeners.forEach((listener) => listener(progress))));
    const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*'));
    this.register(watcher.onDidCreate((uri) => this.queue(uri, 'created')));
    this.register(watcher.onDidChange((uri) => this.queue(uri, 'changed')));
    this.register(watcher.onDidDelete((uri) => this.queue(uri, 'deleted')));
    this.register(vscode.workspace.onDidChangeTextDocument((event) => this.unsavedEdit(event.document)));
    this.register(vscode.workspace.onDidSaveTextDocument((document) => this.queue(document.uri, 'closed')));
    this.register(vscode.workspace.onDidCloseTextDocument((document) => this.queue(document.uri, 'closed')));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('files.exclude') || event.affectsConfiguration('contextLedger.retrieval')) {
          void this.reindex(false);
        }
      }),
    );
    this.register(engine.onDidChangeState((state) => state === 'running' && void this.reindex(false)));
    this.register({ dispose: () => this.disposeTimers() });
    this.register(vscode.commands.registerCommand(RetrievalCommandId.reindexWorkspace, () => this.reindex(true)));
    this.register(vscode.commands.registerCommand(RetrievalCommandId.searchMemory, (query?: unknown) => this.searchMemory(typeof query === 'string' ? query : undefined)));
    this.register(vscode.commands.registerCommand(RetrievalCommandId.showRetrievalStats, () => this.showStats()));
  }

  private folder(): vscode.WorkspaceFolder | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return vscode.workspace.isTrusted && folder?.uri.scheme === 'file' ? folder : undefined;
  }

  private configuration(): RetrievalConfiguration {
    const filesExclude = vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude') ?? {};
    const own = vscode.workspace.getConfiguration('contextLedger').get<unknown>('retrieval.exclude');
    const ownGlobs = Array.isArray(own) ? own.filter((glob): glob is string => typeof glob === 'string') : [];
    return { excludeGlobs: [...Object.keys(filesExclude).filter((glob) => filesExclude[glob] === true), ...ownGlobs], maxFileBytes: defaultMaxFileBytes };
  }

  /**
   * Indexes the folder; the engine re-checks only what changed since the saved index. Reindex
   * Workspace shows its cancellable progress at once; the automatic index at engine start shows
   * it only when there is real work (many files to read, or a check that takes a while), so a
   * reopened workspace whose saved index is reused opens quietly.
   */
  async reindex(rebuild: boolean): Promise<boolean> {
    if (!this.folder()) {
      if (rebuild) {
        void vscode.window.showInformationMessage('Context Ledger: open a trusted local folder to index it.');
      }
      return false;
    }
    this.indexing?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.indexing = source;
    const title = rebuild ? 'Context Ledger: reindexing the workspace' : 'Context Ledger: indexing the workspace';
    let latest: IndexProgress | undefined;
    let report: ((update: IndexProgress) => void) | undefined;
    let shown = false;
    const running = this.engine.request(RetrievalRequests.index, { configuration: this.configuration(), ...(rebuild ? { rebuild } : {}) }, source.token);
    const show = (): void => {
      if (shown || source.token.isCancellationRequested) {
        return;
      }
      shown = true;
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => source.cancel());
        report = (update) => progress.report({ message: `${update.filesSeen.toLocaleString('en-US')} files checked, ${update.filesIndexed.toLocaleString('en-US')} read; searches answer meanwhile` });
        if (latest) {
          report(latest);
        }
        await running.catch(() => undefined);
      });
    };
    const listener = (update: IndexProgress): void => {
      latest = update;
      if (!shown && update.filesIndexed >= quietReadFiles) {
        show();
      }
      report?.(update);
    };
    this.progressListeners.add(listener);
    const slow = setTimeout(show, rebuild ? 0 : quietMs);
    try {
      const result = await running;
      this.output.info(
        `retrieval index: ${result.cancelled ? 'cancelled' : 'done'} after ${Math.max(latest?.filesSeen ?? 0, result.progress.filesSeen)} files (${result.progress.filesIndexed} read, ${result.progress.filesUnchanged} unchanged); ${result.stats.files} files, ${result.stats.chunks} chunks${shown ? '' : ' (no progress shown: little to do)'}`,
      );
      return !result.cancelled;
    } catch (error) {
      if (source.token.isCancellationRequested) {
        return false;
      }
      this.output.warn(`retrieval index failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    } finally {
      clearTimeout(slow);
      this.progressListeners.delete(listener);
      if (this.indexing === source) {
        this.indexing = undefined;
      }
      source.dispose();
    }
  }

  private async searchMemory(given: string | undefined): Promise<RetrievalHit | undefined> {
    const folder = this.folder();
    if (!folder) {
      void vscode.window.showInformationMessage('Context Ledger: open a trusted local folder to search it.');
      return undefined;
    }
    const query = given ?? (await vscode.window.showInputBox({ title: 'Search Memory', prompt: 'Words, identifiers or a question; hits are checked against the files before they are shown', ignoreFocusOut: true }));
    if (!query?.trim()) {
      return undefined;
    }
    const result = await this.engine.request(RetrievalRequests.search, { query, limit: 30 });
    type HitItem = vscode.QuickPickItem & { readonly hit: RetrievalHit };
    const items: HitItem[] = result.hits.map((hit) => ({
      label: `${hit.path}:${hit.startLine}-${hit.endLine}`,
      description: `score ${hitSummary(hit).score}`,
      detail: hit.text.split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 200) ?? '',
      hit,
    }));
    const title = `${result.hits.length} hits for "${query}"${result.partial ? ' (the index is partial: still indexing)' : ''}${result.staleDropped > 0 ? ` · ${result.staleDropped} stale hits re-checked` : ''}`;
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: items.length === 0 ? 'No hits' : 'Open a hit at its lines', matchOnDescription: true, matchOnDetail: true });
    if (!picked) {
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, ...picked.hit.path.split('/')));
    const range = new vscode.Range(picked.hit.startLine - 1, 0, Math.max(picked.hit.startLine - 1, Math.min(picked.hit.endLine, document.lineCount) - 1), 0);
    await vscode.window.showTextDocument(document, { selection: range, preview: true });
    return picked.hit;
  }

  private async showStats(): Promise<string | undefined> {
    if (!this.folder()) {
      void vscode.window.showInformationMessage('Context Ledger: open a trusted local folder to index it.');
      return undefined;
    }
    const { stats, eventsReceived, reindexesRun, skipped, redactions } = await this.engine.request0(RetrievalRequests.stats);
    const hitRate = stats.hitRate === null ? 'no reads yet' : `${Math.round(stats.hitRate * 100)}% of ${stats.readChecks} read-time checks`;
    const last = stats.lastReindex ? `${stats.lastReindex.path} at ${new Date(stats.lastReindex.atMs).toLocaleTimeString()}` : 'none yet';
    const summary = `${stats.files} files, ${stats.chunks} chunks${stats.complete ? '' : ' (partial)'} · hit rate ${hitRate} · stale reads prevented ${stats.staleReadsPrevented} · last re-index ${last}`;
    this.output.info(`retrieval stats: ${summary}; ${eventsReceived} file events, ${reindexesRun} re-indexes; index ${stats.indexFile ?? 'in memory'}`);
    for (const entry of skipped) {
      this.output.info(`  skipped ${entry.path}: ${entry.reason}`);
    }
    for (const entry of redactions) {
      this.output.info(`  redacted ${entry.path}:${entry.line}: ${entry.kind}`);
    }
    void vscode.window.showInformationMessage(`Context Ledger retrieval: ${summary}`, 'Show Details').then((choice) => choice && this.output.show(true));
    return summary;
  }

  private queue(uri: vscode.Uri, kind: FileChange['kind']): void {
    const folder = this.folder();
    if (!folder || uri.scheme !== 'file' || !isInside(folder.uri.fsPath, uri.fsPath)) {
      return;
    }
    this.pendingChanges.set(uri.fsPath, { path: uri.fsPath, kind });
    this.flushTimer ??= setTimeout(() => this.flush(), batchMs);
  }

  private unsavedEdit(document: vscode.TextDocument): void {
    const folder = this.folder();
    if (!folder || document.uri.scheme !== 'file' || !document.isDirty || !isInside(folder.uri.fsPath, document.uri.fsPath)) {
      return;
    }
    const key = document.uri.fsPath;
    clearTimeout(this.unsavedTimers.get(key));
    this.unsavedTimers.set(
      key,
      setTimeout(() => {
        this.unsavedTimers.delete(key);
        if (document.isDirty && !document.isClosed) {
          this.pendingChanges.set(key, { path: key, kind: 'unsaved', text: document.getText() });
          this.flush();
        }
      }, unsavedEditMs),
    );
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const changes = [...this.pendingChanges.values()];
    this.pendingChanges = new Map();
    if (changes.length > 0 && this.engine.isRunning) {
      this.engine.notify(RetrievalNotifications.invalidate, { changes }).catch((error: unknown) => this.output.warn(`file events not forwarded: ${String(error)}`));
    }
  }

  private disposeTimers(): void {
    this.indexing?.cancel();
    clearTimeout(this.flushTimer);
    for (const timer of this.unsavedTimers.values()) {
      clearTimeout(timer);
    }
    this.unsavedTimers.clear();
  }
}

function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
