import * as fs from 'node:fs';
import type { WindowSpec } from '../core/context/contextTypes';
import { assembleContext } from '../core/context/assembleContext';
import { CachedTokenCounter } from '../core/context/tokenCounts';
import { nodeFileSystem, type FileSystem } from '../core/fs/fileSystem';
import { Ledger, type AppendVerdict } from '../core/ledger';
import { toMessagesApiParams } from '../core/llm/anthropicClient';
import { describeWindowProblem } from '../core/log/events';
import { receiptLines } from '../core/report/receiptReport';
import { statsLines, verifyLines } from '../core/report/storeReport';
import { repairStore as repairStoreFolder } from '../core/storeRepair';
import { modelToolDefinitions } from '../core/tools/modelTools';
import { parseAppendInput, type AppendInput } from './appendInput';
import { factsPlanWrites, factsUsage, parseFactsCommand, runFactsCommand } from './factsCommand';
import { UsageError, parseArgs, positiveInteger } from './args';
import { runRetrievalCommand } from './retrievalCommands';
import { markdownTranscript, transcriptLines } from '../core/report/transcriptReport';
import { CompactionCliFailure, compactionCommands, compactionFlagOptions, compactionUsage, compactionValueOptions, runCompactionCommand } from './compactCommand';
import { runImport } from './importCommand';
import { runDriftCommand } from './driftCommand';
import { runMcpCommand } from './mcpCommand';
import { sessionActivityOf } from '../core/memory/sessionActivity';

// `context-ledger`: the command-line front end on the same engine as the extension.
const usage = `Usage: context-ledger [--store DIR] <command> [options]

Commands:
  sessions                     list sessions (newest activity first)
  show SESSION [--last N]      print a session as a readable transcript
  stats                        store statistics
  verify                       check the journal, projections and snapshots
  export [SESSION] [--format jsonl|md] [--session ID] [--out FILE]
                               export events as JSON lines (default) or Markdown
  append [--batch-key KEY]     append events given as JSON lines on stdin (UTF-8; a byte
                               order mark at the start is skipped). A line without an "id"
                               gets one derived from the whole input and its line number, so
                               running the same input again (a retry after a failure) stores
                               nothing twice: what is there is reported as already stored.
                               Identical input appended again on purpose needs ids in its
                               lines or a new --batch-key (ids then come from KEY and the
                               line number; the same KEY again is a retry)
  snapshot                     write a snapshot of the projections now
  repair                       write a new store.json for a store whose store.json is
                               missing or damaged (the damaged file is moved aside to
                               store.json.damaged-<time>; the store id is kept when the
                               damaged file or a snapshot still holds it)
  context SESSION [--budget N] [--window full|sliding|tumbling|session] [--turns N]
          [--tokens N] [--block N] [--idle-minutes N] [--detect-shift] [--system TEXT]
          [--prompt TEXT] [--model NAME] [--max-tokens N]
                               print the request that would be sent, and its receipt
${compactionUsage}
  import PATH...               import transcripts: Claude Code sessions (~/.claude/projects,
                               a project folder or .jsonl files, subagents included), this
                               store's JSONL export, Markdown transcripts; format detected per
                               file. Again later: only what the files gained is added. Progress
                               on stderr; Ctrl-C stops cleanly (exit 130), the next run goes on
  index FOLDER [--exclude GLOBS]
                               build or refresh the retrieval index of FOLDER (in
                               STORE/retrieval/index.sqlite; GLOBS: comma-separated)
  search "QUERY" [--limit N]   search the retrieval index; every hit is checked against
                               its file first (--json: [{path, startLine, endLine, text, score}])
  drift --folder FOLDER        check FOLDER's prompt files (AGENTS.md, CLAUDE.md, ...)
                               against it: missing paths and scripts, the package manager,
                               Node.js versions, contradictions between the files (exit 1
                               when drift is found; --json: [{path, line, code, message}])
${factsUsage}
  import --follow PATH...      keep importing what the paths gain (sessions appear while
                               Claude Code writes them) until Ctrl-C
  mcp                          run an MCP server on stdin/stdout over the store (tools:
                               list_sessions, read_session, get_facts, propose_fact,
                               search_memory, record_note) until stdin closes

Options:
  --store DIR   the store folder (default: $CONTEXT_LEDGER_STORE)
  --json        machine-readable output (sessions, show, stats, verify, append, context, index, search)
  --help        this text

Exit status: 0 success (an append whose events were already stored included), 1 failure
(or problems found by verify; a store whose store.json is missing or damaged: see repair),
2 bad usage or input (nothing is created or written), 3 an append was refused as a conflict.`;

