import type { ContextReceipt } from '../core/context/contextTypes';
import type { ChatErrorInfo, ChatProgress, ChatSendResult } from './chatProtocol';

// Messages between the chat panel's webview (src/webview/chat) and its controller in the
// extension (src/extension/chat/chatPanel.ts). Both sides import this file. The webview is
// untrusted input: every message it posts goes through `parseWebviewMessage` before use, and a
// malformed one is logged and dropped. Host messages are checked by `parseHostMessage` too, so
// a webview from an older build that receives a newer message shape ignores it instead of
// crashing. Requests that expect a reply carry a `requestId` the webview chose; the reply
// echoes it.

export const chatPanelViewType = 'contextLedger.chat';

/** Limits on what the webview may send. */
export const chatPanelLimits = {
  idLength: 200,
  nameLength: 200,
  /** A chat message the user typed (the engine caps events at 10 MiB; a prompt is far less). */
  textLength: 200_000,
  /** A workspace-relative path to open. */
  pathLength: 1000,
  /** A code block to copy or insert. */
  codeLength: 1_000_000,
} as const;

/** Commands the webview may ask the extension to run (never an arbitrary command id). */
export const panelCommands = ['setApiKey', 'clearApiKey', 'openSettings', 'newTopic', 'showEngineLog'] as const;
export type PanelCommand = (typeof panelCommands)[number];

// ---- webview -> extension ----------------------------------------------------------------

export type WebviewMessage =
  /** The webview's script is running and listening: the extension may post from now on. */
  | { readonly type: 'ready' }
  /** Send a chat turn. `sessionId: null` starts a new session named after the text. */
  /** `retryOfRequestId`: a failed send this one retries (its logged question is answered again, not re-sent). */
  | { readonly type: 'send'; readonly requestId: string; readonly sessionId: string | null; readonly text: string; readonly retryOfRequestId?: string }
  | { readonly type: 'cancel'; readonly requestId: string }
  /** Show another session (`null`: a new, not yet started session). Replied with `transcript`. */
  | { readonly type: 'selectSession'; readonly requestId: string; readonly sessionId: string | null }
  /** Rename a session; without a name the extension asks for one. Replied with `reply`. */
  | { readonly type: 'renameSession'; readonly requestId: string; readonly sessionId: string; readonly name?: string }
  | { readonly type: 'refreshSessions'; readonly requestId: string }
  | { readonly type: 'copyCode'; readonly requestId: string; readonly code: string }
  /** Insert into the last active text editor, replacing its selections. */
  | { readonly type: 'insertCode'; readonly requestId: string; readonly code: string }
  | { readonly type: 'runCommand'; readonly requestId: string; readonly command: PanelCommand }
  /** Open a workspace file a tool call named (a path relative to the folder; never outside it). */
  /** `line` (1-based): where to reveal, for a retrieved chunk listed in a receipt. */
  | { readonly type: 'openFile'; readonly requestId: string; readonly path: string; readonly line?: number }
  /** Undo a compaction the transcript shows (its Undo link). Replied with `reply`. */
  | { readonly type: 'undoCompaction'; readonly requestId: string; readonly sessionId: string; readonly compactionId: string };

export type WebviewMessageType = WebviewMessage['type'];

// ---- extension -> webview ----------------------------------------------------------------

export interface SessionItem {
  readonly id: string;
  readonly name: string;
  readonly turnCount: number;
  readonly lastActivityMs: number;
  readonly closed: boolean;
}

export interface KeyStatus {
  /** Where the API key comes from; null = there is none (chat cannot send). */
  readonly source: 'secret-storage' | 'environment' | null;
}

/** What the panel shows about the settings a send will use. */
export interface PanelConfig {
  readonly model: string;
  readonly budgetTokens: number;
  readonly windowLabel: string;
  /** Settings that were invalid and replaced by defaults, in words. */
  readonly problems: readonly string[];
}

