import { RequestType } from 'vscode-jsonrpc';
import type { DriftDiagnostic } from '../core/drift/driftTypes';

// Prompt drift between the extension and the engine: the engine reads the prompt files and the
// repository, records the prompt version, runs the checks and answers with the diagnostics.

export type { DriftCode, DriftDiagnostic, DriftFix } from '../core/drift/driftTypes';

export interface DriftCheckParams {
  /** The contextLedger.systemPrompt the chat uses (part of the effective prompt). */
  readonly systemPrompt: string;
  /**
   * The chat's model settings and API key version: with a key, the facts are also checked by
   * the model against the prompt files. Absent or without a key: only the rule checks run.
   */
  readonly model?: {
    readonly keyVersion: number;
    readonly settings: { readonly model: string; readonly baseUrl: string | null; readonly maxTokens: number; readonly timeoutMs: number };
  };
}

export interface DriftCheckResult {
  /** The folder checked; null when the engine has none (no folder open, or not trusted). */
  readonly folder: string | null;
  /** Why nothing was checked, when nothing was. */
  readonly unavailable: string | null;
  readonly promptFiles: readonly string[];
  readonly promptVersion: { readonly version: number; readonly digest: string; readonly recorded: boolean } | null;
  readonly diagnostics: readonly DriftDiagnostic[];
  /** Fact checks ran (a facts store was wired in). */
  readonly factsChecked: boolean;
  /** The model's check of the facts against the prompt files: whether it ran, and what it found or why not. */
  readonly modelCheck?: { readonly ran: boolean; readonly note: string };
}

export const DriftRequests = {
  check: new RequestType<DriftCheckParams, DriftCheckResult, void>('contextLedger/drift/check'),
};
