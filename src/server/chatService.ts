import { runChatTurn, type AssemblePort, type ChatTurnDependencies, type ModelPort } from '../core/chat/chatTurn';
import type { ChatErrorInfo, ChatProgress, ChatSendResult, ChatSettings } from '../core/chat/chatTypes';
import type { Ledger } from '../core/ledger';
import { checkBaseUrl } from '../core/llm/baseUrl';
import { currentPromptVersion } from '../core/drift/promptVersions';
import { describeWindowProblem } from '../core/log/events';
import { isSystemStream, systemStreamPrefixes } from '../core/log/systemStreams';
import type { WorkspaceFiles } from '../core/tools/workspaceFiles';
import type { RetrievalIndex } from '../core/retrieval/retrievalIndex';
import { withRetrievedContext } from '../core/retrieval/retrievedContext';
import type { ChatSendParams } from '../shared/chatProtocol';

export interface ModelConnection {
  readonly apiKey: string;
  readonly settings: ChatSettings;
}

export interface ChatServiceDependencies {
  readonly assemble: AssemblePort;
  readonly createModel: (connection: ModelConnection) => ModelPort;
  /** The API key of update `keyVersion` (it arrives beside LSP, see src/shared/apiKeyChannel.ts). */
  readonly apiKey: (keyVersion: number) => Promise<string | null>;
  readonly classifyError: (error: unknown, partialText: string) => ChatErrorInfo;
  readonly workspace: () => WorkspaceFiles | undefined;
  readonly onProgress: (requestId: string, progress: ChatProgress) => void;
  readonly log: (message: string) => void;
  /** The workspace's retrieval index once it is open: retrieved context and search_text use it. */
  readonly retrieval?: () => RetrievalIndex | undefined;
  /** Called after every finished turn (for background work such as exact token counts). */
  readonly afterTurn?: (ledger: Ledger, params: ChatSendParams, result: ChatSendResult) => void;
  /** The model's `remember` tool (src/core/facts/rememberTool.ts). */
  readonly remember?: ChatTurnDependencies['remember'];
  /**
   * The effective system prompt of a turn from the setting's text (prompt drift adds the
   * workspace's prompt files and records the prompt version); absent: the setting alone.
   */
  readonly systemPrompt?: (ledger: Ledger, settingText: string) => Promise<{ readonly systemPrompt: string; readonly promptFiles: readonly string[] }>;
}

/** Retrieved-context tokens per request when the extension does not say (contextLedger.retrieval.budgetTokens). */
const defaultRetrievalBudgetTokens = 4000;

/** Thrown for a malformed request from the extension; the server turns it into an error reply. */
export class ChatRequestError extends Error {
  override readonly name = 'ChatRequestError';
}

/**
 * Chat turns in flight, by the caller's requestId, so Stop can cancel them. One turn per
 * session at a time: a second send while one runs would interleave two answers in the log.
 */
export class ChatService {
  private readonly running = new Map<string, { controller: AbortController; sessionId: string; done: Promise<unknown> }>();

  constructor(private readonly deps: ChatServiceDependencies) {}

  async send(ledger: Ledger, params: ChatSendParams): Promise<ChatSendResult> {
    const request = checkSendParams(params);
    if ([...this.running.values()].some((turn) => turn.sessionId === request.sessionId)) {
      throw new ChatRequestError('this session is already answering; stop it or wait for it to finish');
    }
    if (this.running.has(request.requestId)) {
      throw new ChatRequestError(`request ${request.requestId} is already running`);
    }
    const controller = new AbortController();
    let settle: () => void = () => undefined;
    this.running.set(request.requestId, { controller, sessionId: request.sessionId, done: new Promise<void>((resolve) => (settle = resolve)) });
    try {
      const apiKey = await this.deps.apiKey(request.keyVersion);
      const prompt = this.deps.systemPrompt ? await this.deps.systemPrompt(ledger, request.settings.systemPrompt) : { systemPrompt: request.settings.systemPrompt, promptFiles: [] };
      const settings: ChatSettings = { ...request.settings, systemPrompt: prompt.systemPrompt };
      const result = await runChatTurn(
        {
          ledger,
          model: this.deps.createModel({ apiKey: apiKey ?? '', settings }),
          assemble: withPromptFilesNamed(this.assembleFor(request), prompt.promptFiles),
          classifyError: this.deps.classifyError,
          workspace: this.deps.workspace(),
          ...(this.deps.retrieval ? { retrieval: this.deps.retrieval } : {}),
          onProgress: (progress) => this.deps.onProgress(request.requestId, progress),
          promptVersion: () => currentPromptVersion(ledger),
          log: this.deps.log,
          ...(this.deps.remember ? { remember: this.deps.remember } : {}),
        },
        {
          requestId: request.requestId,
          sessionId: request.sessionId,
          text: request.text,
          apiKeyPresent: Boolean(apiKey),
          settings,
          cancel: controller.signal,
          ...(request.retryOfEventId ? { retryOfEventId: request.retryOfEventId } : {}),
          ...(request.newSessionName !== undefined ? { newSessionName: request.newSessionName } : {}),
        },
      );
      this.deps.afterTurn?.(ledger, request, result);
      return result;
    } finally {
      this.running.delete(request.requestId);
      settle();
    }
  }

  /** A turn of this session is running (compaction's causal barrier asks). */
  isAnswering(sessionId: string): boolean {
    return [...this.running.values()].some((turn) => turn.sessionId === sessionId);
  }

