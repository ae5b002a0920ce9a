import * as vscode from 'vscode';
import type { KeyStatus } from '../../shared/chatPanelMessages';
import { Disposable } from '../lifecycle';

/** Where the key lives in SecretStorage (the OS keychain on desktop). */
const secretName = 'contextLedger.anthropicApiKey';

export interface ResolvedApiKey {
  readonly key: string | null;
  readonly source: KeyStatus['source'];
}

/**
 * The Anthropic API key: SecretStorage first (the "Set API Key" command), else the
 * ANTHROPIC_API_KEY environment variable of the extension host. The key reaches the engine on
 * its stdin (src/extension/engineProcess.ts), never in an LSP message, and is never written to
 * a log, a setting or the webview.
 */
export class ApiKeyStore extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {
    super();
    this.register(
      secrets.onDidChange((event) => {
        if (event.key === secretName) {
          this.changed.fire();
        }
      }),
    );
  }

  async resolve(): Promise<ResolvedApiKey> {
    const stored = (await this.secrets.get(secretName))?.trim();
    if (stored) {
      return { key: stored, source: 'secret-storage' };
    }
    const fromEnvironment = this.environment.ANTHROPIC_API_KEY?.trim();
    if (fromEnvironment) {
      return { key: fromEnvironment, source: 'environment' };
    }
    return { key: null, source: null };
  }

  async resolveKey(): Promise<string | null> {
    return (await this.resolve()).key;
  }

  async status(): Promise<KeyStatus> {
    return { source: (await this.resolve()).source };
  }

  /** Asks for the key in a password box and stores it; false when the user cancelled. */
  async promptAndStore(): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: 'Context Ledger: Anthropic API Key',
      prompt: 'Stored in VS Code SecretStorage on this machine; used only for requests to the Messages API.',
      placeHolder: 'sk-ant-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() === '' ? 'Paste a key, or press Escape to cancel' : /\s/.test(value.trim()) ? 'A key has no spaces' : undefined),
    });
    if (key === undefined) {
      return false;
    }
    await this.secrets.store(secretName, key.trim());
    this.changed.fire();
    return true;
  }

  /** Removes the stored key (ANTHROPIC_API_KEY, if set, is then used). */
  async clear(): Promise<void> {
    await this.secrets.delete(secretName);
    this.changed.fire();
  }
}
