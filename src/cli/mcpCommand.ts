import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { FileSystem } from '../core/fs/fileSystem';
import { Ledger } from '../core/ledger';
import { createMemoryServer } from '../core/mcp/memoryServer';
import { MemoryTools, SavedIndexSearch } from '../core/mcp/memoryTools';
import { loadSqlJs } from '../core/store/sqlJsLoader';
import { LineLimiter } from '../core/mcp/lineLimit';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';

// `context-ledger --store DIR mcp`: an MCP server on stdin/stdout over the store, one more
// writer (mcp-<n>) beside VS Code's engine and other CLIs. It runs until stdin closes; calls
// in flight then answer and are logged before the store is closed. Nothing but MCP messages
// goes to stdout (diagnostics go to stderr).

const version = '0.1.0';
/**
 * The largest message read (CONTEXT_LEDGER_MCP_MAX_MESSAGE_BYTES lets tests lower it): an
 * argument within it that a tool does not take gets that tool's MCP error; a larger message is
 * answered by an MCP error here, and the connection stays up.
 */
function maxMessageBytes(): number {
  const configured = Number(process.env.CONTEXT_LEDGER_MCP_MAX_MESSAGE_BYTES);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : 64 * 1024 * 1024;
}

export async function runMcpCommand(storeDir: string, fileSystem: FileSystem, err: (line: string) => void): Promise<number> {
  const sql = await loadSqlJs();
  const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0, fs: fileSystem, writerKind: 'mcp' });
  const savedIndex = new SavedIndexSearch({ storeDir, fs: fileSystem, sql });
  const memory = createMemoryServer(ledger, new MemoryTools({ ledger, search: savedIndex.search }), version);
  const limit = maxMessageBytes();
  const input = new LineLimiter(
    limit,
    ({ bytes, id }) => {
      const message = `the message of ${bytes} bytes is over the ${limit}-byte limit: nothing was done`;
      void memory.logRefused('(oversized message)', message).then(() => {
        if (id !== undefined) {
          process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidRequest, message } }) + '\n');
        }
      });
    },
    (bytes) => {
      // JSON-RPC's answer to text that is not JSON: a parse error with a null id.
      const message = `a line of ${bytes} bytes is not JSON: nothing was done`;
      void memory.logRefused('(unparsable message)', message).then(() => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: ErrorCode.ParseError, message } }) + '\n'));
    },
  );
  process.stdin.pipe(input);
  // The SDK's own buffer never fills first: the limiter hands it whole lines within the limit.
  const transport = new StdioServerTransport(input, process.stdout, { maxBufferSize: limit + 1024 * 1024 });
  const closed = new Promise<void>((resolve) => {
    input.once('end', resolve);
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
    savedIndex.dispose();
    ledger.close();
  }
}
