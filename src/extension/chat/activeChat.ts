import * as vscode from 'vscode';
import type { ContextReceipt } from '../../core/context/contextTypes';
import { Disposable } from '../lifecycle';

export interface ActiveChatState {
  readonly sessionId: string | null;
  readonly sessionName: string | null;
  /** The receipt of the newest request in that session, if it had one. */
  readonly receipt: ContextReceipt | null;
}

/**
 * The session the chat panel shows and its newest receipt: what the status bar gauge, "New
 * Topic" and "Show Context Receipt" act on. Owned by the chat feature, not a global.
 */
export class ActiveChat extends Disposable {
  private current: ActiveChatState = { sessionId: null, sessionName: null, receipt: null };
  private readonly changed = this.register(new vscode.EventEmitter<ActiveChatState>());
  readonly onDidChange = this.changed.event;

  get state(): ActiveChatState {
    return this.current;
  }

  /** A session was chosen (its newest receipt read from the log, or null). */
  setSession(sessionId: string | null, sessionName: string | null, receipt: ContextReceipt | null): void {
    this.current = { sessionId, sessionName, receipt };
    this.changed.fire(this.current);
  }

  rename(sessionId: string, sessionName: string): void {
    if (this.current.sessionId === sessionId) {
      this.current = { ...this.current, sessionName };
      this.changed.fire(this.current);
    }
  }

  /** A request in `sessionId` produced `receipt`. */
  recordReceipt(sessionId: string, receipt: ContextReceipt): void {
    if (this.current.sessionId === sessionId) {
      this.current = { ...this.current, receipt };
      this.changed.fire(this.current);
    }
  }
}
