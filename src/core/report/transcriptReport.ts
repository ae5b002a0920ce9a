import type { SessionSummary } from '../ledger';
import type { StoredEvent } from '../log/events';
import { describeFactEvent } from '../facts/factEvents';
import { describeMcpEvent } from '../mcp/mcpEvents';
import { eventTimeMs } from '../import/sourceTime';

// Readable renderings of a session, shared by the CLI and the extension: a terminal transcript
// and Markdown for export.
export function transcriptLines(session: SessionSummary, events: readonly StoredEvent[]): string[] {
  const lines = [`# ${session.name}  (${session.id})`, `${session.turnCount} turns, ${session.eventCount} events${session.closed ? ', closed' : ''}`, ''];
  for (const event of events) {
    // An imported event shows when it happened in its source, and says so.
    const { ms, fromSource } = eventTimeMs(event);
    const time = new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`[${event.seq}] ${time}${fromSource ? ' (source)' : ''}  ${describeEvent(event)}`);
  }
  return lines;
}

export function describeEvent(event: StoredEvent): string {
  switch (event.kind) {
    case 'session.started':
      return `session started: ${event.body.name}`;
    case 'session.renamed':
      return `session renamed: ${event.body.name}`;
    case 'session.closed':
      return 'session closed';
    case 'message.user':
      return `user: ${indent(event.body.text)}`;
    case 'message.assistant':
      return `assistant${event.body.incomplete ? ' (incomplete)' : ''}: ${indent(event.body.text)}`;
    case 'tool.use':
      return `tool call ${event.body.name} (${event.body.toolUseId}): ${JSON.stringify(event.body.input)}`;
    case 'tool.result':
      return `tool result${event.body.isError ? ' (error)' : ''} (${event.body.toolUseId}): ${indent(event.body.content)}`;
    case 'context.pinned':
      return `pinned ${event.body.eventId}`;
    case 'context.unpinned':
      return `unpinned ${event.body.eventId}`;
    case 'topic.boundary':
      return `new topic${event.body.label ? `: ${event.body.label}` : ''}`;
    case 'session.windowSet':
      return `window set to ${JSON.stringify(event.body.window)}${event.body.budgetTokens ? ` with a budget of ${event.body.budgetTokens} tokens` : ''}`;
    case 'session.hidden':
      return 'session hidden (deleted from the Sessions view; its events are kept)';
    case 'context.receipt':
      return `context receipt for request ${event.body.requestId}: ${event.body.receipt.totalTokens} tokens in ${event.body.receipt.parts.length} parts, ${event.body.receipt.excluded.length} left out${event.body.receipt.tokenSourceNote ? ` (${event.body.receipt.tokenSourceNote})` : ''}`;
    case 'message.superseded':
      return `answer ${event.body.eventId} superseded by the retry ${event.body.byRequestId}`;
    case 'turn.failed': {
      const { error } = event.body;
      return `turn failed (${error.kind}${error.status !== null ? `, HTTP ${error.status}` : ''}${error.requestId ? `, API request ${error.requestId}` : ''}): ${error.message}`;
    }
    case 'compaction.committed':
      return `compaction of turns ${event.body.range.firstTurn}–${event.body.range.lastTurn} (events ${event.body.range.firstSeq}–${event.body.range.lastSeq}), ${event.body.tier}, by ${event.body.model}: ${event.body.summaryTokens} tokens in place of ${event.body.sourceTokens}`;
    case 'compaction.undone':
      return `compaction ${event.body.compactionId} undone (its turns go into requests as they were)`;
    case 'session.tierSet':
      return `fidelity tier set to ${event.body.tier}`;
    case 'import.cursor':
      return `imported ${event.body.lines} lines (${event.body.bytes} bytes) of ${event.body.path} (${event.body.format})`;
    case 'import.thinking':
      return `thinking${event.body.redacted ? ' (redacted)' : ''}: ${indent(event.body.text)}`;
    case 'import.record':
      return `${event.body.recordType}${event.body.subtype ? ` (${event.body.subtype})` : ''}, not user input: ${indent(event.body.text)}`;
    case 'import.compactBoundary':
      return `Claude Code compacted its context here${event.body.trigger ? ` (${event.body.trigger})` : ''}${event.body.preTokens !== undefined ? `, ${event.body.preTokens} tokens before` : ''}`;
    case 'import.compactSummary':
      return `Claude Code's summary, which it continued from: ${indent(event.body.text)}`;
    case 'import.request': {
      const request = event.body;
      return `API request ${request.requestRef} (recorded by Claude Code)${request.model ? ` to ${request.model}` : ''}: ${request.messageCount} messages (${request.newMessageCount} new), ${request.toolCount} tools, ~${request.estimatedTokens} tokens estimated${request.complete ? '' : ' (not every message measured: only blobs are)'}`;
    }
    case 'prompt.version':
      return `prompt version ${event.body.digest.slice(0, 12)}: ${event.body.sources.map((source) => source.path).join(', ')}`;
    case 'fact.asserted':
    case 'fact.updated':
    case 'fact.retired':
    case 'fact.merged':
    case 'fact.verified':
    case 'fact.pinned':
    case 'fact.proposed':
    case 'fact.confirmed':
    case 'fact.rejected':
      return `fact ${describeFactEvent(event.kind, event.body)}`;
    case 'mcp.call':
    case 'mcp.note':
      return describeMcpEvent(event.kind, event.body);
    case 'foreign':
      return `unknown kind ${event.body.kind} (${event.body.problem}): ${truncate(JSON.stringify(event.body.body) ?? '', 200)}`;
  }
}

function indent(text: string): string {
  return text.replace(/\n/g, '\n    ');
}

export function markdownTranscript(session: SessionSummary, events: readonly StoredEvent[]): string {
  const parts = [`# ${session.name}`, '', `Session \`${session.id}\`: ${session.turnCount} turns, ${session.eventCount} events.`, ''];
  for (const event of events) {
    switch (event.kind) {
      case 'message.user':
        parts.push('## User', '', markdownTime(event), '', event.body.text, '');
        break;
      case 'message.assistant':
        parts.push(`## Assistant${event.body.incomplete ? ' (incomplete)' : ''}`, '', markdownTime(event), '', event.body.text, '');
        break;
      case 'tool.use':
        parts.push(`### Tool call: ${event.body.name}`, '', markdownTime(event), '', '```json', JSON.stringify(event.body.input, null, 2), '```', '');
        break;
      case 'tool.result':
        parts.push(`### Tool result${event.body.isError ? ' (error)' : ''}`, '', markdownTime(event), '', fence(event.body.content), '');
        break;
      default:
        parts.push(`*${describeEvent(event)}*`, '');
    }
  }
  return parts.join('\n');
}

/**
 * A section's time as an italic note (the Markdown import reads it back as the source time, and
 * keeps no note as text). ISO 8601 in UTC: it reads the same in every time zone, sorts, and
 * parses without a locale. An imported event gives its source record's time, and its import's.
 */
export function markdownTime(event: Pick<StoredEvent, 'wallMs' | 'body'>): string {
  const { ms, fromSource } = eventTimeMs(event);
  return fromSource ? `*${new Date(ms).toISOString()} in the source transcript (imported ${new Date(event.wallMs).toISOString()})*` : `*${new Date(ms).toISOString()}*`;
}

/** A code fence longer than any run of backticks inside, so content cannot close it. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}\n${text}\n${ticks}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
