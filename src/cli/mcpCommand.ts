import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { FileSystem } from '../core/fs/fileSystem';
import { Ledger } from '../core/ledger';
import { createMemoryServer } from '../core/mcp/memoryServer';
import { MemoryTools } from '../core/mcp/memoryTools';
import { loadSqlJs } from '../core/store/sqlJsLoader';

// `context-ledger --store DIR mcp`: an MCP server on stdin/stdout over the store, one more
// writer (mcp-<n>) beside VS Code's engine and other CLIs. It runs until stdin closes; calls
// in flight then answer and are logged before the store is closed. Nothing but MCP messages
// goes to stdout (diagnostics go to stderr).

const version = '0.1.0';
/**
 * The largest message read (the SDK's default is 10 MB, past which it drops the connection): an
 * oversized argument within it gets an MCP error from the tools' own limits instead.
 */
const maxMessageBytes = 64 * 1024 * 1024;

export async function runMcpCommand(storeDir: string, fileSystem: FileSystem, err: (line: string) => void): Promise<number> {
  const sql = await loadSqlJs();
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0, fs: fileSystem, writerKind: 'mcp' });
  const memory = createMemoryServer(ledger, new MemoryTools({ ledger, storeDir, fs: fileSystem, sql }), version);
  const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: maxMessageBytes });
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    transport.onclose = resolve;
  });
  try {
    await memory.connect(transport);
    err(`context-ledger MCP server on ${storeDir} (writer ${ledger.writerId})`);
    await closed;
    await memory.idle();
    // Let the answers of the last calls reach stdout before the transport closes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return 0;
  } finally {
    await memory.server.close().catch(() => undefined);
    ledger.close();
  }
}
