// Streams of the log that are not conversations: their events use a session id with one of
// these prefixes, and the Sessions list (view and CLI) never shows them.
export const reservedStreamPrefixes: readonly string[] = ['facts:', 'mcp:'];

export function isReservedStream(sessionId: string): boolean {
  return reservedStreamPrefixes.some((prefix) => sessionId.startsWith(prefix));
}
