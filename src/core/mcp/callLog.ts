import type { Ledger } from '../ledger';
import { mcpCallsStreamId } from './mcpEvents';

// One `mcp.call` event per call to a memory tool, in the hidden stream mcp:calls, whoever made
// it (an MCP client, or VS Code's language-model tools through the engine).

export class McpCallLog {
  private started = false;

  constructor(private readonly ledger: Ledger) {}

  async log(client: string, tool: string, ok: boolean, error?: string): Promise<void> {
    if (!this.started && !this.ledger.getSession(mcpCallsStreamId)) {
      await this.ledger.append([{ kind: 'session.started', id: 'mcp-calls-stream-start', sessionId: mcpCallsStreamId, body: { name: 'MCP calls' } }]);
    }
    this.started = true;
    await this.ledger.append([{ kind: 'mcp.call', sessionId: mcpCallsStreamId, body: { client: client.slice(0, 200) || 'unknown client', tool: tool.slice(0, 200), ok, ...(error !== undefined ? { error: error.slice(0, 2000) } : {}) } }]);
  }
}
