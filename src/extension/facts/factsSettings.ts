import type { ConflictPolicy } from '../../core/facts/factEvents';
import type { FactsSettings } from '../../shared/factsProtocol';
import type { ConfigurationSource } from '../chat/chatSettings';

// The contextLedger.facts.* settings as the engine gets them. No vscode import (unit-tested in
// Node): the caller passes `workspace.getConfiguration('contextLedger')` and the trust.

export const factsDefaults: FactsSettings = { conflictPolicy: 'surface', budgetTokens: 1000, reviewAfterDays: 28 };

/**
 * Settings an untrusted workspace must not choose (keys without `contextLedger.`), each for the
 * user's memory: `conflictPolicy` (lastWriterWins would let a concurrent write replace the
 * user's value instead of surfacing the conflict), `budgetTokens` (spends the user's key on
 * every request) and `reviewAfterDays` (0 would hide facts nobody has checked for months).
 * Keep in step with `capabilities.untrustedWorkspaces.restrictedConfigurations` in package.json.
 */
export const restrictedFactsSettings: readonly string[] = ['facts.conflictPolicy', 'facts.budgetTokens', 'facts.reviewAfterDays'];

/** In an untrusted workspace the restricted ones come from the user's own settings only. */
export function readFactsSettings(source: ConfigurationSource, trusted: boolean): FactsSettings {
  const read = (key: string): unknown => (trusted || !restrictedFactsSettings.includes(key) ? source.get(key) : source.inspect(key)?.globalValue);
  const whole = (value: unknown, fallback: number, max: number): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(max, Math.floor(value)) : fallback);
  const policy = read('facts.conflictPolicy');
  return {
    conflictPolicy: policy === 'lastWriterWins' ? 'lastWriterWins' : ('surface' satisfies ConflictPolicy),
    budgetTokens: whole(read('facts.budgetTokens'), factsDefaults.budgetTokens, 20_000),
    reviewAfterDays: whole(read('facts.reviewAfterDays'), factsDefaults.reviewAfterDays, 36_500),
  };
}
