import type { ContextReceipt } from '../../core/context/contextTypes';
import { eventTimeMs } from '../../core/import/sourceTime';
import type { StoredEvent } from '../../core/log/events';
import type { SessionSummary } from '../../core/ledger';
import type { SessionItem, TranscriptEntry } from '../../shared/chatPanelMessages';
import type { ChatErrorInfo } from '../../shared/chatProtocol';

// A session's log events as the rows the chat panel shows. No vscode import (unit-tested).

/**
 * Each `context.receipt` goes under the answer it produced: the first assistant message after
 * it, before the next user message. A receipt with no answer (the send failed) stays a row.
 */
export function toTranscript(events: readonly StoredEvent[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  const questions = new Map<string, string>();
  const superseded = new Set(events.flatMap((event) => (event.kind === 'message.superseded' ? [event.body.eventId] : [])));
  let pendingReceipt: { eventId: string; receipt: ContextReceipt } | null = null;
  /** Where each compaction's row is, for its undo. */
  const compactions = new Map<string, number>();
  const flushReceipt = (): void => {
    if (pendingReceipt) {
      entries.push({ kind: 'receipt', eventId: pendingReceipt.eventId, receipt: pendingReceipt.receipt });
      pendingReceipt = null;
    }
  };
  for (const event of events) {
    switch (event.kind) {
      case 'message.user':
        flushReceipt();
        entries.push({ kind: 'user', eventId: event.id, seq: event.seq, text: event.body.text, wallMs: eventTimeMs(event).ms });
        questions.set(event.id, event.body.text);
        break;
      case 'message.assistant':
        entries.push({
          kind: 'assistant',
          eventId: event.id,
          text: event.body.text,
          wallMs: eventTimeMs(event).ms,
          model: event.body.model ?? null,
          incomplete: event.body.incomplete === true,
          receipt: pendingReceipt?.receipt ?? null,
          ...(superseded.has(event.id) ? { superseded: true } : {}),
        });
        pendingReceipt = null;
        break;
      case 'tool.use':
        entries.push({ kind: 'toolUse', eventId: event.id, toolUseId: event.body.toolUseId, name: event.body.name, input: describeToolInput(event.body.input) });
        break;
      case 'tool.result':
        entries.push({ kind: 'toolResult', eventId: event.id, toolUseId: event.body.toolUseId, content: event.body.content, isError: event.body.isError === true });
        break;
      case 'context.receipt':
        flushReceipt();
        pendingReceipt = { eventId: event.id, receipt: event.body.receipt };
        break;
      case 'topic.boundary':
        flushReceipt();
        entries.push({ kind: 'topic', eventId: event.id, label: event.body.label ?? null });
        break;
      case 'session.renamed':
        entries.push({ kind: 'renamed', eventId: event.id, name: event.body.name });
        break;
      case 'turn.failed':
        // Where and when the turn failed; its Retry asks the same logged question again.
        flushReceipt();
        entries.push({
          kind: 'error',
          requestId: event.body.requestId,
          error: { ...event.body.error, kind: event.body.error.kind as ChatErrorInfo['kind'] },
          retryText: event.body.userEventId === null ? null : (questions.get(event.body.userEventId) ?? null),
        });
        break;
      case 'compaction.committed': {
        flushReceipt();
        const { range, tier, model, summaryTokens, sourceTokens } = event.body;
        compactions.set(event.id, entries.length);
        entries.push({ kind: 'compaction', eventId: event.id, firstTurn: range.firstTurn, lastTurn: range.lastTurn, tier, model, summaryTokens, sourceTokens, automatic: event.body.automatic === true, undone: false });
        break;
      }
      case 'compaction.undone': {
        // Shown on the compaction's own row (its Undo link goes); one undone before the loaded events shows nothing.
        const index = compactions.get(event.body.compactionId);
        const entry = index === undefined ? undefined : entries[index];
        if (index !== undefined && entry?.kind === 'compaction') {
          entries[index] = { ...entry, undone: true };
        }
        break;
      }
      case 'import.request': {
        const { requestRef, model, messageCount, newMessageCount, toolCount, estimatedTokens, complete } = event.body;
        entries.push({ kind: 'importedRequest', eventId: event.id, requestRef, model: model ?? null, messageCount, newMessageCount, toolCount, estimatedTokens, complete });
        break;
      }
      case 'session.started':
      case 'session.closed':
      case 'message.superseded':
      case 'context.pinned':
      case 'context.unpinned':
      case 'session.windowSet':
      case 'session.hidden':
      case 'prompt.version':
        break;
    }
  }
  flushReceipt();
  return entries;
}

/**
 * Retry answers the session's newest question in its place, so only an error after the newest
 * question and its last complete answer keeps its Retry button.
 */
export function withoutStaleRetries(entries: readonly TranscriptEntry[]): TranscriptEntry[] {
  let stale = false;
  const result = [...entries];
  for (let index = result.length - 1; index >= 0; index--) {
    const entry = result[index]!;
    if (entry.kind === 'user' || (entry.kind === 'assistant' && !entry.incomplete && entry.superseded !== true)) {
      stale = true;
    } else if (entry.kind === 'error' && stale && entry.retryText !== null) {
      result[index] = { ...entry, retryText: null };
    }
  }
  return result;
}

/** The newest receipt in a session's events (for the status bar gauge). */
export function lastReceipt(events: readonly StoredEvent[]): ContextReceipt | null {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index];
    if (event?.kind === 'context.receipt') {
      return event.body.receipt;
    }
  }
  return null;
}

