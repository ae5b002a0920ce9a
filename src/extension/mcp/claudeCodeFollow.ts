import * as vscode from 'vscode';
import { followPaths, type FollowMode } from '../../core/mcp/claudeCodeProjects';
import { ImportNotifications, ImportRequests } from '../../shared/importProtocol';
import type { EngineClient } from '../engineClient';
import { Disposable } from '../lifecycle';

// "Claude Code alongside": with contextLedger.import.followClaudeCode on, the engine follows
// Claude Code's transcripts (its import --follow) so sessions run in a terminal appear in the
// Sessions view as they are written. `workspace` follows this folder's project only; `all`
// every project. Sent again after each engine (re)start.

export const followSetting = 'import.followClaudeCode';

export class ClaudeCodeFollower extends Disposable {
  private following: readonly string[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.register(engine.onDidChangeState((state) => state === 'running' && void this.apply(true)));
    this.register(vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration(`contextLedger.${followSetting}`) && void this.apply(false)));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.apply(false)));
    this.register(engine.onNotification(ImportNotifications.followed, (summary) => this.log.info(`Claude Code sessions followed: ${summary.eventsAdded} events added to ${summary.sessionIds.join(', ')}`)));
    void this.apply(true);
  }

  private mode(): FollowMode {
    const value = vscode.workspace.getConfiguration('contextLedger').get<string>(followSetting, 'off');
    // Transcripts of the user's other projects come in: only in a trusted workspace.
    return vscode.workspace.isTrusted && (value === 'workspace' || value === 'all') ? value : 'off';
  }

  /** Tells the engine what to follow (after a restart, even if nothing changed here). */
  async apply(restarted: boolean): Promise<readonly string[]> {
    if (!this.engine.isRunning) {
      return this.following;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const paths = followPaths(this.mode(), folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined);
    if (!restarted && paths.join('\n') === this.following.join('\n')) {
      return this.following;
    }
    if (paths.length === 0 && this.following.length === 0 && restarted) {
      return this.following;
    }
    try {
      this.following = (await this.engine.request(ImportRequests.follow, { paths })).following;
      this.log.info(this.following.length > 0 ? `following Claude Code sessions in ${this.following.join(', ')}` : 'not following Claude Code sessions');
    } catch (error) {
      this.log.warn(`could not follow Claude Code sessions: ${error instanceof Error ? error.message : String(error)}`);
    }
    return this.following;
  }
}
