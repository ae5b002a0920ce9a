import type { CompactionCommittedBody, CompactionTier } from '../core/compaction/compactionTypes';
import type { CompactionComparison, GrowthSeries, SearchResult, StoreHealth, TimelineOverview, TimelineRow } from '../core/memory/timelineTypes';

export type { CompactionTier } from '../core/compaction/compactionTypes';
export type { CompactionComparison, GrowthPoint, GrowthSeries, RawItem, SearchResult, StoreHealth, TimelineCategory, TimelineOverview, TimelineRow } from '../core/memory/timelineTypes';

// Messages between the memory panel's webview (src/webview/memory) and its controller
// (src/extension/memory/memoryPanel.ts). The webview is untrusted input: every message goes
// through `parseMemoryWebviewMessage` (known type, only its fields, each checked) before the
// extension acts on it, and a malformed one is logged and dropped. Each request carries a
// `requestId` the webview chose; the extension answers with one `reply` that echoes it.

export const memoryPanelViewType = 'contextLedger.memory';

export const memoryPanelLimits = { idLength: 200, queryLength: 500, maxTurn: 10_000_000 } as const;

/** Commands the panel may ask the extension to run (never an arbitrary command id). */
export const memoryPanelCommands = ['importClaudeCode', 'openChat', 'setApiKey'] as const;
export type MemoryPanelCommand = (typeof memoryPanelCommands)[number];

export type MemoryWebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'sessions'; readonly requestId: string }
  /** The session's overview (and the panel shows it from now on). */
  | { readonly type: 'overview'; readonly requestId: string; readonly sessionId: string }
  | { readonly type: 'page'; readonly requestId: string; readonly sessionId: string; readonly fromSeq: number }
  | { readonly type: 'growth'; readonly requestId: string; readonly sessionId: string }
  | { readonly type: 'search'; readonly requestId: string; readonly sessionId: string; readonly query: string }
  | { readonly type: 'health'; readonly requestId: string; readonly sessionId: string | null }
  /** Preview compacting turns firstTurn..lastTurn; the extension keeps the preview (the webview gets its id). */
  | { readonly type: 'preview'; readonly requestId: string; readonly sessionId: string; readonly firstTurn: number; readonly lastTurn: number; readonly tier: CompactionTier; readonly compactor?: CompactorKind }
  /** Commit the preview the extension holds under `previewId`. */
  | { readonly type: 'commit'; readonly requestId: string; readonly previewId: string }
  | { readonly type: 'cancelPreview'; readonly requestId: string; readonly previewId: string }
  | { readonly type: 'undo'; readonly requestId: string; readonly sessionId: string; readonly compactionId: string }
  | { readonly type: 'runCommand'; readonly requestId: string; readonly command: MemoryPanelCommand };

export type MemoryWebviewMessageType = MemoryWebviewMessage['type'];

/** Who writes a compaction's summary: the offline extractive compactor, or the chat's model (with the key). */
export type CompactorKind = 'offline' | 'model';

/** The compactor the panel starts from (contextLedger.compaction.compactor) and the model it would use. */
export interface MemoryCompactorSetting {
  readonly compactor: CompactorKind;
  readonly model: string;
}

export interface MemorySessionItem {
  readonly id: string;
  readonly name: string;
  readonly eventCount: number;
  readonly turnCount: number;
}

/** What the panel shows of a compaction preview (the extension keeps the whole preview). */
export interface MemoryPreviewShown {
  readonly body: CompactionCommittedBody;
  readonly trailText: string;
  readonly sourceEventCount: number;
  /** Why the offline compactor wrote it though a model was asked for, if so. */
  readonly note: string | null;
}

export interface MemoryPreview {
  readonly previewId: string;
  readonly preview: MemoryPreviewShown;
  readonly comparison: CompactionComparison;
}