/** A tool's input as compact JSON for a collapsed row (never more than a few KB). */
export function describeToolInput(input: unknown, maxLength = 4000): string {
  let text: string;
  try {
    text = JSON.stringify(input, null, 2) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

export function toSessionItem(session: SessionSummary): SessionItem {
  return { id: session.id, name: session.name, turnCount: session.turnCount, lastActivityMs: session.lastActivityMs, closed: session.closed };
}

/** A name for a session started by its first message: the first line, shortened. */
export function sessionNameFromText(text: string, maxLength = 60): string {
  const firstLine = text.trim().split(/\r?\n/, 1)[0]?.replace(/\s+/g, ' ').trim() ?? '';
  if (firstLine === '') {
    return 'New chat';
  }
  return firstLine.length > maxLength ? `${firstLine.slice(0, maxLength - 1).trimEnd()}…` : firstLine;
}

export { budgetUse } from '../../shared/receiptNumbers';

/** An error the panel showed, kept so a reloaded webview shows it again (errors are not events). */
export interface ShownError {
  /** The user message whose turn it ends (null: the send failed before anything was logged). */
  readonly turnOf: string | null;
  /** Else: the session's last event when it happened (null: none, or unknown). */
  readonly after: string | null;
  readonly entry: Extract<TranscriptEntry, { kind: 'error' }>;
}

/** Puts each shown error where it happened: after its turn, else after the event before it. */
export function withErrors(entries: readonly TranscriptEntry[], errors: readonly ShownError[]): TranscriptEntry[] {
  const result = [...entries];
  const indexOf = (eventId: string | null, userOnly: boolean): number =>
    eventId === null ? -1 : result.findIndex((candidate) => 'eventId' in candidate && candidate.eventId === eventId && (!userOnly || candidate.kind === 'user'));
  for (const { turnOf, after, entry } of errors) {
    let insertAt: number;
    const userIndex = indexOf(turnOf, true);
    if (userIndex >= 0) {
      insertAt = userIndex + 1;
      while (insertAt < result.length && result[insertAt]?.kind !== 'user') {
        insertAt++;
      }
    } else {
      const afterIndex = indexOf(after, false);
      if (afterIndex < 0) {
        result.push(entry);
        continue;
      }
      insertAt = afterIndex + 1;
      // After errors already placed there: they happened earlier.
      while (result[insertAt]?.kind === 'error') {
        insertAt++;
      }
    }
    result.splice(insertAt, 0, entry);
  }
  return result;
}
