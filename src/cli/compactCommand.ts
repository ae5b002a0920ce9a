import { CompactionBarrierError } from '../core/compaction/barrier';
import { CompactionInputError, CompactionStaleError, commitCompaction, previewCompaction, undoCompaction, type CompactionContext, type Summarizer } from '../core/compaction/compactionEngine';
import { CompactionRangeError, parseTurnRange } from '../core/compaction/compactionRange';
import { isCompactionTier } from '../core/compaction/compactionTypes';
import { CompactionModelError } from '../core/compaction/modelCompactor';
import { CachedTokenCounter } from '../core/context/tokenCounts';
import type { Ledger } from '../core/ledger';
import { checkBaseUrl } from '../core/llm/baseUrl';
import { createModelPort } from '../core/llm/modelPort';
import { UsageError, positiveInteger } from './args';

// `context-ledger compact SESSION` and `undo SESSION`: the engine's compaction on the CLI.
// Without --yes, compact prints the preview (summary and trail) and commits nothing. The CLI
// cannot see another process's turn in flight; a turn that lands between its preview and its
// commit makes the commit stale (exit 3), and nothing is written.

export const compactionCommands: readonly string[] = ['compact', 'undo'];
export const compactionValueOptions: readonly string[] = ['tier', 'range', 'keep'];
export const compactionFlagOptions: readonly string[] = ['yes'];

export const compactionUsage = `  compact SESSION [--tier balanced|aggressive] [--range FIRST..LAST] [--keep N]
          [--model NAME] [--yes]
                               preview a compaction of turns FIRST..LAST (default: all but
                               the newest N, 2) and with --yes commit it; --model lets the
                               model write the summary (needs ANTHROPIC_API_KEY; base URL
                               from ANTHROPIC_BASE_URL), else the offline compactor does
  undo SESSION [--id COMPACTION]
                               undo the newest compaction in force (or the one named)`;

/** A compaction failure with its exit status (1 barrier or model, 2 input, 3 stale). */
export class CompactionCliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type Output = (line: string) => void;

function summarizerFrom(options: Map<string, string | true>): Summarizer {
  const model = options.get('model');
  if (model === undefined) {
    return { kind: 'offline' };
  }
  if (typeof model !== 'string' || model.trim() === '') {
    throw new UsageError('--model needs a model name');
  }
  const apiKey = process.env.ANTHROPIC_API_KEY;
  if (!apiKey) {
    throw new UsageError('--model needs ANTHROPIC_API_KEY in the environment (without --model the offline compactor runs, no key needed)');
  }
  const baseUrl = checkBaseUrl(process.env.ANTHROPIC_BASE_URL ?? null);
  if (!baseUrl.ok) {
    throw new UsageError(`ANTHROPIC_BASE_URL: ${baseUrl.problem}`);
  }
  const timeoutMs = 300_000;
  return { kind: 'model', port: createModelPort({ apiKey, baseUrl: baseUrl.baseUrl, model, maxTokens: 8000, timeoutMs, logLevel: 'off' }), model, signal: AbortSignal.timeout(timeoutMs), timeoutMs };
}

export async function runCompactionCommand(ledger: Ledger, command: string, rest: readonly string[], options: Map<string, string | true>, json: boolean, out: Output): Promise<number> {
  const sessionId = rest[0];
  if (!sessionId) {
    throw new UsageError(`${command} needs a SESSION id (see \`context-ledger sessions\`)`);
  }
  const context: CompactionContext = { ledger, counter: new CachedTokenCounter(), inFlight: () => false, defaultTier: 'balanced' };
  try {
    if (command === 'undo') {
      const id = options.get('id');
      const undone = await undoCompaction(context, { sessionId, ...(typeof id === 'string' ? { compactionId: id } : {}) });
      out(json ? JSON.stringify(undone, null, 2) : `undid compaction ${undone.compactionId} of turns ${undone.range.firstTurn}–${undone.range.lastTurn}: those turns go into requests as they were`);
      return 0;
    }
    const tier = options.get('tier');
    if (tier !== undefined && !isCompactionTier(tier)) {
      throw new UsageError('--tier must be balanced or aggressive (full never compacts)');
    }
    const range = options.get('range');
    if (range === true) {
      throw new UsageError('--range needs FIRST..LAST');
    }
    const keepTurns = positiveInteger(options.get('keep'), 'keep');
    const preview = await previewCompaction(
      context,
      { sessionId, ...(tier !== undefined ? { tier } : {}), ...(range !== undefined ? { range: parseTurnRange(range) } : {}), ...(keepTurns !== undefined ? { keepTurns } : {}) },
      summarizerFrom(options),
    );
    const { body } = preview;
    if (!options.has('yes')) {
      if (json) {
        out(JSON.stringify({ committed: false, preview }, null, 2));
      } else {
        out(`Preview: turns ${body.range.firstTurn}–${body.range.lastTurn} (events ${body.range.firstSeq}–${body.range.lastSeq}), ${body.tier}, by ${body.model}: ${body.summaryTokens} tokens in place of ${body.sourceTokens}.`);
        out('');
        out(preview.messageText);
        out('');
        out('Nothing was committed; run again with --yes to commit it.');
      }
      return 0;
    }
    const committed = await commitCompaction(context, { sessionId, body });
    out(
      json
        ? JSON.stringify({ committed: true, compactionId: committed.compactionId, seq: committed.seq, duplicate: committed.duplicate, body: committed.body }, null, 2)
        : `committed compaction ${committed.compactionId} (event ${committed.seq}): turns ${body.range.firstTurn}–${body.range.lastTurn}, ${committed.body.summaryTokens} tokens in place of ${committed.body.sourceTokens}; \`context-ledger undo ${sessionId}\` takes it back`,
    );
    return 0;
  } catch (error) {
    if (error instanceof CompactionStaleError) {
      throw new CompactionCliFailure(error.message, 3);
    }
    if (error instanceof CompactionRangeError || error instanceof CompactionInputError) {
      throw new CompactionCliFailure(error.message, 2);
    }
    if (error instanceof CompactionBarrierError || error instanceof CompactionModelError) {
      throw new CompactionCliFailure(error.message, 1);
    }
    throw error;
  }
}
