import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { markdownTranscript } from '../core/report/transcriptReport';
import type { SessionSummary } from '../core/ledger';
import { statsLines, summarizeStats, summarizeVerify, verifyLines } from '../core/report/storeReport';
import { CommandId } from './commandIds';
import { askSessionName } from './sessionNameInput';
import type { EngineClient } from './engineClient';
import type { SessionsTreeProvider } from './sessionsTree';
import type { RepairResult } from '../shared/engineProtocol';

/** What the session commands need from the chat: showing a session, and forgetting one. */
export interface SessionChat {
  openSession(sessionId: string | null): Promise<unknown>;
  sessionRenamed(sessionId: string, name: string, eventId: string): void;
  sessionHidden(sessionId: string): Promise<void>;
}

interface CommandContext {
  readonly engine: EngineClient;
  readonly sessions: SessionsTreeProvider;
  readonly output: vscode.OutputChannel;
  readonly chat: SessionChat;
}

type CommandHandler = (context: CommandContext, ...args: unknown[]) => Promise<unknown>;

const handlers: Record<(typeof CommandId)[keyof typeof CommandId], CommandHandler> = {
  [CommandId.newSession]: newSession,
  [CommandId.showLogStats]: showLogStats,
  [CommandId.verifyStore]: verifyStore,
  [CommandId.repairStore]: repairStore,
  // Each returns what it did, so a caller (and a test) can tell success from a shown error.
  [CommandId.refreshSessions]: async ({ sessions }) => sessions.reload(),
  [CommandId.showEngineLog]: async ({ output }) => {
    output.show(true);
    return true;
  },
  [CommandId.restartEngine]: async ({ engine }) => {
    await engine.restart();
    return (await engine.info()).pid;
  },
  [CommandId.openSession]: openSession,
  [CommandId.renameSession]: renameSession,
  [CommandId.deleteSession]: deleteSession,
  [CommandId.exportSession]: exportSession,
};

export function registerCommands(context: CommandContext): vscode.Disposable[] {
  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(context, ...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.output.appendLine(`[${id}] ${message}`);
        void vscode.window.showErrorMessage(`Context Ledger: ${message}`, 'Show Engine Log').then((choice) => {
          if (choice) {
            context.output.show(true);
          }
        });
        return undefined;
      }
    }),
  );
}

/** Starts a session; an optional string argument names it without asking (tests, keybindings). */
async function newSession({ engine, sessions, chat }: CommandContext, nameArgument?: unknown): Promise<string | undefined> {
  const suggested = `Session ${new Date().toLocaleString()}`;
  const name =
    typeof nameArgument === 'string' && nameArgument.trim()
      ? nameArgument.trim()
      : await vscode.window.showInputBox({
          title: 'New Context Ledger Session',
          prompt: 'Name of the new session',
          value: suggested,
          validateInput: (value) => (value.trim() ? (value.length > 200 ? 'At most 200 characters' : undefined) : 'A session needs a name'),
        });
  if (name === undefined) {
    return undefined;
  }
  const sessionId = randomUUID();
  const [verdict] = await engine.append([{ kind: 'session.started', sessionId, body: { name: name.trim() }, expectedVersion: 0 }]);
  if (verdict?.status !== 'appended') {
    throw new Error(`the session was not created: ${verdict?.status === 'conflict' ? verdict.reason : 'unexpected verdict'}`);
  }
  sessions.refresh();
  void vscode.window.showInformationMessage(`Context Ledger: session "${name.trim()}" started.`);
  // What it creates, it opens: the chat shows the new session, ready for its first message.
  await chat.openSession(sessionId);
  return sessionId;
}

/**
 * The session a command acts on: a tree row (a SessionSummary), an id (tests, keybindings), or
 * with neither, one the user picks. Undefined when the user cancelled.
 */
