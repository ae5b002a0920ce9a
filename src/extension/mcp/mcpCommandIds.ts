// Ids of the MCP and language-model tool contributions (package.json declares the same).
export const McpCommandId = {
  copySetup: 'contextLedger.copyMcpServerSetup',
} as const;

export const mcpServerProviderId = 'contextLedger.mcpServer';
/** VS Code's name of a memory tool: the MCP name with our prefix (tool names are global). */
export const lmToolPrefix = 'contextLedger_';
