import { compactionCommittedValidators, compactionUndoneValidators, sessionTierSetValidators } from '../compaction/compactionValidators';
import { receiptShape, windowSpec } from '../context/contextChecks';
import { factBodyChecks, factEventKinds } from '../facts/factEvents';
import { sourceTimeProblem } from '../import/sourceTime';
import { mcpBodyChecks, mcpEventKinds } from '../mcp/mcpEvents';
import { digest, errorInfo, flag, isRecord, nonEmpty, nullableDigest, nullableText, object, optionalWholeNumber, positive, text, wholeNumber, type Validator } from './bodyChecks';
import type { AppendableKind, EventKind } from './events';

// The kind registry: every kind a writer may append and the checks its body must pass. Apart
// from the types in events.ts (imported as types only, so there is no import cycle at run time).

export const eventKinds: readonly AppendableKind[] = [
  'session.started',
  'session.renamed',
  'session.closed',
  'message.user',
  'message.assistant',
  'tool.use',
  'tool.result',
  'context.pinned',
  'context.unpinned',
  'topic.boundary',
  'session.windowSet',
  'context.receipt',
  'message.superseded',
  'turn.failed',
  'session.hidden',
  'compaction.committed',
  'compaction.undone',
  'session.tierSet',
  'import.cursor',
  'import.thinking',
  'import.record',
  'import.compactBoundary',
  'import.compactSummary',
  'import.request',
  'prompt.version',
  ...factEventKinds,
  ...mcpEventKinds,
];

/** Kinds that count as a turn in session summaries: a user question (its answer and tool rounds belong to it). */
export const turnKinds: ReadonlySet<EventKind> = new Set(['message.user']);

const bodyValidators: Record<AppendableKind, readonly Validator[]> = {
  'session.started': [text('name', { max: 200 }), nonEmpty('name')],
  'session.renamed': [text('name', { max: 200 }), nonEmpty('name')],
  'session.closed': [],
  'message.user': [text('text')],
  'message.assistant': [text('text'), text('model', { optional: true, max: 200 }), text('stopReason', { optional: true, max: 200 }), flag('incomplete')],
  'tool.use': [text('toolUseId', { max: 200 }), nonEmpty('toolUseId'), text('name', { max: 200 }), nonEmpty('name')],
  'tool.result': [text('toolUseId', { max: 200 }), nonEmpty('toolUseId'), text('content'), flag('isError')],
  'context.pinned': [text('eventId', { max: 200 }), nonEmpty('eventId')],
  'context.unpinned': [text('eventId', { max: 200 }), nonEmpty('eventId')],
  'topic.boundary': [text('label', { optional: true, max: 200 })],
  'session.windowSet': [windowSpec('window'), positive('budgetTokens')],
  'context.receipt': [text('requestId', { max: 200 }), nonEmpty('requestId'), object('receipt'), receiptShape('receipt')],
  'message.superseded': [text('eventId', { max: 200 }), nonEmpty('eventId'), text('byRequestId', { max: 200 }), nonEmpty('byRequestId')],
  'turn.failed': [text('requestId', { max: 200 }), nonEmpty('requestId'), nullableText('userEventId'), errorInfo('error')],
  'session.hidden': [],
  'compaction.committed': compactionCommittedValidators,
  'compaction.undone': compactionUndoneValidators,
  'session.tierSet': sessionTierSetValidators,
  'import.cursor': [text('path', { max: 4096 }), nonEmpty('path'), text('format', { max: 40 }), wholeNumber('bytes'), wholeNumber('lines'), text('headDigest', { max: 64 })],
  'import.thinking': [text('text'), flag('redacted')],
  'import.record': [text('recordType', { max: 100 }), nonEmpty('recordType'), text('subtype', { optional: true, max: 100 }), text('text')],
  'import.compactBoundary': [text('trigger', { optional: true, max: 100 }), optionalWholeNumber('preTokens')],
  'import.compactSummary': [text('text')],
  'import.request': [
    text('requestRef', { max: 200 }),
    nonEmpty('requestRef'),
    text('model', { optional: true, max: 200 }),
    wholeNumber('messageCount'),
    wholeNumber('newMessageCount'),
    wholeNumber('messageChars'),
    wholeNumber('systemChars'),
    wholeNumber('toolCount'),
    wholeNumber('estimatedTokens'),
    flag('complete'),
  ],
  'prompt.version': [digest('digest'), nullableDigest('previousDigest'), promptVersionSources('sources')],
  ...factBodyChecks,
  ...mcpBodyChecks,
};

function promptVersionSources(field: string): Validator {
  return (body) => {
    const value = body[field];
    if (!Array.isArray(value) || value.length > 1000) {
      return `"${field}" must be a list of at most 1000 sources`;
    }
    for (const [index, source] of value.entries()) {
      const problem = isRecord(source) ? (text('path', { max: 1000 })(source) ?? nonEmpty('path')(source) ?? digest('digest')(source) ?? text('text')(source)) : 'must be an object';
      if (problem) {
        return `"${field}[${index}]": ${problem}`;
      }
    }
    return undefined;
  };
}

const appendableKinds: ReadonlySet<string> = new Set(eventKinds);

export function isEventKind(value: unknown): value is AppendableKind {
  return typeof value === 'string' && appendableKinds.has(value);
}

/** Why `body` is not a valid body of `kind` in this version, or undefined if it is. */
export function describeBodyProblem(kind: AppendableKind, body: unknown): string | undefined {
  const value = body === undefined && (kind === 'session.closed' || kind === 'session.hidden') ? {} : body;
  if (!isRecord(value)) {
    return `"body" of a ${kind} event must be a JSON object`;
  }
  for (const validate of bodyValidators[kind]) {
    const problem = validate(value);
    if (problem) {
      return `${kind} body: ${problem}`;
    }
  }
  // Any body may carry the time its source record had (imports).
  const timeProblem = sourceTimeProblem(value);
  return timeProblem ? `${kind} body: ${timeProblem}` : undefined;
}
