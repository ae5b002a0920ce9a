// Streams of the log that are not chat sessions: they use the log's ordering and acceptance
// rules (started once, expectedVersion) but never show in the Sessions view or the chat.

/** The effective system prompt's versions (`prompt.version` events). */
export const promptStreamId = 'prompt:workspace';

export const systemStreamIds: ReadonlySet<string> = new Set([promptStreamId]);

export function isSystemStream(sessionId: string): boolean {
  return systemStreamIds.has(sessionId);
}
