// What the MCP server writes to the log: one `mcp.call` per tool call (which client called
// which tool, and whether it answered), and `mcp.note` for `record_note`. Both live in
// reserved streams (`mcp:` prefix) so the Sessions list never shows them.

export const mcpCallsStreamId = 'mcp:calls';
export const mcpNotesStreamId = 'mcp:notes';

export interface McpCallBody {
  /** The client's name from its MCP initialize request (clientInfo.name). */
  readonly client: string;
  readonly tool: string;
  readonly ok: boolean;
  /** The error's message when the call failed. */
  readonly error?: string;
}

export interface McpNoteBody {
  readonly client: string;
  readonly text: string;
}

export interface McpEventBodies {
  'mcp.call': McpCallBody;
  'mcp.note': McpNoteBody;
}

export type McpEventKind = keyof McpEventBodies;
export const mcpEventKinds: readonly McpEventKind[] = ['mcp.call', 'mcp.note'];

export const maxNoteLength = 20_000;

type Check = (body: Record<string, unknown>) => string | undefined;

const text =
  (field: string, max: number, optional = false): Check =>
  (body) =>
    (optional && body[field] === undefined) || (typeof body[field] === 'string' && body[field].length <= max) ? undefined : `"${field}" must be text of at most ${max} characters`;

/** The body checks of each MCP kind (events.ts runs them like its own). */
export const mcpBodyChecks: Record<McpEventKind, readonly Check[]> = {
  'mcp.call': [text('client', 200), text('tool', 200), (body) => (typeof body.ok === 'boolean' ? undefined : '"ok" must be true or false'), text('error', 2000, true)],
  'mcp.note': [text('client', 200), text('text', maxNoteLength)],
};

/** One line describing an MCP event, for transcripts. */
export function describeMcpEvent<K extends McpEventKind>(kind: K, body: McpEventBodies[K]): string {
  if (kind === 'mcp.call') {
    const call = body as McpCallBody;
    return `MCP ${call.client} called ${call.tool}: ${call.ok ? 'ok' : `failed (${call.error ?? 'error'})`}`;
  }
  const note = body as McpNoteBody;
  return `MCP note from ${note.client}: ${note.text}`;
}