/** What a reply carries, by the request it answers. */
export interface MemoryReplyValues {
  sessions: readonly MemorySessionItem[];
  overview: TimelineOverview;
  page: { readonly version: number; readonly rows: readonly TimelineRow[] };
  growth: GrowthSeries;
  search: SearchResult;
  health: StoreHealth;
  preview: MemoryPreview;
  commit: { readonly compactionId: string; readonly message: string };
  cancelPreview: null;
  undo: { readonly compactionId: string; readonly message: string };
  runCommand: null;
}

export interface MemoryReplyError {
  readonly message: string;
  /** stale: a turn arrived since the preview (preview again); barrier: a tool call or reply is pending. */
  readonly reason: 'stale' | 'barrier' | 'invalid' | 'noKey' | 'model' | 'other';
}

export type MemoryHostMessage =
  | { readonly type: 'init'; readonly sessions: readonly MemorySessionItem[]; readonly sessionId: string | null; readonly compactor?: MemoryCompactorSetting }
  /** contextLedger.compaction.compactor or the model setting changed. */
  | { readonly type: 'compactor'; readonly compactor: MemoryCompactorSetting }
  | { readonly type: 'reply'; readonly requestId: string; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly requestId: string; readonly ok: false; readonly error: MemoryReplyError }
  /** The store changed (another turn, an import): these sessions have new events. */
  | { readonly type: 'storeChanged'; readonly sessionIds: readonly string[] }
  /** Show this session (the command was run on a Sessions row). */
  | { readonly type: 'showSession'; readonly sessionId: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

class Problem extends Error {}

const controlCharacters = /[\u0000-\u001f\u007f]/;

function fail(problem: string): never {
  throw new Problem(problem);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function id(message: Record<string, unknown>, field: string): string {
  const value = message[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > memoryPanelLimits.idLength) {
    fail(`"${field}" must be a non-empty string of at most ${memoryPanelLimits.idLength} characters`);
  }
  if (controlCharacters.test(value)) {
    fail(`"${field}" has control characters`);
  }
  return value;
}

function whole(message: Record<string, unknown>, field: string, min: number, max: number): number {
  const value = message[field];
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    fail(`"${field}" must be a whole number from ${min} to ${max}`);
  }
  return value as number;
}

const fields: Record<MemoryWebviewMessageType, readonly string[]> = {
  ready: ['type'],
  sessions: ['type', 'requestId'],
  overview: ['type', 'requestId', 'sessionId'],
  page: ['type', 'requestId', 'sessionId', 'fromSeq'],
  growth: ['type', 'requestId', 'sessionId'],
  search: ['type', 'requestId', 'sessionId', 'query'],
  health: ['type', 'requestId', 'sessionId'],
  preview: ['type', 'requestId', 'sessionId', 'firstTurn', 'lastTurn', 'tier', 'compactor'],
  commit: ['type', 'requestId', 'previewId'],
  cancelPreview: ['type', 'requestId', 'previewId'],
  undo: ['type', 'requestId', 'sessionId', 'compactionId'],
  runCommand: ['type', 'requestId', 'command'],
};

/** Checks a message the webview posted; never throws. */
export function parseMemoryWebviewMessage(input: unknown): Parsed<MemoryWebviewMessage> {
  try {
    return { ok: true, value: webviewMessage(input) };
  } catch (error) {
    return { ok: false, problem: error instanceof Problem ? error.message : `unreadable message (${error instanceof Error ? error.message : String(error)})` };
  }
}

function webviewMessage(input: unknown): MemoryWebviewMessage {
  if (!isRecord(input)) {
    fail('a message must be an object');
  }
  const type = input.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(fields, type)) {
    fail(`unknown message type ${JSON.stringify(type)?.slice(0, 60) ?? String(type)}`);
  }
  const known = type as MemoryWebviewMessageType;
  for (const key of Object.keys(input)) {
    if (!fields[known].includes(key)) {
      fail(`unexpected field "${key}"`);
    }
  }
  if (known === 'ready') {
    return { type: known };
  }
  const requestId = id(input, 'requestId');
  switch (known) {
    case 'sessions':
      return { type: known, requestId };
    case 'overview':
    case 'growth':
      return { type: known, requestId, sessionId: id(input, 'sessionId') };
    case 'page':
      return { type: known, requestId, sessionId: id(input, 'sessionId'), fromSeq: whole(input, 'fromSeq', 0, Number.MAX_SAFE_INTEGER) };
    case 'search': {
      const query = input.query;
      if (typeof query !== 'string' || query.trim() === '' || query.length > memoryPanelLimits.queryLength) {
        fail(`"query" must be a non-blank string of at most ${memoryPanelLimits.queryLength} characters`);
      }
      return { type: known, requestId, sessionId: id(input, 'sessionId'), query };
    }
    case 'health':
      return { type: known, requestId, sessionId: input.sessionId === null ? null : id(input, 'sessionId') };
    case 'preview': {
      const firstTurn = whole(input, 'firstTurn', 1, memoryPanelLimits.maxTurn);
      const lastTurn = whole(input, 'lastTurn', 1, memoryPanelLimits.maxTurn);
      if (lastTurn < firstTurn) {
        fail('"lastTurn" must not be before "firstTurn"');
      }
      const tier = input.tier;
      if (tier !== 'balanced' && tier !== 'aggressive') {
        fail('"tier" must be balanced or aggressive');
      }
      const compactor = input.compactor;
      if (compactor !== undefined && compactor !== 'offline' && compactor !== 'model') {
        fail('"compactor" must be offline or model');
      }
      return { type: known, requestId, sessionId: id(input, 'sessionId'), firstTurn, lastTurn, tier, ...(compactor ? { compactor } : {}) };
    }
    case 'commit':
    case 'cancelPreview':
      return { type: known, requestId, previewId: id(input, 'previewId') };
    case 'undo':
      return { type: known, requestId, sessionId: id(input, 'sessionId'), compactionId: id(input, 'compactionId') };
    case 'runCommand': {
      const command = input.command;
      if (typeof command !== 'string' || !(memoryPanelCommands as readonly string[]).includes(command)) {
        fail(`"command" must be one of ${memoryPanelCommands.join(', ')}`);
      }
      return { type: known, requestId, command: command as MemoryPanelCommand };
    }
  }
}