async function targetSession(engine: EngineClient, argument: unknown, placeHolder: string): Promise<SessionSummary | undefined> {
  const sessions = (await engine.listSessions()).filter((session) => !session.hidden);
  const id = typeof argument === 'string' ? argument : isRecord(argument) && typeof argument.id === 'string' ? argument.id : undefined;
  if (id !== undefined) {
    const session = sessions.find((candidate) => candidate.id === id);
    if (!session) {
      throw new Error(`there is no session ${id} in this store`);
    }
    return session;
  }
  const picked = await vscode.window.showQuickPick(
    sessions.map((session) => ({ label: session.name, description: `${session.turnCount} ${session.turnCount === 1 ? 'turn' : 'turns'}`, session })),
    { placeHolder },
  );
  return picked?.session;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function openSession({ engine, chat }: CommandContext, argument?: unknown): Promise<string | undefined> {
  const session = await targetSession(engine, argument, 'Session to open in the chat');
  if (!session) {
    return undefined;
  }
  await chat.openSession(session.id);
  return session.id;
}

async function renameSession({ engine, sessions, chat }: CommandContext, argument?: unknown, nameArgument?: unknown): Promise<string | undefined> {
  const session = await targetSession(engine, argument, 'Session to rename');
  if (!session) {
    return undefined;
  }
  const name = typeof nameArgument === 'string' && nameArgument.trim() ? nameArgument.trim() : await askSessionName(session.name);
  if (!name || name === session.name) {
    return undefined;
  }
  const [verdict] = await engine.append([{ kind: 'session.renamed', sessionId: session.id, body: { name } }]);
  if (verdict?.status !== 'appended') {
    throw new Error(`the session was not renamed: ${verdict?.status === 'conflict' ? verdict.reason : 'unexpected verdict'}`);
  }
  chat.sessionRenamed(session.id, name, verdict.id);
  sessions.refresh();
  return name;
}

/**
 * Deletes a session from the views: a `session.hidden` event. The log is append-only, so its
 * events stay (the CLI still shows and exports them). `{ confirmed: true }` skips the question.
 */
async function deleteSession({ engine, sessions, chat }: CommandContext, argument?: unknown, options?: unknown): Promise<string | undefined> {
  const session = await targetSession(engine, argument, 'Session to delete');
  if (!session) {
    return undefined;
  }
  if (!(isRecord(options) && options.confirmed === true)) {
    const choice = await vscode.window.showWarningMessage(
      `Delete the session "${session.name}"?`,
      { modal: true, detail: 'It disappears from the Sessions view and the chat. Its events stay in the append-only log, where the CLI can still show and export them.' },
      'Delete',
    );
    if (choice !== 'Delete') {
      return undefined;
    }
  }
  const [verdict] = await engine.append([{ kind: 'session.hidden', sessionId: session.id, body: {} }]);
  if (verdict?.status !== 'appended') {
    throw new Error(`the session was not deleted: ${verdict?.status === 'conflict' ? verdict.reason : 'unexpected verdict'}`);
  }
  await chat.sessionHidden(session.id);
  sessions.refresh();
  return session.id;
}

/** Writes a session as Markdown (the CLI's `export --format md`) to a file the user chooses. */
async function exportSession({ engine }: CommandContext, argument?: unknown, target?: unknown): Promise<string | undefined> {
  const session = await targetSession(engine, argument, 'Session to export');
  if (!session) {
    return undefined;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fileName = `${session.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'session'}.md`;
  const uri =
    target instanceof vscode.Uri
      ? target
      : await vscode.window.showSaveDialog({
          title: `Export "${session.name}"`,
          saveLabel: 'Export',
          // JSON lines: the events as stored (`context-ledger import` reads them back); Markdown: to read.
          filters: { Markdown: ['md'], 'JSON Lines (events)': ['jsonl'] },
          ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, fileName) } : {}),
        });
  if (!uri) {
    return undefined;
  }
  const { session: current, events } = await engine.readSession({ sessionId: session.id });
  const text = uri.path.endsWith('.jsonl') ? events.map((event) => JSON.stringify(event)).join('\n') + (events.length > 0 ? '\n' : '') : markdownTranscript(current ?? session, events);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  void vscode.window.showInformationMessage(`Context Ledger: exported "${session.name}" (${events.length} events).`, 'Open').then((choice) => {
    if (choice) {
      void vscode.window.showTextDocument(uri);
    }
  });
  return uri.toString();
}

async function showLogStats({ engine, output }: CommandContext): Promise<unknown> {
  const stats = await engine.stats();
  output.appendLine('--- Log stats ---');
  for (const line of statsLines(stats)) {
    output.appendLine(line);
  }
  void vscode.window.showInformationMessage(`Context Ledger: ${summarizeStats(stats)}`, 'Show Details').then((choice) => {
    if (choice) {
      output.show(true);
    }
  });
  return stats;
}

async function verifyStore({ engine, output }: CommandContext): Promise<unknown> {
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Context Ledger: verifying the store…' },
    () => engine.verify(),
  );
  output.appendLine('--- Verify store ---');
  for (const line of verifyLines(report)) {
    output.appendLine(line);
  }
  const show = report.ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  void show(`Context Ledger: ${summarizeVerify(report)}`, 'Show Details').then((choice) => {
    if (choice) {
      output.show(true);
    }
  });
  return report;
}

/**
 * Repairs a store the engine could not open (store.json missing or damaged, a journal behind its
 * snapshots), then restarts the engine on it. `{ confirmed: true }` skips the question (tests).
 */
async function repairStore({ engine, output, sessions }: CommandContext, options?: unknown): Promise<RepairResult | undefined> {
  const info = await engine.info();
  if (!info.openError) {
    void vscode.window.showInformationMessage('Context Ledger: the store is open and needs no repair. Verify Store checks it in full.');
    return undefined;
  }
  if (!(isRecord(options) && options.confirmed === true)) {
    const choice = await vscode.window.showWarningMessage(
      'Repair the Context Ledger store?',
      { modal: true, detail: `${info.openError}\n\nRepair never changes the journal: a damaged store.json is moved aside and a new one written (keeping the store id where it can be recovered); snapshots that cover more than the journal holds are set aside and rebuilt.` },
      'Repair',
    );
    if (choice !== 'Repair') {
      return undefined;
    }
  }
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Context Ledger: repairing the store…' }, () => engine.repair());
  output.appendLine('--- Repair store ---');
  for (const line of result.lines) {
    output.appendLine(line);
  }
  if (result.restartNeeded) {
    await engine.restart();
    sessions.refresh();
  }
  const after = await engine.info();
  if (after.openError) {
    throw new Error(`the store still cannot be opened after repair: ${after.openError}`);
  }
  void vscode.window.showInformationMessage(`Context Ledger: ${result.repaired ? 'the store was repaired and is open' : 'nothing needed repair'}. Verify Store checks what the journal lost.`, 'Show Details').then((choice) => {
    if (choice) {
      output.show(true);
    }
  });
  return result;
}

