import type { StoredEvent } from '../log/events';
import { describeEvent } from '../report/transcriptReport';
import { detailSpans, droppedDetails, type DetailKind } from './droppedDetails';
import { categoryOf } from './timelineRows';
import type { CompactionComparison } from './timelineTypes';

export type { CompactionComparison, RawItem } from './timelineTypes';

// The side-by-side view of a compaction preview: the raw turns of its range, each with the
// places of the details the summary (and the trail beside it) dropped, and the list of them.

export const rawItemChars = 4000;

function key(kind: DetailKind, text: string): string {
  return `${kind}:${kind === 'number' ? text.replace(/[,_]/g, '') : text}`;
}

/** Compares the range's events with what replaces them (the summary and the trail text). */
export function compareCompaction(events: readonly StoredEvent[], summary: string, trailText: string): CompactionComparison {
  const texts = events.map((event) => describeEvent(event));
  const dropped = droppedDetails(texts.join('\n'), `${summary}\n${trailText}`);
  const droppedKeys = new Set(dropped.map((detail) => key(detail.kind, detail.text)));
  const all = new Set<string>();
  const raw = events.map((event, i) => {
    const full = texts[i]!;
    const text = full.length > rawItemChars ? `${full.slice(0, rawItemChars - 1)}…` : full;
    const spans = detailSpans(full);
    for (const span of spans) {
      all.add(key(span.kind, span.text));
    }
    const highlights = spans.filter((span) => span.end <= text.length && droppedKeys.has(key(span.kind, span.text))).map(({ start, end, kind }) => ({ start, end, kind }));
    return { seq: event.seq, category: categoryOf(event), text, clipped: text.length < full.length, highlights };
  });
  return { raw, dropped, detailCount: all.size, keptCount: all.size - droppedKeys.size };
}