const valueOptions = new Set(['store', 'last', 'format', 'session', 'out', 'budget', 'window', 'turns', 'tokens', 'block', 'idle-minutes', 'system', 'prompt', 'model', 'max-tokens', 'batch-key', 'exclude', 'limit', 'folder', 'pick', 'value']);
const flagOptions = new Set(['json', 'help', 'version', 'detect-shift', 'retire', 'follow']);
compactionValueOptions.forEach((name) => valueOptions.add(name));
compactionFlagOptions.forEach((name) => flagOptions.add(name));
valueOptions.add('id');
const defaultModel = 'claude-sonnet-5-5';

class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type Output = (line: string) => void;

export async function runCli(argv: readonly string[], out: Output, readStdin: () => Promise<Buffer>, fileSystem: FileSystem = nodeFileSystem, err: Output = () => undefined): Promise<number> {
  const { positionals, options } = parseArgs(argv, valueOptions, flagOptions);
  const [command, ...rest] = positionals;
  if (options.has('help') || command === '--help' || command === 'help' || command === undefined) {
    out(usage);
    return command === undefined && !options.has('help') ? 2 : 0;
  }
  const storeDir = (options.get('store') as string | undefined) ?? process.env.CONTEXT_LEDGER_STORE;
  if (!storeDir) {
    throw new UsageError('no store folder: pass --store DIR or set CONTEXT_LEDGER_STORE');
  }
  const json = options.has('json');
  const factsPlan = command === 'facts' ? parseFactsCommand(rest, options) : undefined;
  const writes = command === 'append' || command === 'snapshot' || (command === 'compact' && options.has('yes')) || command === 'undo' || (factsPlan !== undefined && factsPlanWrites(factsPlan));
  const known = ['sessions', 'show', 'stats', 'verify', 'export', 'append', 'snapshot', 'context', 'repair', 'import', 'index', 'search', 'drift', 'facts'];
  known.push(...compactionCommands);
  known.push('mcp');
  if (!known.includes(command)) {
    throw new UsageError(`unknown command "${command}"; commands: ${known.join(', ')}`);
  }
  if (command === 'repair') {
    return repairStore(storeDir, fileSystem, out);
  }
  if (command === 'mcp') {
    return runMcpCommand(storeDir, fileSystem, err);
  }
  if (command === 'drift') {
    return runDriftCommand(() => Ledger.open({ storeDir, readOnly: true, snapshotEveryEvents: 0, fs: fileSystem }), options.get('folder'), json, out);
  }
  if (command === 'import') {
    if (rest.length === 0) {
      throw new UsageError('import needs one or more PATHs (files or folders, e.g. ~/.claude/projects)');
    }
    return runImport(storeDir, rest, { json, fs: fileSystem, follow: options.has('follow') }, out, err);
  }
  if (command === 'index' || command === 'search') {
    return runRetrievalCommand(command, rest, options, storeDir, fileSystem, out);
  }
  const batchKey = options.get('batch-key');
  if (batchKey !== undefined && (command !== 'append' || typeof batchKey !== 'string' || batchKey === '')) {
    throw new UsageError('--batch-key takes a non-empty KEY, and only with append');
  }
  // Validate stdin before opening the store: bad input must not leave anything behind.
  const input = command === 'append' ? parseAppendInput(await readStdin(), batchKey) : undefined;
  const ledger = await Ledger.open({ storeDir, readOnly: !writes, snapshotEveryEvents: 0, fs: fileSystem, writerKind: 'cli' });
  try {
    switch (command) {
      case 'sessions': {
        const sessions = sessionActivityOf(ledger).list(ledger.listSessions());
        if (json) {
          out(JSON.stringify(sessions, null, 2));
        } else if (sessions.length === 0) {
          out('no sessions');
        } else {
          for (const session of sessions) {
            out(`${session.id}  ${session.name}  ${session.turnCount} turns  last ${new Date(session.lastActivityMs).toISOString()}${session.activityFromSource ? ' (source)' : ''}${session.closed ? '  (closed)' : ''}${session.hidden ? '  (hidden)' : ''}`);
          }
        }
        return 0;
      }
      case 'show': {
        const sessionId = rest[0];
        if (!sessionId) {
          throw new UsageError('show needs a SESSION id (see `context-ledger sessions`)');
        }
        const session = ledger.getSession(sessionId);
        if (!session) {
          throw new CliFailure(`no session ${sessionId} in ${ledger.storeDir}`, 1);
        }
        const last = positiveInteger(options.get('last'), 'last');
        const events = ledger.readSession(sessionId, last !== undefined ? { last } : {});
        out(json ? JSON.stringify({ session, events }, null, 2) : transcriptLines(session, events).join('\n'));
        return 0;
      }
      case 'stats': {
        const stats = ledger.stats();
        out(json ? JSON.stringify(stats, null, 2) : statsLines(stats).join('\n'));
        return 0;
      }
      case 'verify': {
        const report = await ledger.verify();
        out(json ? JSON.stringify(report, null, 2) : verifyLines(report).join('\n'));
        return report.ok ? 0 : 1;
      }
      case 'export':
        if (rest[0] !== undefined && !options.has('session')) {
          options.set('session', rest[0]);
        }
        return exportEvents(ledger, options, out);
      case 'append': {
        const verdicts = await appendDrafts(ledger, input!);
        out(json ? verdicts.map((verdict) => JSON.stringify(verdict)).join('\n') : describeVerdicts(verdicts, input!));
        return verdicts.some((verdict) => verdict.status === 'conflict') ? 3 : 0;
      }
      case 'context':
        return printContext(ledger, rest[0], options, json, out);
      case 'facts':
        return await runFactsCommand(ledger, factsPlan!, json, out);
      case 'snapshot': {
        const outcome = ledger.snapshot();
        out(outcome.written ? `snapshot ${outcome.file} written (seq ${outcome.seq}, ${outcome.bytes} bytes, ${outcome.ms.toFixed(1)} ms)` : `no snapshot written: ${outcome.reason}`);
        return 0;
      }
      case 'compact':
      case 'undo':
        try {
          return await runCompactionCommand(ledger, command, rest, options, json, out);
        } catch (error) {
          throw error instanceof CompactionCliFailure ? new CliFailure(error.message, error.exitCode) : error;
        }
    }
    return 2;
  } finally {
    ledger.close();
  }
}

