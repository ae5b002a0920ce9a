import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { EventDraft } from '../log/events';
import { capText, type LineMapper, type LineOutcome } from './importTypes';
import { parseSourceTimestamp, withSourceTime } from './sourceTime';

// Claude Code transcripts (~/.claude/projects/<folder>/<session>.jsonl, subagents under
// <session>/subagents/agent-<id>.jsonl, or agent-<id>.jsonl beside the session in 2.0) mapped to
// this store's events. One JSON record a line; the shapes differ between versions, so every field
// is checked and a record that does not fit is reported, never guessed. The table of what becomes
// what is in docs/design.md ("Import").

type Json = Record<string, unknown>;

/** Record types Claude Code writes that are not conversation and keep no event. */
const notConversation = new Set([
  'attachment',
  'file-history-snapshot',
  'progress',
  'queue-operation',
  'last-prompt',
  'atis-latch',
  'cost-state',
  'tools-used',
  'mode',
  'tag',
  'agent-name',
  'pr-link',
]);

/** The store session an imported Claude Code session (or one of its subagents) becomes. */
export function claudeSessionId(sourceSessionId: string, agentId?: string): string {
  return agentId === undefined ? `claude-${sourceSessionId}` : `claude-${sourceSessionId}-agent-${agentId}`;
}

