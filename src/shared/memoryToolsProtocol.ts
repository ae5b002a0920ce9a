import { RequestType } from 'vscode-jsonrpc';

// The memory tools (the MCP server's six) run by the engine for VS Code's language-model tools
// (src/server/memoryToolsService.ts). Each call is logged as an `mcp.call` with `client`.

export interface MemoryToolCallParams {
  /** A tool name: list_sessions, read_session, get_facts, propose_fact, search_memory, record_note. */
  readonly tool: string;
  readonly arguments: unknown;
  /** Who called, as the log names it (e.g. "VS Code language-model tools"). */
  readonly client: string;
}

export interface MemoryToolCallResult {
  readonly text: string;
  /** The call failed (unknown tool, bad arguments, no such session): `text` says why; nothing was written but the log line. */
  readonly isError: boolean;
}

export const MemoryToolsRequests = {
  call: new RequestType<MemoryToolCallParams, MemoryToolCallResult, void>('contextLedger/memoryTools/call'),
} as const;
