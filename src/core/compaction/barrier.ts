import type { StoredEvent } from '../log/events';

// The causal barrier: a compaction must not be made while the session's history is still
// moving under it. A tool call waiting for its result, or a reply being written, would change
// what the range means (or land inside it); the user is told which and when it can run.

export type BarrierReason = 'pending-tool-call' | 'in-flight';

export class CompactionBarrierError extends Error {
  override readonly name = 'CompactionBarrierError';

  constructor(
    readonly reason: BarrierReason,
    message: string,
    /** When it can run, in words. */
    readonly whenReady: string,
  ) {
    super(`${message} ${whenReady}`);
  }
}

/** A tool call with no result whose turn has not ended (no later question, no failed turn). */
export function pendingToolCall(events: readonly StoredEvent[]): Extract<StoredEvent, { kind: 'tool.use' }> | undefined {
  const answered = new Set<string>();
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.kind === 'tool.result') {
      answered.add(event.body.toolUseId);
    } else if (event.kind === 'message.user' || event.kind === 'turn.failed') {
      return undefined; // Calls before a later question or a failed turn are over, answered or not.
    } else if (event.kind === 'tool.use' && !answered.has(event.body.toolUseId)) {
      return event;
    }
  }
  return undefined;
}

/** Throws CompactionBarrierError when the session cannot be compacted now. */
export function checkBarrier(sessionId: string, events: readonly StoredEvent[], inFlight: boolean): void {
  if (inFlight) {
    throw new CompactionBarrierError('in-flight', `A reply is being written in session ${sessionId}, so its history is not settled.`, 'Compaction can run when the reply ends (or after Stop).');
  }
  const pending = pendingToolCall(events);
  if (pending) {
    throw new CompactionBarrierError(
      'pending-tool-call',
      `The tool call ${pending.body.name} (${pending.body.toolUseId}, event ${pending.seq}) has no result yet, so its turn is not settled.`,
      'Compaction can run once its result is logged or the turn ends.',
    );
  }
}
