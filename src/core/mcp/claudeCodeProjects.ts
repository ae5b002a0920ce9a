import * as os from 'node:os';
import * as path from 'node:path';

// Where Claude Code keeps its transcripts, so VS Code can follow them ("Claude Code alongside").

export type FollowMode = 'off' | 'workspace' | 'all';

/** Claude Code's folder of transcripts (CLAUDE_CONFIG_DIR moves it). */
export function claudeProjectsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.CLAUDE_CONFIG_DIR || path.join(os.homedir(), '.claude'), 'projects');
}

/** The folder Claude Code keeps a project's sessions in: its path with every other character a dash. */
export function claudeProjectDir(folder: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(claudeProjectsDir(env), folder.replace(/[^a-zA-Z0-9]/g, '-'));
}

/** What to follow for a mode: nothing, this folder's project, or every project. */
export function followPaths(mode: FollowMode, folder: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (mode === 'all') {
    return [claudeProjectsDir(env)];
  }
  return mode === 'workspace' && folder ? [claudeProjectDir(folder, env)] : [];
}