/** One row of a session's transcript, made from its log events (and errors the panel saw). */
export type TranscriptEntry =
  | { readonly kind: 'user'; readonly eventId: string; readonly seq: number; readonly text: string; readonly wallMs: number }
  | {
      readonly kind: 'assistant';
      readonly eventId: string;
      readonly text: string;
      readonly wallMs: number;
      readonly model: string | null;
      /** The answer was cut (stream torn, cancelled): the text is what arrived. */
      readonly incomplete: boolean;
      /** The context receipt of the request that produced this answer. */
      readonly receipt: ContextReceipt | null;
      /** A cut answer a Retry replaced: kept in the log, sent in no request. */
      readonly superseded?: boolean;
    }
  | { readonly kind: 'toolUse'; readonly eventId: string; readonly toolUseId: string; readonly name: string; readonly input: string }
  | { readonly kind: 'toolResult'; readonly eventId: string; readonly toolUseId: string; readonly content: string; readonly isError: boolean }
  /** A receipt whose request produced no answer (it failed before any text). */
  | { readonly kind: 'receipt'; readonly eventId: string; readonly receipt: ContextReceipt }
  | { readonly kind: 'topic'; readonly eventId: string; readonly label: string | null }
  | { readonly kind: 'renamed'; readonly eventId: string; readonly name: string }
  /** The session has older events than the panel loaded (it shows the newest `shownEvents`). */
  /** `turnsBefore`: questions in the events not loaded, so shown turns keep their numbers. */
  | { readonly kind: 'earlier'; readonly shownEvents: number; readonly turnsBefore?: number }
  /** A failed send: a `turn.failed` event, or kept by the panel when nothing reached the log. */
  | { readonly kind: 'error'; readonly requestId: string; readonly error: ChatErrorInfo; readonly retryText: string | null }
  /** A committed compaction: from here on its summary and trail go into requests in place of its turns. */
  | {
      readonly kind: 'compaction';
      /** The compaction.committed event (what Undo names). */
      readonly eventId: string;
      readonly firstTurn: number;
      readonly lastTurn: number;
      readonly tier: string;
      readonly model: string;
      readonly summaryTokens: number;
      readonly sourceTokens: number;
      /** The engine compacted on its own (contextLedger.compaction.autoAtShare). */
      readonly automatic: boolean;
      /** Undone later: its turns go into requests as they were. */
      readonly undone: boolean;
    }
  /** An API request an imported Claude Code session recorded (import.request): that turn's receipt. */
  | {
      readonly kind: 'importedRequest';
      readonly eventId: string;
      readonly requestRef: string;
      readonly model: string | null;
      readonly messageCount: number;
      readonly newMessageCount: number;
      readonly toolCount: number;
      /** Characters / 4: Claude Code records no token counts with the request. */
      readonly estimatedTokens: number;
      /** False when some messages had no blob the import saw, so their size is not in the estimate. */
      readonly complete: boolean;
    };

/** A send still running when the webview (re)loads: it continues streaming into this. */
export interface InFlightTurn {
  readonly requestId: string;
  readonly userText: string;
  readonly progress: readonly ChatProgress[];
}

export interface PanelSnapshot {
  readonly sessions: readonly SessionItem[];
  readonly activeSessionId: string | null;
  readonly transcript: readonly TranscriptEntry[];
  readonly inFlight: InFlightTurn | null;
  readonly keyStatus: KeyStatus;
  readonly config: PanelConfig;
}

export type HostMessage =
  /** The answer to `ready`: everything the panel shows. */
  | { readonly type: 'init'; readonly snapshot: PanelSnapshot }
  | { readonly type: 'sessions'; readonly sessions: readonly SessionItem[]; readonly activeSessionId: string | null }
  /** The transcript of a session (`requestId` of the `selectSession` it answers, or null when pushed). */
  | {
      readonly type: 'transcript';
      readonly requestId: string | null;
      readonly sessionId: string | null;
      readonly entries: readonly TranscriptEntry[];
      /** A send in this session still streaming: shown after the entries, then continued live. */
      readonly inFlight: InFlightTurn | null;
      /** The shown session re-read (another window wrote to it): keep the reader's place. */
      readonly keepPlace?: boolean;
    }
  /** Entries appended to the shown session (a new topic, a rename). */
  | { readonly type: 'appendEntries'; readonly sessionId: string; readonly entries: readonly TranscriptEntry[] }
  /** The send was handed to the engine (for a new session: the session it created). */
  | { readonly type: 'sendStarted'; readonly requestId: string; readonly sessionId: string }
  | { readonly type: 'progress'; readonly requestId: string; readonly progress: ChatProgress }
  | { readonly type: 'sendResult'; readonly requestId: string; readonly result: ChatSendResult }
  | { readonly type: 'keyStatus'; readonly keyStatus: KeyStatus }
  | { readonly type: 'config'; readonly config: PanelConfig }
  /** The answer to a request without its own reply type (rename, copy, insert, runCommand). */
  | { readonly type: 'reply'; readonly requestId: string; readonly ok: boolean; readonly message: string | null }
  /** Expand and scroll to the newest receipt (the "Show Context Receipt" command). */
  | { readonly type: 'revealReceipt' }
  | { readonly type: 'focusComposer' };