/** Checks a message from the extension (structural: a mismatched build is ignored, not crashed on). */
export function parseMemoryHostMessage(input: unknown): Parsed<MemoryHostMessage> {
  if (!isRecord(input) || typeof input.type !== 'string') {
    return { ok: false, problem: 'a message must be an object with a type' };
  }
  switch (input.type) {
    case 'init':
      return Array.isArray(input.sessions) && (input.sessionId === null || typeof input.sessionId === 'string') ? { ok: true, value: input as unknown as MemoryHostMessage } : { ok: false, problem: '"init" is incomplete' };
    case 'reply':
      return typeof input.requestId === 'string' && typeof input.ok === 'boolean' && (input.ok || isRecord(input.error)) ? { ok: true, value: input as unknown as MemoryHostMessage } : { ok: false, problem: '"reply" is incomplete' };
    case 'storeChanged':
      return Array.isArray(input.sessionIds) ? { ok: true, value: input as unknown as MemoryHostMessage } : { ok: false, problem: '"storeChanged" lacks sessionIds' };
    case 'compactor':
      return isRecord(input.compactor) && (input.compactor.compactor === 'offline' || input.compactor.compactor === 'model') && typeof input.compactor.model === 'string' ? { ok: true, value: input as unknown as MemoryHostMessage } : { ok: false, problem: '"compactor" is incomplete' };
    case 'showSession':
      return typeof input.sessionId === 'string' ? { ok: true, value: input as unknown as MemoryHostMessage } : { ok: false, problem: '"showSession" lacks sessionId' };
    default:
      return { ok: false, problem: `unknown message type ${JSON.stringify(input.type).slice(0, 60)}` };
  }
}
