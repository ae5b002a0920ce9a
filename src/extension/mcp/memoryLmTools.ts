import * as vscode from 'vscode';
import { memoryToolNames, type MemoryToolName } from '../../core/mcp/toolNames';
import { MemoryToolsRequests } from '../../shared/memoryToolsProtocol';
import type { EngineClient } from '../engineClient';
import { lmToolPrefix } from './mcpCommandIds';

// The MCP server's six memory tools as VS Code language-model tools (Copilot's agent mode, any
// chat participant): each call is an engine request, run by the engine on its store and logged
// as an `mcp.call` naming VS Code. Writes (propose_fact, record_note) ask the user first.

export const lmToolClient = (): string => `VS Code language-model tools (${vscode.env.appName})`;

const clip = (text: unknown, max = 400): string => {
  const value = typeof text === 'string' ? text : JSON.stringify(text) ?? '';
  return value.length > max ? `${value.slice(0, max)}…` : value;
};

function prepare(name: MemoryToolName, input: Record<string, unknown>): vscode.PreparedToolInvocation {
  switch (name) {
    case 'propose_fact': {
      const message = new vscode.MarkdownString();
      message.appendMarkdown('Propose this fact to Context Ledger? It waits under **Proposed** in the Facts view until you confirm it there; it is not a fact before that.\n\n');
      message.appendCodeblock(`${clip(input.key, 200)} = ${clip(input.value)}`, 'text');
      if (typeof input.reason === 'string' && input.reason !== '') {
        message.appendMarkdown('Reason given: ').appendText(clip(input.reason));
      }
      return { invocationMessage: `Proposing ${clip(input.key, 80)} to Context Ledger`, confirmationMessages: { title: 'Context Ledger: propose a fact', message } };
    }
    case 'record_note': {
      const message = new vscode.MarkdownString('Record this note in the Context Ledger log (stream mcp:notes)?\n\n');
      message.appendCodeblock(clip(input.text, 1000), 'text');
      return { invocationMessage: 'Recording a note in Context Ledger', confirmationMessages: { title: 'Context Ledger: record a note', message } };
    }
    case 'search_memory':
      return { invocationMessage: `Searching Context Ledger memory for ${clip(input.query, 80)}` };
    case 'read_session':
      return { invocationMessage: `Reading session ${clip(input.sessionId, 80)} from Context Ledger` };
    case 'get_facts':
      return { invocationMessage: 'Reading the facts from Context Ledger' };
    case 'list_sessions':
      return { invocationMessage: 'Listing Context Ledger sessions' };
  }
}

/** Registers the six tools; each answers through the engine. */
export function registerMemoryLmTools(engine: EngineClient): vscode.Disposable[] {
  return memoryToolNames.map((name) =>
    vscode.lm.registerTool<Record<string, unknown>>(`${lmToolPrefix}${name}`, {
      prepareInvocation: (options) => prepare(name, options.input ?? {}),
      invoke: async (options, token) => {
        const result = await engine.request(MemoryToolsRequests.call, { tool: name, arguments: options.input ?? {}, client: lmToolClient() }, token);
        if (result.isError) {
          // VS Code hands a thrown error's message to the model as the tool's failure.
          throw new Error(result.text);
        }
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(result.text)]);
      },
    }),
  );
}
