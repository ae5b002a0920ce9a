import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { statsLines, summarizeStats, summarizeVerify, verifyLines } from '../core/report/storeReport';
import { CommandId } from './commandIds';
import type { EngineClient } from './engineClient';
import type { SessionsTreeProvider } from './sessionsTree';

interface CommandContext {
  readonly engine: EngineClient;
  readonly sessions: SessionsTreeProvider;
  readonly output: vscode.OutputChannel;
}

type CommandHandler = (context: CommandContext, ...args: unknown[]) => Promise<unknown>;

const handlers: Record<(typeof CommandId)[keyof typeof CommandId], CommandHandler> = {
  [CommandId.newSession]: newSession,
  [CommandId.showLogStats]: showLogStats,
  [CommandId.verifyStore]: verifyStore,
  [CommandId.refreshSessions]: async ({ sessions }) => sessions.refresh(),
  [CommandId.showEngineLog]: async ({ output }) => output.show(true),
  [CommandId.restartEngine]: async ({ engine }) => engine.restart(),
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
async function newSession({ engine, sessions }: CommandContext, nameArgument?: unknown): Promise<string | undefined> {
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
  return sessionId;
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
