import { isRecord, type Validator } from '../log/bodyChecks';

// Checks of the context shapes stored in events: window specs (session.windowSet) and
// receipts (context.receipt), at the log boundary so no reader meets a malformed one.

/** A context receipt's shape, checked at the log boundary so no reader meets a malformed one. */
export function receiptShape(field: string): Validator {
  return (body) => {
    const receipt = body[field];
    if (!isRecord(receipt)) {
      return undefined; // object() says so
    }
    const number = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
    const seqOrNull = (value: unknown) => value === null || Number.isSafeInteger(value);
    // Receipts before 0.2 listed every event id of a part instead of its count; still readable.
    const countOrIds = (item: Record<string, unknown>) => number(item.eventCount) || (Array.isArray(item.eventIds) && item.eventIds.every((id) => typeof id === 'string'));
    if (typeof receipt.sessionId !== 'string' || !number(receipt.budgetTokens) || !number(receipt.totalTokens) || !number(receipt.createdMs)) {
      return `"${field}" needs sessionId, createdMs, budgetTokens and totalTokens`;
    }
    if (receipt.tokenSource !== 'api' && receipt.tokenSource !== 'estimate') {
      return `"${field}.tokenSource" must be "api" or "estimate"`;
    }
    const windowProblem = describeWindowProblem(receipt.window);
    if (windowProblem) {
      return `"${field}.window": ${windowProblem}`;
    }
    if (!Array.isArray(receipt.parts) || !receipt.parts.every((part) => isRecord(part) && typeof part.kind === 'string' && countOrIds(part) && seqOrNull(part.firstSeq) && seqOrNull(part.lastSeq) && number(part.tokens) && typeof part.reason === 'string')) {
      return `"${field}.parts" must be a list of parts (kind, firstSeq, lastSeq, eventCount, tokens, reason)`;
    }
    if (!receipt.parts.every((part: Record<string, unknown>) => part.replacesTokens === undefined || (part.kind === 'compaction' && number(part.replacesTokens)))) {
      return `"${field}.parts": only a compaction part has "replacesTokens", a number`;
    }
    if (!receipt.parts.every((part: Record<string, unknown>) => part.compactionId === undefined || (part.kind === 'compaction' && typeof part.compactionId === 'string'))) {
      return `"${field}.parts": only a compaction part has "compactionId", a string`;
    }
    if (!receipt.parts.every((part: Record<string, unknown>) => part.factEventIds === undefined || (part.kind === 'facts' && Array.isArray(part.factEventIds) && part.factEventIds.length <= 1000 && part.factEventIds.every((id) => typeof id === 'string')))) {
      return `"${field}.parts": only a facts part has "factEventIds", a list of at most 1,000 ids`;
    }
    if (!Array.isArray(receipt.excluded) || !receipt.excluded.every((item) => isRecord(item) && number(item.eventCount) && Number.isSafeInteger(item.firstSeq) && Number.isSafeInteger(item.lastSeq) && number(item.tokens) && typeof item.reason === 'string')) {
      return `"${field}.excluded" must be a list of exclusions (eventCount, firstSeq, lastSeq, tokens, reason)`;
    }
    return undefined;
  };
}

export function windowSpec(field: string): Validator {
  return (body) => {
    const problem = describeWindowProblem(body[field]);
    return problem ? `"${field}": ${problem}` : undefined;
  };
}

/** Why `value` is not a valid WindowSpec, or undefined if it is. */
export function describeWindowProblem(value: unknown): string | undefined {
  if (!isRecord(value)) {
    return 'a window must be an object with a "kind"';
  }
  const whole = (name: string, optional: boolean): string | undefined => {
    const field = value[name];
    if (field === undefined && optional) {
      return undefined;
    }
    return Number.isSafeInteger(field) && (field as number) > 0 ? undefined : `"${name}" must be a positive whole number`;
  };
  switch (value.kind) {
    case 'full':
      return undefined;
    case 'sliding':
      if (value.turns === undefined && value.tokens === undefined) {
        return 'a sliding window needs "turns" or "tokens"';
      }
      return whole('turns', true) ?? whole('tokens', true);
    case 'tumbling':
      return whole('blockTurns', false);
    case 'session':
      return whole('idleGapMinutes', false) ?? (typeof value.detectShift === 'boolean' ? undefined : '"detectShift" must be true or false');
    default:
      return `unknown window kind ${JSON.stringify(value.kind)}; expected full, sliding, tumbling or session`;
  }
}
