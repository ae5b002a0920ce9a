// Streams of the log that are not chat sessions: the prompt's versions, the facts, the MCP
// calls and notes. They use the log's ordering and acceptance rules (started once,
// expectedVersion) but never show in the Sessions view, the CLI's session list or the chat.

/** The effective system prompt's versions (`prompt.version` events). */
export const promptStreamId = 'prompt:workspace';

/** Every system stream's session id starts with one of these. */
export const systemStreamPrefixes: readonly string[] = ['prompt:', 'facts:', 'mcp:'];

export function isSystemStream(sessionId: string): boolean {
  return systemStreamPrefixes.some((prefix) => sessionId.startsWith(prefix));
}

/** An SQL condition on `column` that leaves the system streams out (the prefixes are constants). */
export function notSystemStreamSql(column: string): string {
  return systemStreamPrefixes.map((prefix) => `substr(${column}, 1, ${prefix.length}) <> '${prefix}'`).join(' AND ');
}
