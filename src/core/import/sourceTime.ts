import type { EventDraft, StoredEvent } from '../log/events';

// When an imported event happened in its source. The envelope's wallMs is this store's: the
// writer's clock when it appended the event (the hybrid clock and the sessions' activity rest on
// it). An import adds the source's own time to the body instead, as `sourceTimeMs` (ms since the
// epoch), which any body may carry; readers that show time prefer it.

export interface SourceTime {
  readonly sourceTimeMs?: number;
}

/** The body check of `sourceTimeMs` (events.ts runs it for every kind). */
export function sourceTimeProblem(body: Record<string, unknown>): string | undefined {
  const value = body.sourceTimeMs;
  return value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0) ? undefined : '"sourceTimeMs" must be a whole number of milliseconds since 1970';
}

/** A source record's timestamp (ISO 8601, as Claude Code writes it) in ms, or undefined. */
export function parseSourceTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function withSourceTime(draft: EventDraft, sourceTimeMs: number): EventDraft {
  return { ...draft, body: { ...(draft.body as object), sourceTimeMs } } as unknown as EventDraft;
}

/** When the event happened: in its source if it was imported with a time, else when it was written. */
export function eventTimeMs(event: Pick<StoredEvent, 'wallMs' | 'body'>): { readonly ms: number; readonly fromSource: boolean } {
  const source = (event.body as SourceTime | null | undefined)?.sourceTimeMs;
  return typeof source === 'number' && Number.isSafeInteger(source) && source >= 0 ? { ms: source, fromSource: true } : { ms: event.wallMs, fromSource: false };
}