export type HostMessageType = HostMessage['type'];

/** What the webview keeps with getState/setState; the serializer hands it back after a reload. */
export interface ChatViewState {
  readonly sessionId: string | null;
  readonly draft: string;
}

// ---- validation ----------------------------------------------------------------------------

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Problem extends Error {}

// Session ids are any string the engine accepted (UUIDs from the panel, names from the CLI).
const controlCharacters = /[\u0000-\u001f\u007f]/;

function fail(problem: string): never {
  throw new Problem(problem);
}

function onlyKeys(message: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(message)) {
    if (!allowed.includes(key)) {
      fail(`unexpected field "${key}"`);
    }
  }
}

function id(message: Record<string, unknown>, field: string): string {
  const value = message[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > chatPanelLimits.idLength) {
    fail(`"${field}" must be a non-empty string of at most ${chatPanelLimits.idLength} characters`);
  }
  if (controlCharacters.test(value)) {
    fail(`"${field}" has control characters`);
  }
  return value;
}

function string(message: Record<string, unknown>, field: string, max: number, { nonBlank = false } = {}): string {
  const value = message[field];
  if (typeof value !== 'string') {
    fail(`"${field}" must be a string`);
  }
  if (value.length > max) {
    fail(`"${field}" is longer than ${max} characters`);
  }
  if (nonBlank && value.trim() === '') {
    fail(`"${field}" must not be blank`);
  }
  return value;
}

const webviewFields: Record<WebviewMessageType, readonly string[]> = {
  ready: ['type'],
  send: ['type', 'requestId', 'sessionId', 'text', 'retryOfRequestId'],
  cancel: ['type', 'requestId'],
  selectSession: ['type', 'requestId', 'sessionId'],
  renameSession: ['type', 'requestId', 'sessionId', 'name'],
  refreshSessions: ['type', 'requestId'],
  copyCode: ['type', 'requestId', 'code'],
  insertCode: ['type', 'requestId', 'code'],
  runCommand: ['type', 'requestId', 'command'],
  openFile: ['type', 'requestId', 'path', 'line'],
  undoCompaction: ['type', 'requestId', 'sessionId', 'compactionId'],
};

function isWebviewMessageType(value: unknown): value is WebviewMessageType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(webviewFields, value);
}

/** Checks a message posted by the webview; never throws. */
export function parseWebviewMessage(input: unknown): Parsed<WebviewMessage> {
  try {
    return { ok: true, value: webviewMessage(input) };
  } catch (error) {
    if (error instanceof Problem) {
      return { ok: false, problem: error.message };
    }
    return { ok: false, problem: `unreadable message (${error instanceof Error ? error.message : String(error)})` };
  }
}