/** What the file's name says about the session its records belong to (records may say better). */
export function sessionHintFromPath(file: string): { sessionId: string; agentId?: string } {
  const base = path.basename(file, '.jsonl');
  const agent = /^agent-(.+)$/.exec(base);
  if (agent) {
    // <project>/<session>/subagents/agent-<id>.jsonl; in 2.0 agent files sat beside the sessions.
    const parent = path.basename(path.dirname(path.dirname(file)));
    return { sessionId: path.basename(path.dirname(file)) === 'subagents' ? parent : base, agentId: agent[1]! };
  }
  return { sessionId: base };
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const shortString = (value: unknown, max = 200): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

class RecordProblem extends Error {}

export class ClaudeCodeMapper implements LineMapper {
  readonly format = 'claude-code' as const;
  private readonly started = new Set<string>();
  /** Blocks already seen per API message id: some versions repeat earlier blocks on later lines. */
  private readonly blocksByMessage = new Map<string, Set<string>>();
  private readonly blobChars = new Map<string, number>();
  private readonly shapes = new Map<string, { systemChars: number; toolCount: number }>();
  /** The message blobs of the previous request per thread (main or agent), for `keep`. */
  private readonly requestMessages = new Map<string, string[]>();
  private readonly hint: { sessionId: string; agentId?: string };

  constructor(
    file: string,
    /** Whether the store already has this session (started by an earlier import). */
    private readonly sessionExists: (sessionId: string) => boolean,
  ) {
    this.hint = sessionHintFromPath(file);
  }

  map(line: string, lineNumber: number): LineOutcome {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      return { drafts: [], problem: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (!isObject(record)) {
      return { drafts: [], problem: 'a record must be a JSON object' };
    }
    if (typeof record.type !== 'string') {
      return { drafts: [], problem: 'the record has no "type"' };
    }
    try {
      const outcome = this.mapRecord(record, record.type, lineNumber);
      // The record's own time goes with every event it became (a bad or missing one: none).
      const sourceTimeMs = parseSourceTimestamp(record.timestamp);
      return sourceTimeMs === undefined || outcome.drafts.length === 0 ? outcome : { ...outcome, drafts: outcome.drafts.map((draft) => withSourceTime(draft, sourceTimeMs)) };
    } catch (error) {
      if (error instanceof RecordProblem) {
        return { drafts: [], problem: `${record.type} record: ${error.message}` };
      }
      throw error;
    }
  }

  private mapRecord(record: Json, type: string, lineNumber: number): LineOutcome {
    switch (type) {
      case 'user':
        return this.user(record, lineNumber);
      case 'assistant':
        return this.assistant(record, lineNumber);
      case 'system':
        return this.system(record, lineNumber);
      case 'summary':
      case 'custom-title': {
        const title = type === 'summary' ? record.summary : record.customTitle;
        if (typeof title !== 'string' || title.trim() === '') {
          throw new RecordProblem(`"${type === 'summary' ? 'summary' : 'customTitle'}" must be a non-empty string`);
        }
        const sessionId = this.sessionOf(record);
        const name = title.trim().slice(0, 200);
        const start = this.start(sessionId, name);
        // A title before anything else names the session as it starts.
        return { drafts: start.length > 0 ? start : [{ kind: 'session.renamed', sessionId, id: this.id(sessionId, record, lineNumber, 'title'), body: { name } }] };
      }
      case 'api-request-blob':
        if (shortString(record.hash) && record.message !== undefined) {
          this.blobChars.set(record.hash, JSON.stringify(record.message).length);
        }
        return { drafts: [], notImported: type };
      case 'api-request-shape':
        if (shortString(record.shapeHash) && isObject(record.shape)) {
          const shape = record.shape;
          this.shapes.set(record.shapeHash, { systemChars: JSON.stringify(shape.system ?? '').length, toolCount: Array.isArray(shape.tools) ? shape.tools.length : 0 });
        }
        return { drafts: [], notImported: type };
      case 'api-request':
        return this.request(record);
      default:
        return { drafts: [], notImported: notConversation.has(type) ? type : `${type} (unknown type)` };
    }
  }

  private sessionOf(record: Json): string {
    const source = shortString(record.sessionId, 100) ? record.sessionId : this.hint.sessionId;
    const agentId = shortString(record.agentId, 100) ? record.agentId : this.hint.agentId;
    // Sidechains (subagents) get sessions of their own: their turns are not the main conversation's.
    return record.isSidechain === true || (this.hint.agentId !== undefined && record.isSidechain !== false) ? claudeSessionId(source, agentId ?? 'sidechain') : claudeSessionId(source);
  }

  private id(sessionId: string, record: Json, lineNumber: number, suffix: string): string {
    const own = shortString(record.uuid, 100) ? record.uuid : `line-${lineNumber}`;
    return `${sessionId}:${own}:${suffix}`;
  }

  /** session.started the first time a session is met (unless the store has it already). */
  private start(sessionId: string, name: string): EventDraft[] {
    if (this.started.has(sessionId)) {
      return [];
    }
    this.started.add(sessionId);
    if (this.sessionExists(sessionId)) {
      return [];
    }
    return [{ kind: 'session.started', sessionId, id: `${sessionId}:start`, body: { name } }];
  }

  private sessionName(sessionId: string, record: Json, firstText: string | undefined): string {
    const excerpt = firstText?.replace(/\s+/g, ' ').trim().slice(0, 80);
    const agent = sessionId.includes('-agent-') ? ` subagent ${sessionId.split('-agent-')[1]}` : '';
    const folder = typeof record.cwd === 'string' ? ` (${path.basename(record.cwd)})` : '';
    return excerpt ? `Claude Code${agent}: ${excerpt}` : `Claude Code${agent} ${sessionId.slice(7, 15)}${folder}`;
  }

  private user(record: Json, lineNumber: number): LineOutcome {
    const message = record.message;
    if (!isObject(message)) {
      throw new RecordProblem('"message" must be an object');
    }
    const content = message.content;
    if (typeof content !== 'string' && !Array.isArray(content)) {
      throw new RecordProblem('"message.content" must be a string or a list of blocks');
    }
    const sessionId = this.sessionOf(record);
    const drafts: EventDraft[] = [];
    let partial = '';
    const texts: string[] = [];
    if (typeof content === 'string') {
      texts.push(content);
    } else {
      content.forEach((block, index) => {
        if (!isObject(block) || typeof block.type !== 'string') {
          throw new RecordProblem(`content block ${index} has no "type"`);
        }
        if (block.type === 'text') {
          if (typeof block.text !== 'string') {
            throw new RecordProblem(`text block ${index} has no "text"`);
          }
          texts.push(block.text);
        } else if (block.type === 'tool_result') {
          if (!shortString(block.tool_use_id)) {
            throw new RecordProblem(`tool_result block ${index} has no "tool_use_id"`);
          }
          const capped = capText(toolResultText(block.content));
          if (capped.cut > 0) {
            partial = `a tool result of ${capped.cut + capped.text.length} characters was cut to fit`;
          }
          drafts.push({ kind: 'tool.result', sessionId, id: this.id(sessionId, record, lineNumber, `r${index}`), body: { toolUseId: block.tool_use_id, content: capped.text, ...(block.is_error === true ? { isError: true } : {}) } });
        } else {
          texts.push(`[${block.type}]`);
        }
      });
    }
    const text = texts.join('\n');
    if (texts.length > 0 && text.trim() !== '') {
      const capped = capText(text);
      if (capped.cut > 0) {
        partial = `a text of ${text.length} characters was cut to fit`;
      }
      drafts.push(this.userText(record, sessionId, capped.text, lineNumber));
    }
    const firstText = drafts[0]?.kind === 'message.user' ? drafts[0].body.text : undefined;
    const start = this.start(sessionId, this.sessionName(sessionId, record, firstText));
    return { drafts: [...start, ...drafts], ...(partial ? { problem: partial, partial: true } : {}) };
  }

  /** A user line's text: the user's words, or what Claude Code put there itself (not user input). */
  private userText(record: Json, sessionId: string, text: string, lineNumber: number): EventDraft {
    const id = this.id(sessionId, record, lineNumber, 'text');
    if (record.isCompactSummary === true) {
      return { kind: 'import.compactSummary', sessionId, id, body: { text } };
    }
    const trimmed = text.trimStart();
    const subtype = record.isMeta === true ? 'meta' : /^<(command-name|command-message|local-command-stdout|local-command-stderr|local-command-caveat)>/.test(trimmed) ? 'command' : /^<task-notification>/.test(trimmed) ? 'task-notification' : undefined;
    if (subtype !== undefined) {
      return { kind: 'import.record', sessionId, id, body: { recordType: 'user', subtype, text } };
    }
    return { kind: 'message.user', sessionId, id, body: { text } };
  }

  private assistant(record: Json, lineNumber: number): LineOutcome {
    const message = record.message;
    if (!isObject(message)) {
      throw new RecordProblem('"message" must be an object');
    }
    const content = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (!Array.isArray(content)) {
      throw new RecordProblem('"message.content" must be a list of blocks');
    }
    const sessionId = this.sessionOf(record);
    const model = shortString(message.model) ? message.model : undefined;
    const stopReason = shortString(message.stop_reason) ? message.stop_reason : undefined;
    const parentId = shortString(record.requestRef, 150) ? `${sessionId}:request:${record.requestRef}` : undefined;
    const seen = shortString(message.id) ? this.blocksSeen(message.id) : new Set<string>();
    const drafts: EventDraft[] = [];
    let partial = '';
    content.forEach((block: unknown, index) => {
      if (!isObject(block) || typeof block.type !== 'string') {
        throw new RecordProblem(`content block ${index} has no "type"`);
      }
      const fingerprint = createHash('sha1').update(JSON.stringify(block)).digest('hex');
      if (seen.has(fingerprint)) {
        return; // the same block of the same API message, written again on a later line
      }
      seen.add(fingerprint);
      const id = this.id(sessionId, record, lineNumber, `b${index}`);
      const link = parentId ? { parentId } : {};
      switch (block.type) {
        case 'text': {
          if (typeof block.text !== 'string') {
            throw new RecordProblem(`text block ${index} has no "text"`);
          }
          if (block.text === '') {
            return;
          }
          const capped = capText(block.text);
          partial = capped.cut > 0 ? `a text of ${block.text.length} characters was cut to fit` : partial;
          drafts.push({ kind: 'message.assistant', sessionId, id, ...link, body: { text: capped.text, ...(model ? { model } : {}), ...(stopReason ? { stopReason } : {}) } });
          return;
        }
        case 'thinking':
        case 'redacted_thinking': {
          const thinking = typeof block.thinking === 'string' ? block.thinking : '';
          drafts.push({ kind: 'import.thinking', sessionId, id, ...link, body: { text: capText(thinking).text, ...(block.type === 'redacted_thinking' ? { redacted: true } : {}) } });
          return;
        }
        case 'tool_use': {
          if (!shortString(block.id) || !shortString(block.name)) {
            throw new RecordProblem(`tool_use block ${index} needs an "id" and a "name"`);
          }
          drafts.push({ kind: 'tool.use', sessionId, id, ...link, body: { toolUseId: block.id, name: block.name, input: block.input ?? {} } });
          return;
        }
        default:
          // Server tools, web search results and blocks of later versions: kept as they are.
          drafts.push({ kind: 'import.record', sessionId, id, ...link, body: { recordType: 'assistant', subtype: block.type.slice(0, 100), text: capText(JSON.stringify(block)).text } });
      }
    });
    const start = this.start(sessionId, this.sessionName(sessionId, record, undefined));
    return { drafts: [...start, ...drafts], ...(partial ? { problem: partial, partial: true } : {}) };
  }

  private blocksSeen(messageId: string): Set<string> {
    let seen = this.blocksByMessage.get(messageId);
    if (!seen) {
      seen = new Set();
      this.blocksByMessage.set(messageId, seen);
    }
    return seen;
  }

  private system(record: Json, lineNumber: number): LineOutcome {
    const sessionId = this.sessionOf(record);
    const subtype = shortString(record.subtype, 100) ? record.subtype : undefined;
    const id = this.id(sessionId, record, lineNumber, 'system');
    const start = this.start(sessionId, this.sessionName(sessionId, record, undefined));
    if (subtype === 'compact_boundary') {
      const meta = isObject(record.compactMetadata) ? record.compactMetadata : {};
      const preTokens = Number.isSafeInteger(meta.preTokens) && (meta.preTokens as number) >= 0 ? (meta.preTokens as number) : undefined;
      return { drafts: [...start, { kind: 'import.compactBoundary', sessionId, id, body: { ...(shortString(meta.trigger, 100) ? { trigger: meta.trigger } : {}), ...(preTokens !== undefined ? { preTokens } : {}) } }] };
    }
    const text = typeof record.content === 'string' ? record.content : record.content === undefined ? '' : JSON.stringify(record.content);
    return { drafts: [...start, { kind: 'import.record', sessionId, id, body: { recordType: 'system', ...(subtype ? { subtype } : {}), text: capText(text).text } }] };
  }

  /** An `api-request` record: the request Claude Code sent, as the receipt of the turn it answered. */
  private request(record: Json): LineOutcome {
    if (!shortString(record.id, 150)) {
      throw new RecordProblem('"id" must be a string');
    }
    const tail = Array.isArray(record.tail) ? record.tail.filter((hash): hash is string => typeof hash === 'string') : [];
    const keep = Number.isSafeInteger(record.keep) && (record.keep as number) >= 0 ? (record.keep as number) : 0;
    const thread = shortString(record.agentId, 100) ? record.agentId : 'main';
    const before = this.requestMessages.get(thread) ?? [];
    const kept = before.slice(0, keep);
    const messages = [...kept, ...tail];
    this.requestMessages.set(thread, messages);
    const measured = messages.map((hash) => this.blobChars.get(hash));
    const messageChars = measured.reduce<number>((sum, chars) => sum + (chars ?? 0), 0);
    const shape = shortString(record.shapeHash) ? this.shapes.get(record.shapeHash) : undefined;
    const params = isObject(record.params) ? record.params : {};
    const sessionId = this.sessionOf(record);
    const start = this.start(sessionId, this.sessionName(sessionId, record, undefined));
    const systemChars = shape?.systemChars ?? 0;
    return {
      drafts: [
        ...start,
        {
          kind: 'import.request',
          sessionId,
          id: `${sessionId}:request:${record.id}`,
          body: {
            requestRef: record.id,
            ...(shortString(params.model) ? { model: params.model } : {}),
            messageCount: keep + tail.length,
            newMessageCount: tail.length,
            messageChars,
            systemChars,
            toolCount: shape?.toolCount ?? 0,
            estimatedTokens: Math.ceil((messageChars + systemChars) / 4),
            complete: kept.length === keep && measured.every((chars) => chars !== undefined) && shape !== undefined,
          },
        },
      ],
    };
  }
}

/** A tool result's content as text: a string, or text blocks joined (other blocks named). */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content.map((block) => (isObject(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : isObject(block) && typeof block.type === 'string' ? `[${block.type}]` : JSON.stringify(block))).join('\n');
  }
  return content === undefined || content === null ? '' : JSON.stringify(content);
}
