// Types at the boundary of prompt drift: what a check reports, and what it needs from facts.

/** One problem on one line of a prompt file. `line` is 1-based; `path` is workspace-relative. */
export interface DriftDiagnostic {
  readonly path: string;
  readonly line: number;
  readonly code: DriftCode;
  readonly message: string;
  readonly severity: 'warning' | 'information';
  /** The 0-based UTF-16 columns on `line` the problem covers (the whole line when absent). */
  readonly range?: { readonly start: number; readonly end: number };
  /** An edit of that range that makes the line agree with the repository ("update the line"). */
  readonly fix?: DriftFix;
  /** The fact a fact check is about: the mark-verified and retire-fact actions act on it. */
  readonly factId?: string;
}

export interface DriftFix {
  readonly title: string;
  readonly start: number;
  readonly end: number;
  readonly newText: string;
  /** What the range held when checked: an editor applies the fix only if it still does. */
  readonly oldText?: string;
}

export type DriftCode =
  | 'missing-path'
  | 'missing-script'
  | 'missing-make-target'
  | 'package-manager'
  | 'runtime-version'
  | 'cross-file-contradiction'
  | 'duplicate-instructions'
  | 'fact-older-prompt'
  | 'fact-contradicts-prompt'
  /** The model's check (modelFactCheck.ts), with an API key: a contradiction the rules have no topic for. */
  | 'fact-contradicts-prompt-model';

/**
 * What the drift checks need of a stored fact. The facts store (src/core/facts) maps its rows
 * to this; nothing here depends on how facts are stored. `promptVersion` is the prompt version
 * the fact was made or last verified under (null: not known).
 */
export interface DriftFact {
  readonly id: string;
  readonly key: string;
  readonly value: string;
  readonly promptVersion: number | null;
  /** active, verified, stale, conflicted, proposed, retired, ... ; retired facts are not checked. */
  readonly status: string;
}

/** Where the drift checks read facts from; absent until the facts store is wired in. */
export interface DriftFactSource {
  listFacts(): readonly DriftFact[];
}

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';
export const packageManagers: readonly PackageManager[] = ['npm', 'pnpm', 'yarn', 'bun'];