function windowFromOptions(options: Map<string, string | true>): WindowSpec | undefined {
  const kind = options.get('window');
  if (kind === undefined) {
    return undefined;
  }
  const number = (name: string) => positiveInteger(options.get(name), name);
  let window: WindowSpec;
  switch (kind) {
    case 'full':
      window = { kind: 'full' };
      break;
    case 'sliding': {
      const turns = number('turns');
      const tokens = number('tokens');
      window = { kind: 'sliding', ...(turns !== undefined ? { turns } : {}), ...(tokens !== undefined ? { tokens } : {}) };
      if (turns === undefined && tokens === undefined) {
        window = { kind: 'sliding', turns: 20 };
      }
      break;
    }
    case 'tumbling':
      window = { kind: 'tumbling', blockTurns: number('block') ?? 10 };
      break;
    case 'session':
      window = { kind: 'session', idleGapMinutes: number('idle-minutes') ?? 30, detectShift: options.has('detect-shift') };
      break;
    default:
      throw new UsageError(`--window must be full, sliding, tumbling or session, not ${String(kind)}`);
  }
  const problem = describeWindowProblem(window);
  if (problem) {
    throw new UsageError(problem);
  }
  return window;
}

function printContext(ledger: Ledger, sessionId: string | undefined, options: Map<string, string | true>, json: boolean, out: Output): number {
  if (!sessionId) {
    throw new UsageError('context needs a SESSION id (see `context-ledger sessions`)');
  }
  if (!ledger.getSession(sessionId)) {
    throw new CliFailure(`no session ${sessionId} in ${ledger.storeDir}`, 1);
  }
  const window = windowFromOptions(options);
  const budget = positiveInteger(options.get('budget'), 'budget');
  const prompt = options.get('prompt');
  const system = options.get('system');
  const assembled = assembleContext(ledger.readSession(sessionId), {
    sessionId,
    window: window ?? { kind: 'full' },
    budgetTokens: budget ?? 100_000,
    // Flags win over the session's own window settings; without flags the session's apply.
    override: { ...(window ? { window } : {}), ...(budget !== undefined ? { budgetTokens: budget } : {}) },
    systemPrompt: typeof system === 'string' ? system : '',
    ...(typeof prompt === 'string' ? { promptText: prompt } : {}),
    counter: new CachedTokenCounter(),
    nowMs: Date.now(),
  });
  const body = toMessagesApiParams(assembled.request, {
    model: typeof options.get('model') === 'string' ? (options.get('model') as string) : defaultModel,
    maxTokens: positiveInteger(options.get('max-tokens'), 'max-tokens') ?? 4096,
    tools: modelToolDefinitions,
  });
  if (json) {
    out(JSON.stringify({ request: body, receipt: assembled.receipt }, null, 2));
  } else {
    out(receiptLines(assembled.receipt).join('\n'));
    out('');
    out('request body (POST /v1/messages):');
    out(JSON.stringify(body, null, 2));
  }
  return 0;
}

