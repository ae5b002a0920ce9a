import * as vscode from 'vscode';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';
import { ClaudeCodeFollower } from './claudeCodeFollow';
import { McpCommandId } from './mcpCommandIds';
import { copyMcpServerSetup, registerMcpServerProvider } from './mcpServerProvider';
import { registerMemoryLmTools } from './memoryLmTools';

// The store for the assistants people already use: the memory tools as VS Code language-model
// tools, the MCP server offered to VS Code and, as a snippet, to other clients, and Claude
// Code's sessions followed into the Sessions view.

export interface McpFeatureOptions {
  readonly context: vscode.ExtensionContext;
  readonly engine: EngineClient;
  readonly storeDir: string;
  readonly log: vscode.LogOutputChannel;
}

export class McpFeature extends Disposable {
  readonly follower: ClaudeCodeFollower;

  constructor({ context, engine, storeDir, log }: McpFeatureOptions) {
    super();
    registerMemoryLmTools(engine).forEach((disposable) => this.register(disposable));
    this.register(registerMcpServerProvider(context, storeDir));
    this.register(vscode.commands.registerCommand(McpCommandId.copySetup, (kind?: unknown) => copyMcpServerSetup(context, storeDir, typeof kind === 'string' ? kind : undefined)));
    this.follower = this.register(new ClaudeCodeFollower(engine, log));
  }
}