function webviewMessage(input: unknown): WebviewMessage {
  if (!isRecord(input)) {
    fail('a message must be an object');
  }
  const type = input.type;
  if (!isWebviewMessageType(type)) {
    fail(`unknown message type ${JSON.stringify(type)?.slice(0, 60) ?? String(type)}`);
  }
  onlyKeys(input, webviewFields[type]);
  switch (type) {
    case 'ready':
      return { type };
    case 'send': {
      const sessionId = input.sessionId === null ? null : id(input, 'sessionId');
      const send = { type, requestId: id(input, 'requestId'), sessionId, text: string(input, 'text', chatPanelLimits.textLength, { nonBlank: true }) };
      return input.retryOfRequestId === undefined ? send : { ...send, retryOfRequestId: id(input, 'retryOfRequestId') };
    }
    case 'cancel':
      return { type, requestId: id(input, 'requestId') };
    case 'selectSession':
      return { type, requestId: id(input, 'requestId'), sessionId: input.sessionId === null ? null : id(input, 'sessionId') };
    case 'renameSession': {
      const base = { type, requestId: id(input, 'requestId'), sessionId: id(input, 'sessionId') };
      return input.name === undefined ? base : { ...base, name: string(input, 'name', chatPanelLimits.nameLength, { nonBlank: true }).trim() };
    }
    case 'refreshSessions':
      return { type, requestId: id(input, 'requestId') };
    case 'copyCode':
    case 'insertCode':
      return { type, requestId: id(input, 'requestId'), code: string(input, 'code', chatPanelLimits.codeLength) };
    case 'runCommand': {
      const command = input.command;
      if (typeof command !== 'string' || !(panelCommands as readonly string[]).includes(command)) {
        fail(`"command" must be one of ${panelCommands.join(', ')}`);
      }
      return { type, requestId: id(input, 'requestId'), command: command as PanelCommand };
    }
    case 'openFile': {
      const path = string(input, 'path', chatPanelLimits.pathLength, { nonBlank: true });
      if (controlCharacters.test(path)) {
        fail('"path" has control characters');
      }
      const line = input.line;
      if (line !== undefined && (!Number.isSafeInteger(line) || (line as number) < 1 || (line as number) > 100_000_000)) {
        fail('"line" must be a whole number from 1');
      }
      return { type, requestId: id(input, 'requestId'), path, ...(line !== undefined ? { line: line as number } : {}) };
    }
    case 'undoCompaction':
      return { type, requestId: id(input, 'requestId'), sessionId: id(input, 'sessionId'), compactionId: id(input, 'compactionId') };
  }
}

// Host messages come from our own extension; the check is structural (type and the fields a
// handler reads), enough that a mismatched build is ignored rather than crashing the view.
const hostFields: Record<HostMessageType, readonly string[]> = {
  init: ['snapshot'],
  sessions: ['sessions'],
  transcript: ['sessionId', 'entries', 'inFlight'],
  appendEntries: ['sessionId', 'entries'],
  sendStarted: ['requestId', 'sessionId'],
  progress: ['requestId', 'progress'],
  sendResult: ['requestId', 'result'],
  keyStatus: ['keyStatus'],
  config: ['config'],
  reply: ['requestId', 'ok'],
  revealReceipt: [],
  focusComposer: [],
};

const arrayFields: ReadonlySet<string> = new Set(['sessions', 'entries']);
const objectFields: ReadonlySet<string> = new Set(['snapshot', 'progress', 'result', 'keyStatus', 'config']);

/** Checks a message posted by the extension; never throws. */
export function parseHostMessage(input: unknown): Parsed<HostMessage> {
  if (!isRecord(input)) {
    return { ok: false, problem: 'a message must be an object' };
  }
  const type = input.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(hostFields, type)) {
    return { ok: false, problem: `unknown message type ${JSON.stringify(type)?.slice(0, 60) ?? String(type)}` };
  }
  for (const field of hostFields[type as HostMessageType]) {
    const value = input[field];
    if (value === undefined) {
      return { ok: false, problem: `"${type}" lacks "${field}"` };
    }
    if (arrayFields.has(field) && !Array.isArray(value)) {
      return { ok: false, problem: `"${field}" of "${type}" must be an array` };
    }
    if (objectFields.has(field) && !isRecord(value)) {
      return { ok: false, problem: `"${field}" of "${type}" must be an object` };
    }
  }
  if (type === 'init') {
    const snapshot = input.snapshot as Record<string, unknown>;
    if (!Array.isArray(snapshot.sessions) || !Array.isArray(snapshot.transcript) || !isRecord(snapshot.keyStatus) || !isRecord(snapshot.config)) {
      return { ok: false, problem: '"init" has an incomplete snapshot' };
    }
  }
  return { ok: true, value: input as unknown as HostMessage };
}

/** Checks state handed back by getState() or a serializer (it may come from an older build). */
export function parseViewState(input: unknown): ChatViewState {
  if (!isRecord(input)) {
    return { sessionId: null, draft: '' };
  }
  const sessionId =
    typeof input.sessionId === 'string' && input.sessionId.length > 0 && input.sessionId.length <= chatPanelLimits.idLength && !controlCharacters.test(input.sessionId)
      ? input.sessionId
      : null;
  const draft = typeof input.draft === 'string' ? input.draft.slice(0, chatPanelLimits.textLength) : '';
  return { sessionId, draft };
}
