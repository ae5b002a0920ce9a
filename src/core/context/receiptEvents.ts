import type { StoredEvent } from '../log/events';
import type { ContextReceipt, ExclusionReason, ReceiptExclusion, ReceiptPart } from './contextTypes';
import { firstAtOrAfter } from './seqSearch';
import { isContentEvent, type ContentEvent } from './units';

// A receipt names what went in and what stayed out by sequence ranges and counts, never by
// listing event ids, so a receipt of a 50,000-event session is as small as one of a 5-event
// session. These resolve the ranges back to the events, from the session's own events.

/** Reasons that hold one event back from a unit that otherwise went in. */
const heldBackReasons: ReadonlySet<ExclusionReason> = new Set(['tool-result-pending', 'unanswered-tool-use', 'orphan-tool-result', 'duplicate-tool-use', 'empty', 'superseded']);

export function isHeldBack(exclusion: Pick<ReceiptExclusion, 'reason'>): boolean {
  return heldBackReasons.has(exclusion.reason);
}

/** The content events of `sessionEvents` (ascending seq) from `firstSeq` to `lastSeq`. */
function contentBetween(sessionEvents: readonly StoredEvent[], firstSeq: number, lastSeq: number): ContentEvent[] {
  const found: ContentEvent[] = [];
  for (let i = firstAtOrAfter(sessionEvents, firstSeq, (event) => event.seq); i < sessionEvents.length && sessionEvents[i]!.seq <= lastSeq; i++) {
    const event = sessionEvents[i]!;
    if (isContentEvent(event)) {
      found.push(event);
    }
  }
  return found;
}

/** The events a part was made from: its range, less the events the receipt held back. */
export function eventsOfPart(part: ReceiptPart, receipt: Pick<ContextReceipt, 'excluded'>, sessionEvents: readonly StoredEvent[]): ContentEvent[] {
  if (part.firstSeq === null || part.lastSeq === null) {
    return [];
  }
  const heldBack = new Set(receipt.excluded.filter(isHeldBack).map((exclusion) => exclusion.firstSeq));
  return contentBetween(sessionEvents, part.firstSeq, part.lastSeq).filter((event) => !heldBack.has(event.seq));
}

/** The events an exclusion left out. */
export function eventsOfExclusion(exclusion: ReceiptExclusion, sessionEvents: readonly StoredEvent[]): ContentEvent[] {
  return contentBetween(sessionEvents, exclusion.firstSeq, exclusion.lastSeq);
}
