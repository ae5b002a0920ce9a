// How other assistants start this store's MCP server: the `claude mcp add` line for Claude
// Code and the JSON each client keeps in its config file. Built from the exact command VS Code
// would run (absolute paths), so a snippet works as pasted.

export interface McpLaunch {
  /** Absolute path of the program (a Node, or VS Code's own binary run as Node). */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export type McpClientKind = 'claude-code' | 'cursor' | 'vscode' | 'cline' | 'claude-desktop';

export interface McpClientSnippet {
  readonly kind: McpClientKind;
  readonly label: string;
  /** Where it goes. */
  readonly where: string;
  readonly language: 'shellscript' | 'json';
  readonly text: string;
}

export const mcpServerName = 'context-ledger';

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function mcpLaunch(node: { readonly execPath: string; readonly isElectron: boolean }, cliPath: string, storeDir: string): McpLaunch {
  return { command: node.execPath, args: [cliPath, '--store', storeDir, 'mcp'], env: node.isElectron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

export function mcpClientSnippets(launch: McpLaunch, name = mcpServerName): readonly McpClientSnippet[] {
  const env = Object.keys(launch.env).length > 0 ? { env: { ...launch.env } } : {};
  const server = { command: launch.command, args: [...launch.args], ...env };
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  const claude = ['claude', 'mcp', 'add', '--scope', 'user', ...Object.entries(launch.env).flatMap(([key, value]) => ['-e', `${key}=${value}`]), name, '--', launch.command, ...launch.args].map(shellQuote).join(' ');
  return [
    { kind: 'claude-code', label: 'Claude Code', where: 'run in a terminal (drop `--scope user` to add it to the current project only)', language: 'shellscript', text: claude },
    { kind: 'cursor', label: 'Cursor', where: '~/.cursor/mcp.json (or .cursor/mcp.json in a project), merged into "mcpServers"', language: 'json', text: json({ mcpServers: { [name]: server } }) },
    { kind: 'vscode', label: 'VS Code (another window or profile)', where: '.vscode/mcp.json, merged into "servers" (this window already offers it through the extension)', language: 'json', text: json({ servers: { [name]: { type: 'stdio', ...server } } }) },
    { kind: 'cline', label: 'Cline', where: "Cline's MCP settings (cline_mcp_settings.json), merged into \"mcpServers\"", language: 'json', text: json({ mcpServers: { [name]: { ...server, disabled: false } } }) },
    { kind: 'claude-desktop', label: 'Claude Desktop', where: 'claude_desktop_config.json, merged into "mcpServers"', language: 'json', text: json({ mcpServers: { [name]: server } }) },
  ];
}
