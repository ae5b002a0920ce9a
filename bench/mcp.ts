// bench/mcp: search_memory latency through the MCP server (the SDK's client over stdio to
// `context-ledger mcp`, a child process), beside the same queries in-process, in the same run:
//   in-process, the index kept open: RetrievalIndex.search
//   in-process, the tool as the server runs it: MemoryTools.searchMemory (opens the saved index per call)
//   in-process, the tool + its mcp.call log line (a durable append): everything but the transport
//   through MCP: callTool('search_memory') round trip
// The calls alternate query by query, so each sees the same machine. Corpus: packages copied out
// of node_modules. Run: npm run bench:mcp   (PACKAGES=markdown-it,zod QUERIES=200 to change it)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { nodeFileSystem } from '../src/core/fs/fileSystem';
import { Ledger } from '../src/core/ledger';
import { McpCallLog } from '../src/core/mcp/callLog';
import { MemoryTools, SavedIndexSearch } from '../src/core/mcp/memoryTools';
import { RetrievalIndex } from '../src/core/retrieval/retrievalIndex';
import { loadSqlJs } from '../src/core/store/sqlJsLoader';
import { skippedDirectoryNames } from '../src/core/tools/secretFiles';
import { WorkspaceFiles } from '../src/core/tools/workspaceFiles';
import { ms, percentile, seededRandom } from './stats';

const packages = (process.env.PACKAGES ?? 'markdown-it,zod,vscode-languageserver-protocol,@modelcontextprotocol').split(',');
const queryCount = Number(process.env.QUERIES ?? 200);
const warmup = 10;
const repoRoot = path.resolve(__dirname, '..', '..');
const cliScript = path.join(__dirname, '..', 'src', 'cli', 'main.js');


/** Identifiers of the corpus, two per query (a seeded sample). */
function queriesOf(folder: string, count: number): string[] {
  const words = new Set<string>();
  for (const entry of fs.readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.(js|ts|md)$/.test(entry.name) && words.size < 20_000) {
      for (const match of fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8').matchAll(/\b[A-Za-z][A-Za-z0-9]{5,24}\b/g)) {
        words.add(match[0]);
      }
    }
  }
  const list = [...words];
  const next = seededRandom(15);
  return Array.from({ length: count }, () => `${list[Math.floor(next() * list.length)]} ${list[Math.floor(next() * list.length)]}`);
}

const time = async (run: () => unknown): Promise<number> => {
  const started = performance.now();
  await run();
  return performance.now() - started;
};

async function main(): Promise<void> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'context-ledger-bench-mcp-'));
  try {
    const folder = path.join(temp, 'work');
    const storeDir = path.join(temp, 'store');
    for (const name of packages) {
      const source = path.join(repoRoot, 'node_modules', name);
      if (fs.existsSync(source)) {
        fs.cpSync(source, path.join(folder, name), { recursive: true, filter: (from) => !skippedDirectoryNames.has(path.basename(from).toLowerCase()) || from === source });
      }
    }
    const sql = await loadSqlJs();
    const ledger = await Ledger.open({ storeDir, snapshotEveryEvents: 0, writerKind: 'cli' });
    const index = RetrievalIndex.open({ sql, fs: nodeFileSystem, workspace: new WorkspaceFiles(folder), storeDir });
    const built = await time(() => index.indexWorkspace());
    index.save();
    const stats = index.stats();
    console.log(`corpus: ${packages.join(', ')}: ${stats.files} files, ${stats.chunks} chunks, indexed in ${ms(built)}; ${queryCount} queries (two identifiers each), ${warmup} warm-up`);

    const saved = new SavedIndexSearch({ storeDir, fs: nodeFileSystem, sql });
    const tools = new MemoryTools({ ledger, search: saved.search });
    const calls = new McpCallLog(ledger);
    const client = new Client({ name: 'bench-mcp', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliScript, '--store', storeDir, 'mcp'], stderr: 'ignore' }));

    const queries = queriesOf(folder, queryCount + warmup);
    const samples = { open: [] as number[], tool: [] as number[], logged: [] as number[], mcp: [] as number[] };
    let mismatches = 0;
    for (const [n, query] of queries.entries()) {
      const open = await time(() => index.search(query, { limit: 10 }));
      let inProcess = '';
      const tool = await time(async () => (inProcess = await tools.searchMemory(query, 10)));
      const logged = await time(async () => {
        await tools.searchMemory(query, 10);
        await calls.log('bench-in-process', 'search_memory', true);
      });
      let viaMcp = '';
      const mcp = await time(async () => {
        const result = (await client.callTool({ name: 'search_memory', arguments: { query, limit: 10 } })) as { content: Array<{ text: string }> };
        viaMcp = result.content[0]?.text ?? '';
      });
      if (viaMcp !== inProcess) {
        mismatches++;
      }
      if (n >= warmup) {
        samples.open.push(open);
        samples.tool.push(tool);
        samples.logged.push(logged);
        samples.mcp.push(mcp);
      }
    }
    await client.close();
    saved.dispose();
    index.close();
    ledger.close();
    const row = (label: string, values: readonly number[]) => console.log(`  ${label.padEnd(58)} p50 ${ms(percentile(values, 50)).padStart(9)}   p99 ${ms(percentile(values, 99)).padStart(9)}`);
    console.log('search_memory, limit 10:');
    row('in-process, index kept open (RetrievalIndex.search)', samples.open);
    row('in-process, the tool (the saved index, as the server keeps it)', samples.tool);
    row('in-process, the tool + its mcp.call line (durable append)', samples.logged);
    row('through MCP (SDK client, stdio, context-ledger mcp)', samples.mcp);
    const p50 = (values: readonly number[]) => percentile(values, 50);
    const delta = p50(samples.mcp) - p50(samples.logged);
    console.log(`  transport and protocol: ${delta < 0 ? '-' : ''}${ms(Math.abs(delta))} at p50 (${(p50(samples.mcp) / p50(samples.logged)).toFixed(2)}× the same work in-process)`);
    console.log(`  answers that differed between MCP and in-process: ${mismatches} of ${queries.length}`);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
