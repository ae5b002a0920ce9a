import { EventValidationError, parseEventDraft } from '../log/events';
import type { LineMapper, LineOutcome } from './importTypes';

// This store's own export (`context-ledger export`, Export Session… as JSON lines): one stored
// event a line. The ids, sessions and bodies are kept, so importing an export into another store
// twice stores nothing twice, and into the store it came from stores nothing at all.
export class EventJsonlMapper implements LineMapper {
  readonly format = 'jsonl' as const;

  map(line: string): LineOutcome {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      return { drafts: [], problem: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'foreign') {
      return { drafts: [], problem: 'an event this version could not read when it was exported (kind "foreign"): not imported' };
    }
    try {
      const { kind, sessionId, body, id, parentId } = parseEventDraft(value) as { kind: string; sessionId: string; body: unknown; id?: string; parentId?: string | null };
      // expectedVersion is the exporting store's concurrency check, not part of the event.
      return { drafts: [{ kind, sessionId, body, ...(id !== undefined ? { id } : {}), ...(parentId ? { parentId } : {}) } as never] };
    } catch (error) {
      if (error instanceof EventValidationError) {
        return { drafts: [], problem: error.message };
      }
      throw error;
    }
  }
}

/** Whether the first line of a .jsonl file is one of this store's events (else: Claude Code). */
export function looksLikeEventJsonl(firstLine: string): boolean {
  try {
    const value = JSON.parse(firstLine) as Record<string, unknown>;
    return typeof value === 'object' && value !== null && typeof value.kind === 'string' && typeof value.sessionId === 'string' && 'body' in value && value.type === undefined;
  } catch {
    return false;
  }
}