  /** The assembly of one turn: with retrieved context for its question when an index is open. */
  private assembleFor(request: ChatSendParams): AssemblePort {
    const budget = request.settings.retrievalBudgetTokens ?? defaultRetrievalBudgetTokens;
    const retrieval = this.deps.retrieval;
    return retrieval && budget > 0 ? withRetrievedContext(this.deps.assemble, retrieval, request.text, budget, this.deps.log) : this.deps.assemble;
  }

  cancel(requestId: unknown): boolean {
    if (typeof requestId !== 'string') {
      return false;
    }
    const turn = this.running.get(requestId);
    turn?.controller.abort();
    return turn !== undefined;
  }

  /**
   * Stops every turn and waits (at most `waitMs`, inside the client's 2 s for a shutdown) until
   * each has logged what arrived and how it ended, so a reload or shutdown keeps a partial
   * answer instead of closing the store under it.
   */
  async stopAll(waitMs = 1500): Promise<void> {
    const turns = [...this.running.values()];
    for (const turn of turns) {
      turn.controller.abort();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(turns.map((turn) => turn.done)), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }
}

/** The receipt's system part names the prompt files the system prompt holds. */
function withPromptFilesNamed(inner: AssemblePort, promptFiles: readonly string[]): AssemblePort {
  if (promptFiles.length === 0) {
    return inner;
  }
  const reason = `system prompt (the setting and ${promptFiles.join(', ')}) and request framing: always sent`;
  return {
    ...(inner.warmUp ? { warmUp: (sessionId: string) => inner.warmUp!(sessionId) } : {}),
    assemble: (sessionId, options) => {
      const assembled = inner.assemble(sessionId, options);
      const parts = assembled.receipt.parts.map((part) => (part.kind === 'system' ? { ...part, reason } : part));
      return { ...assembled, receipt: { ...assembled.receipt, parts } };
    },
  };
}

/** The extension is another process: check every field before anything is logged or sent. */
export function checkSendParams(value: unknown): ChatSendParams {
  if (typeof value !== 'object' || value === null) {
    throw new ChatRequestError('chat/send expects an object');
  }
  const params = value as Partial<ChatSendParams>;
  const text = (field: string, candidate: unknown, max: number): string => {
    if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > max) {
      throw new ChatRequestError(`"${field}" must be a non-empty string of at most ${max} characters`);
    }
    return candidate;
  };
  // Event ids are made from it (turnLog.ts) and an event id holds at most 200 characters.
  text('requestId', params.requestId, 150);
  text('sessionId', params.sessionId, 200);
  // The facts, prompt-version and MCP streams are the log's own bookkeeping, not conversations:
  // a turn logged there would corrupt them (and `remember` could not tell a fact from a turn).
  if (isSystemStream(params.sessionId as string)) {
    throw new ChatRequestError(`"${params.sessionId as string}" is a system stream of the log (${systemStreamPrefixes.join(', ')}), not a chat session; choose or start a chat session`);
  }
  if (typeof params.text !== 'string' || params.text.trim() === '' || params.text.length > 1_000_000) {
    throw new ChatRequestError('the message is empty or longer than 1,000,000 characters');
  }
  if (params.retryOfEventId !== undefined) {
    text('retryOfEventId', params.retryOfEventId, 200);
  }
  if (params.newSessionName !== undefined) {
    text('newSessionName', params.newSessionName, 200);
  }
  if (!Number.isSafeInteger(params.keyVersion) || (params.keyVersion as number) < 1) {
    throw new ChatRequestError('"keyVersion" must be a positive whole number');
  }
  return { ...(params as ChatSendParams), settings: checkSettings(params.settings) };
}

function checkSettings(value: unknown): ChatSettings {
  if (typeof value !== 'object' || value === null) {
    throw new ChatRequestError('"settings" must be an object');
  }
  const settings = value as Partial<ChatSettings>;
  const positive = (name: keyof ChatSettings): number => {
    const field = settings[name];
    if (!Number.isSafeInteger(field) || (field as number) <= 0) {
      throw new ChatRequestError(`setting "${name}" must be a positive whole number`);
    }
    return field as number;
  };
  if (typeof settings.model !== 'string' || settings.model.trim() === '') {
    throw new ChatRequestError('setting "model" must name a model');
  }
  const baseUrl = checkBaseUrl(settings.baseUrl);
  if (!baseUrl.ok) {
    throw new ChatRequestError(`setting "baseUrl": ${baseUrl.problem}`);
  }
  if (typeof settings.systemPrompt !== 'string') {
    throw new ChatRequestError('setting "systemPrompt" must be a string');
  }
  const windowProblem = describeWindowProblem(settings.window);
  if (windowProblem) {
    throw new ChatRequestError(`setting "window": ${windowProblem}`);
  }
  return {
    model: settings.model,
    maxTokens: positive('maxTokens'),
    baseUrl: baseUrl.baseUrl,
    budgetTokens: positive('budgetTokens'),
    window: settings.window!,
    systemPrompt: settings.systemPrompt,
    timeoutMs: positive('timeoutMs'),
    ...retrievalBudget(settings.retrievalBudgetTokens),
  };
}

function retrievalBudget(value: unknown): { retrievalBudgetTokens?: number } {
  if (value === undefined) {
    return {};
  }
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > 200_000) {
    throw new ChatRequestError('setting "retrievalBudgetTokens" must be a whole number from 0 to 200,000');
  }
  return { retrievalBudgetTokens: value as number };
}