async function appendDrafts(ledger: Ledger, input: AppendInput): Promise<AppendVerdict[]> {
  try {
    return await ledger.append(input.drafts);
  } catch (error) {
    // The write may have landed in part (a short write, a failed fdatasync). The ids are fixed
    // by the input, so running it again completes it without storing anything twice.
    throw new CliFailure(
      `${error instanceof Error ? error.message : String(error)}. Part of this input may be stored; once the cause is fixed, run append again with the same input${input.batchKey !== undefined ? ' and --batch-key' : ''}: what is already stored is recognised and not stored twice`,
      1,
    );
  }
}

function describeVerdicts(verdicts: readonly AppendVerdict[], input: AppendInput): string {
  const count = (status: AppendVerdict['status']): number => verdicts.filter((verdict) => verdict.status === status).length;
  const lines = [`appended ${count('appended')}, already stored ${count('duplicate')}, conflicts ${count('conflict')}`];
  if (count('appended') === 0 && count('duplicate') > 0 && input.derivedIds > 0) {
    lines.push('this input was appended before (its events carry the same ids), so nothing was stored again; to append identical input on purpose, pass --batch-key with a new key');
  }
  for (const verdict of verdicts) {
    if (verdict.status === 'conflict') {
      lines.push(`conflict: event ${verdict.id}: ${verdict.reason}`);
    }
  }
  return lines.join('\n');
}

async function repairStore(storeDir: string, fileSystem: FileSystem, out: Output): Promise<number> {
  const report = await repairStoreFolder(fileSystem, storeDir);
  for (const line of report.lines) {
    out(line.replace('run verify for a full check', 'run `context-ledger verify` for a full check'));
  }
  return 0;
}

function exportEvents(ledger: Ledger, options: Map<string, string | true>, out: Output): number {
  const format = (options.get('format') as string | undefined) ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'md') {
    throw new UsageError(`--format must be jsonl or md, not ${format}`);
  }
  const sessionId = options.get('session') as string | undefined;
  const sessions = sessionId ? [ledger.getSession(sessionId)] : ledger.listSessions().reverse();
  if (sessions.some((session) => session === undefined)) {
    throw new CliFailure(`no session ${sessionId} in ${ledger.storeDir}`, 1);
  }
  const chunks: string[] = [];
  if (format === 'jsonl') {
    if (sessionId) {
      chunks.push(...ledger.readSession(sessionId).map((event) => JSON.stringify(event)));
    } else {
      for (const event of ledger.allEvents()) {
        chunks.push(JSON.stringify(event));
      }
    }
  } else {
    for (const session of sessions) {
      chunks.push(markdownTranscript(session!, ledger.readSession(session!.id)));
    }
  }
  const text = chunks.join('\n') + (chunks.length > 0 ? '\n' : '');
  const file = options.get('out') as string | undefined;
  if (file) {
    // A new file only: never truncate something the user already has.
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
    } catch (error) {
      throw new CliFailure(`cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`, 1);
    }
  } else {
    out(text.replace(/\n$/, ''));
  }
  return 0;
}

function readAllStdin(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

export interface CliIo {
  readonly out: Output;
  readonly err: Output;
  readonly readStdin: () => Promise<Buffer>;
  readonly fs?: FileSystem;
}

/** Runs one command and returns its exit status; errors become one line on `err`. */
export async function cliMain(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await runCli(argv, io.out, io.readStdin, io.fs, io.err);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`context-ledger: ${error instanceof UsageError ? 'usage: ' : 'error: '}${message}`);
    if (process.env.CONTEXT_LEDGER_DEBUG && error instanceof Error) {
      io.err(error.stack ?? '');
    }
    return error instanceof UsageError ? 2 : error instanceof CliFailure ? error.exitCode : 1;
  }
}

if (require.main === module) {
  void cliMain(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    readStdin: readAllStdin,
  }).then((code) => {
    process.exitCode = code;
  });
}
