import * as fs from 'node:fs';
import type { WindowSpec } from '../core/context/contextTypes';
import { assembleContext } from '../core/context/assembleContext';
import { CachedTokenCounter } from '../core/context/tokenCounts';
import { Ledger, type AppendVerdict } from '../core/ledger';
import { toMessagesApiParams } from '../core/llm/anthropicClient';
import { EventValidationError, describeWindowProblem, parseEventDraft } from '../core/log/events';
import { receiptLines } from '../core/report/receiptReport';
import { statsLines, verifyLines } from '../core/report/storeReport';
import { modelToolDefinitions } from '../core/tools/modelTools';
import { UsageError, parseArgs, positiveInteger } from './args';
import { markdownTranscript, transcriptLines } from './transcript';

// `context-ledger`: the command-line front end on the same engine as the extension.
const usage = `Usage: context-ledger [--store DIR] <command> [options]

Commands:
  sessions                     list sessions (newest activity first)
  show SESSION [--last N]      print a session as a readable transcript
  stats                        store statistics
  verify                       check the journal, projections and snapshots
  export [--format jsonl|md] [--session ID] [--out FILE]
                               export events as JSON lines (default) or Markdown
  append                       append events given as JSON lines on stdin
  snapshot                     write a snapshot of the projections now
  context SESSION [--budget N] [--window full|sliding|tumbling|session] [--turns N]
          [--tokens N] [--block N] [--idle-minutes N] [--detect-shift] [--system TEXT]
          [--prompt TEXT] [--model NAME] [--max-tokens N]
                               print the request that would be sent, and its receipt

Options:
  --store DIR   the store folder (default: $CONTEXT_LEDGER_STORE)
  --json        machine-readable output (sessions, show, stats, verify, append, context)
  --help        this text

Exit status: 0 success, 1 failure (or problems found by verify), 2 bad usage or input,
3 an append was refused as a conflict.`;

const valueOptions = new Set(['store', 'last', 'format', 'session', 'out', 'budget', 'window', 'turns', 'tokens', 'block', 'idle-minutes', 'system', 'prompt', 'model', 'max-tokens']);
const flagOptions = new Set(['json', 'help', 'version', 'detect-shift']);
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

export async function runCli(argv: readonly string[], out: Output, readStdin: () => Promise<string>): Promise<number> {
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
  const writes = command === 'append' || command === 'snapshot';
  const known = ['sessions', 'show', 'stats', 'verify', 'export', 'append', 'snapshot', 'context'];
  if (!known.includes(command)) {
    throw new UsageError(`unknown command "${command}"; commands: ${known.join(', ')}`);
  }
  // Validate stdin before opening the store: bad input must not leave anything behind.
  const drafts = command === 'append' ? parseDrafts(await readStdin()) : [];
  const ledger = await Ledger.open({ storeDir, readOnly: !writes, snapshotEveryEvents: 0 });
  try {
    switch (command) {
      case 'sessions': {
        const sessions = ledger.listSessions();
        if (json) {
          out(JSON.stringify(sessions, null, 2));
        } else if (sessions.length === 0) {
          out('no sessions');
        } else {
          for (const session of sessions) {
            out(`${session.id}  ${session.name}  ${session.turnCount} turns  last ${new Date(session.lastActivityMs).toISOString()}${session.closed ? '  (closed)' : ''}${session.hidden ? '  (hidden)' : ''}`);
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
        const report = ledger.verify();
        out(json ? JSON.stringify(report, null, 2) : verifyLines(report).join('\n'));
        return report.ok ? 0 : 1;
      }
      case 'export':
        return exportEvents(ledger, options, out);
      case 'append': {
        const verdicts = await ledger.append(drafts);
        out(json ? verdicts.map((verdict) => JSON.stringify(verdict)).join('\n') : describeVerdicts(verdicts));
        return verdicts.some((verdict) => verdict.status === 'conflict') ? 3 : 0;
      }
      case 'context':
        return printContext(ledger, rest[0], options, json, out);
      case 'snapshot': {
        const outcome = ledger.snapshot();
        out(outcome.written ? `snapshot ${outcome.file} written (seq ${outcome.seq}, ${outcome.bytes} bytes, ${outcome.ms.toFixed(1)} ms)` : `no snapshot written: ${outcome.reason}`);
        return 0;
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

function parseDrafts(input: string): unknown[] {
  const drafts: unknown[] = [];
  const lines = input.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') {
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`stdin line ${index + 1} is not JSON (${error instanceof Error ? error.message : String(error)}); nothing was appended`);
    }
    try {
      drafts.push(parseEventDraft(value));
    } catch (error) {
      if (error instanceof EventValidationError) {
        throw new UsageError(`stdin line ${index + 1}: ${error.message}; nothing was appended`);
      }
      throw error;
    }
  });
  if (drafts.length === 0) {
    throw new UsageError('append reads events as JSON lines on stdin, and got none');
  }
  return drafts;
}

function describeVerdicts(verdicts: readonly AppendVerdict[]): string {
  const count = (status: AppendVerdict['status']): number => verdicts.filter((verdict) => verdict.status === status).length;
  const lines = [`appended ${count('appended')}, duplicates ${count('duplicate')}, conflicts ${count('conflict')}`];
  for (const verdict of verdicts) {
    if (verdict.status === 'conflict') {
      lines.push(`conflict: event ${verdict.id}: ${verdict.reason}`);
    }
  }
  return lines.join('\n');
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

function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

if (require.main === module) {
  runCli(process.argv.slice(2), (line) => process.stdout.write(line + '\n'), readAllStdin).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`context-ledger: ${error instanceof UsageError ? 'usage: ' : 'error: '}${message}\n`);
      if (process.env.CONTEXT_LEDGER_DEBUG && error instanceof Error) {
        process.stderr.write(`${error.stack ?? ''}\n`);
      }
      process.exitCode = error instanceof UsageError ? 2 : error instanceof CliFailure ? error.exitCode : 1;
    },
  );
}
