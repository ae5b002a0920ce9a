import type { Connection } from 'vscode-languageserver/node';
import type { Ledger } from '../core/ledger';
import { McpCallLog } from '../core/mcp/callLog';
import { MemoryToolError, MemoryTools, type MemorySearch } from '../core/mcp/memoryTools';
import { runMemoryTool } from '../core/mcp/toolDefinitions';
import { MemoryToolsRequests, type MemoryToolCallParams, type MemoryToolCallResult } from '../shared/memoryToolsProtocol';

// The MCP server's memory tools inside the engine, for VS Code's language-model tools: the
// same definitions and checks as `context-ledger mcp`, on the engine's open store, searching the
// engine's own retrieval index. Every call is an `mcp.call` event naming the caller.

type Handle = <P, R>(run: (store: Ledger, params: P) => R | Promise<R>) => (params: P) => Promise<R>;

export interface MemoryToolsServiceOptions {
  readonly search: MemorySearch;
}

export class MemoryToolsService {
  private current: { ledger: Ledger; tools: MemoryTools; calls: McpCallLog } | undefined;

  constructor(private readonly options: MemoryToolsServiceOptions) {}

  private of(ledger: Ledger): NonNullable<MemoryToolsService['current']> {
    if (this.current?.ledger !== ledger) {
      this.current = { ledger, tools: new MemoryTools({ ledger, search: this.options.search }), calls: new McpCallLog(ledger) };
    }
    return this.current;
  }

  async call(ledger: Ledger, params: MemoryToolCallParams): Promise<MemoryToolCallResult> {
    const { tools, calls } = this.of(ledger);
    const tool = typeof params?.tool === 'string' ? params.tool : JSON.stringify(params?.tool) ?? '(no name)';
    const client = typeof params?.client === 'string' && params.client.trim() !== '' ? params.client : 'unknown client';
    try {
      const text = await runMemoryTool(tools, tool, params?.arguments, client);
      await calls.log(client, tool, true);
      return { text, isError: false };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await calls.log(client, tool, false, message);
      if (error instanceof MemoryToolError) {
        return { text: message, isError: true };
      }
      throw error;
    }
  }
}

/** Registers `contextLedger/memoryTools/call` (one call from src/server/main.ts). */
export function registerMemoryToolsService(connection: Connection, handle: Handle, options: MemoryToolsServiceOptions): MemoryToolsService {
  const service = new MemoryToolsService(options);
  connection.onRequest(MemoryToolsRequests.call, handle((store, params: MemoryToolCallParams) => service.call(store, params)));
  return service;
}
