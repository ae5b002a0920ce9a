// bench:import: generates a folder of Claude Code transcripts (default 500 MB, realistic shapes:
// questions, answers split over lines per content block with thinking and tool calls, tool
// results with file contents, attachments, file-history snapshots, API request records), then
// imports it into a fresh store. Beside it, in the same run, a baseline: reading every line and
// JSON.parse of each. Each phase runs in a process of its own, so its peak RSS is its own.
//
//   npm run bench:import                 (BENCH_IMPORT_MB=100 for a smaller folder)

import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Importer } from '../src/core/import/importer';
import { readLines } from '../src/core/import/lineReader';
import { findTranscriptFiles } from '../src/core/import/importer';
import { Ledger } from '../src/core/ledger';

interface PhaseResult {
  readonly phase: string;
  readonly ms: number;
  readonly bytes: number;
  readonly lines: number;
  readonly events: number;
  readonly peakRssMb: number;
}

function record(sessionId: string, uuid: string, parentUuid: string | null, extra: Record<string, unknown>): Record<string, unknown> {
  return { parentUuid, isSidechain: false, userType: 'external', cwd: '/home/dev/project', sessionId, version: '2.1.332', gitBranch: 'main', uuid, timestamp: '2026-11-30T10:00:00.000Z', ...extra };
}

/** One session file of about `targetBytes`. */
function writeSession(file: string, sessionId: string, targetBytes: number, seed: number): void {
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let turn = 0;
  let previous: string | null = null;
  const code = (n: number) => Array.from({ length: n }, (_, line) => `export function handler${seed}_${line}(input: string): number { return input.length * ${line}; } // line ${line}`).join('\n');
  const write = (value: Record<string, unknown>): void => {
    const line = JSON.stringify(value) + '\n';
    fs.writeSync(fd, line);
    written += Buffer.byteLength(line);
    previous = typeof value.uuid === 'string' ? value.uuid : previous;
  };
  try {
    while (written < targetBytes) {
      const t = `${seed}-${turn++}`;
      write(record(sessionId, `u${t}`, previous, { type: 'user', message: { role: 'user', content: `Please change the handler in src/module${turn % 40}.ts so that it validates its input (turn ${turn}).` } }));
      write(record(sessionId, `at${t}`, previous, { type: 'attachment', attachment: { type: 'date', date: '2026-11-30' } }));
      const messageId = `msg_${t}`;
      const assistant = (uuid: string, block: unknown) => record(sessionId, uuid, previous, { type: 'assistant', requestId: `req_${t}`, message: { id: messageId, type: 'message', role: 'assistant', model: 'claude-sonnet-5-5', content: [block], stop_reason: null, usage: { input_tokens: 1200, output_tokens: 300 } } });
      write(assistant(`a${t}-0`, { type: 'thinking', thinking: `I should read the module first, then edit the validation. ${'Reasoning step. '.repeat(20)}`, signature: 'c2lnbmF0dXJl' }));
      write(assistant(`a${t}-1`, { type: 'text', text: 'Let me read the file.' }));
      write(assistant(`a${t}-2`, { type: 'tool_use', id: `toolu_${t}`, name: 'Read', input: { file_path: `/home/dev/project/src/module${turn % 40}.ts` } }));
      const contents = code(20 + (turn % 60));
      write(record(sessionId, `r${t}`, previous, { type: 'user', message: { role: 'user', content: [{ tool_use_id: `toolu_${t}`, type: 'tool_result', content: contents }] }, toolUseResult: { type: 'text', file: { filePath: `/home/dev/project/src/module${turn % 40}.ts`, content: contents, numLines: 40 } } }));
      write({ type: 'file-history-snapshot', messageId: `u${t}`, snapshot: { messageId: `u${t}`, trackedFileBackups: {}, timestamp: '2026-11-30T10:00:01.000Z' }, isSnapshotUpdate: false });
      write(record(sessionId, `e${t}`, previous, { type: 'assistant', message: { id: `msg_e${t}`, type: 'message', role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'tool_use', id: `toolu_e${t}`, name: 'Edit', input: { file_path: `/home/dev/project/src/module${turn % 40}.ts`, old_string: 'return input.length', new_string: 'if (!input) throw new Error("empty"); return input.length' } }], stop_reason: 'tool_use' } }));
      write(record(sessionId, `er${t}`, previous, { type: 'user', message: { role: 'user', content: [{ tool_use_id: `toolu_e${t}`, type: 'tool_result', content: 'The file has been updated successfully.' }] } }));
      write(record(sessionId, `f${t}`, previous, { type: 'assistant', message: { id: `msg_f${t}`, type: 'message', role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'text', text: `Done: the handler now rejects empty input. ${'Details. '.repeat(15)}` }], stop_reason: 'end_turn' } }));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function generate(dir: string, totalBytes: number): void {
  const perSession = 4 * 1024 * 1024;
  const sessions = Math.max(1, Math.ceil(totalBytes / perSession));
  for (let index = 0; index < sessions; index++) {
    const folder = path.join(dir, `-home-dev-project${index % 8}`);
    fs.mkdirSync(folder, { recursive: true });
    const sessionId = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
    writeSession(path.join(folder, `${sessionId}.jsonl`), sessionId, Math.min(perSession, totalBytes - index * perSession), index);
  }
}

