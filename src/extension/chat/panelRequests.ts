import * as vscode from 'vscode';
import { CompactionRequests } from '../../shared/compactionProtocol';
import type { HostMessage, PanelCommand } from '../../shared/chatPanelMessages';
import { askSessionName } from '../sessionNameInput';
import type { ChatPanelServices } from './chatPanel';

// The chat panel's one-shot webview requests (copy, insert, open a file, run a command, rename,
// undo a compaction), each answered with one `reply`. Apart from chatPanel.ts, which dispatches
// every message and keeps the shown session and the streaming send.

/** What a request needs of its panel. */
export interface RequestingPanel {
  readonly services: ChatPanelServices;
  post(message: HostMessage): void;
  /** Brings the chat back to the front (after an input box took the focus). */
  reveal(): void;
  postSessions(): Promise<void>;
  /** Re-reads `sessionId` if the panel shows it and no turn is running there. */
  reloadIfShown(sessionId: string): Promise<void>;
}

export class PanelRequests {
  constructor(private readonly panel: RequestingPanel) {}

  private reply(requestId: string, ok: boolean, message: string | null): void {
    this.panel.post({ type: 'reply', requestId, ok, message });
  }

  async refreshSessions(requestId: string): Promise<void> {
    await this.panel.postSessions();
    this.reply(requestId, true, null);
  }

  async copyCode(requestId: string, code: string): Promise<void> {
    await vscode.env.clipboard.writeText(code);
    this.reply(requestId, true, 'Copied');
  }

  async insertCode(requestId: string, code: string): Promise<void> {
    const problem = await this.panel.services.insertCode(code);
    this.reply(requestId, problem === null, problem ?? 'Inserted');
  }

  async runCommand(requestId: string, command: PanelCommand): Promise<void> {
    await this.panel.services.runCommand(command);
    if (command === 'setApiKey') {
      // The input box took the focus; give it back to the chat (the webview then focuses its composer).
      this.panel.reveal();
    }
    this.reply(requestId, true, null);
  }

  async openFile(requestId: string, path: string, line: number | undefined): Promise<void> {
    const problem = await this.panel.services.openFile(path, line);
    this.reply(requestId, problem === null, problem);
  }

  async undoCompaction(requestId: string, sessionId: string, compactionId: string): Promise<void> {
    // The engine refuses one not in force (undone already, another session's): the error is the reply.
    const undone = await this.panel.services.engine.request(CompactionRequests.undo, { sessionId, compactionId });
    await this.panel.reloadIfShown(sessionId);
    const { firstTurn, lastTurn } = undone.range;
    this.reply(requestId, true, `Turns ${firstTurn}–${lastTurn} go into requests as they were again.`);
  }

  async renameSession(requestId: string, sessionId: string, name: string | undefined): Promise<void> {
    const { services } = this.panel;
    const sessions = await services.engine.listSessions();
    const session = sessions.find((candidate) => candidate.id === sessionId);
    if (!session) {
      this.reply(requestId, false, 'That session is no longer in the store.');
      return;
    }
    const asked = name === undefined;
    const newName = name ?? (await askSessionName(session.name));
    if (asked) {
      this.panel.reveal(); // Back from the input box to the chat.
    }
    if (!newName || newName === session.name) {
      this.reply(requestId, true, null);
      return;
    }
    const [verdict] = await services.engine.append([{ kind: 'session.renamed', sessionId, body: { name: newName } }]);
    if (verdict?.status !== 'appended') {
      this.reply(requestId, false, `The session was not renamed: ${verdict?.status === 'conflict' ? verdict.reason : 'unexpected answer from the engine'}`);
      return;
    }
    services.activeChat.rename(sessionId, newName);
    this.panel.post({ type: 'appendEntries', sessionId, entries: [{ kind: 'renamed', eventId: verdict.id, name: newName }] });
    await this.panel.postSessions();
    this.reply(requestId, true, `Renamed to "${newName}"`);
  }
}