async function runPhase(phase: string, dir: string): Promise<PhaseResult> {
  const started = performance.now();
  let bytes = 0;
  let lines = 0;
  let events = 0;
  if (phase === 'baseline') {
    for (const file of findTranscriptFiles([dir])) {
      for (const line of readLines(file, 0, 0)) {
        bytes += line.bytes + 1;
        lines++;
        JSON.parse(line.text!);
      }
    }
  } else {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-import-store-'));
    const ledger = await Ledger.open({ storeDir: store, snapshotEveryEvents: 0 });
    try {
      const summary = await new Importer(ledger).importPaths([dir]);
      bytes = summary.bytesRead;
      lines = summary.files.reduce((sum, file) => sum + file.linesRead, 0);
      events = summary.eventsAdded;
      if (summary.problems.length > 0) {
        throw new Error(`the generated folder had problems: ${summary.problems[0]!.problem}`);
      }
    } finally {
      ledger.close();
      fs.rmSync(store, { recursive: true, force: true });
    }
  }
  return { phase, ms: performance.now() - started, bytes, lines, events, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function inChild(phase: string, dir: string): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--phase', phase, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message) => resolve(message as PhaseResult));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`${phase} exited with ${String(code)}`))));
  });
}

async function main(): Promise<void> {
  const phaseIndex = process.argv.indexOf('--phase');
  if (phaseIndex >= 0) {
    const result = await runPhase(process.argv[phaseIndex + 1]!, process.argv[phaseIndex + 2]!);
    process.send!(result, () => process.exit(0));
    return;
  }
  const megabytes = Number(process.env.BENCH_IMPORT_MB ?? 500);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-import-'));
  try {
    const generating = performance.now();
    generate(dir, megabytes * 1024 * 1024);
    console.log(`generated ${megabytes} MB of transcripts in ${((performance.now() - generating) / 1000).toFixed(1)} s (${findTranscriptFiles([dir]).length} files)`);
    const results = [await inChild('baseline', dir), await inChild('import', dir)];
    console.log('phase     MB       lines      events   seconds   MB/s   peak RSS MB');
    for (const result of results) {
      const mb = result.bytes / (1024 * 1024);
      console.log(`${result.phase.padEnd(8)} ${mb.toFixed(0).padStart(5)} ${String(result.lines).padStart(10)} ${String(result.events).padStart(11)} ${(result.ms / 1000).toFixed(1).padStart(9)} ${(mb / (result.ms / 1000)).toFixed(1).padStart(6)} ${result.peakRssMb.toFixed(0).padStart(12)}`);
    }
    console.log('baseline: read every line and JSON.parse it; import: the same files into a fresh store (events, cursors, fdatasync per batch)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
