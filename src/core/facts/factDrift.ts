import type { DriftFact } from '../drift/driftTypes';
import type { FactHead, FactView } from './factTypes';

// Which facts prompt drift concerns, for the Facts view's Drifted group: a value made (or last
// marked verified) under an older prompt version, and a value the last drift check found the
// prompt contradicting (by its rules or, with a key, by the model).

/** The newest prompt version a value was made or marked verified under (null: not known). */
export function madeOrVerifiedUnder(head: Pick<FactHead, 'promptVersion' | 'verifiedPromptVersion'>): number | null {
  const versions = [head.promptVersion, head.verifiedPromptVersion].filter((version): version is string => version !== null).map(Number).filter(Number.isFinite);
  return versions.length > 0 ? Math.max(...versions) : null;
}

export interface DriftedFact {
  readonly key: string;
  readonly why: string;
}

/**
 * Active facts that drifted: `currentVersion` is the prompt version now (null: none recorded),
 * `findings` the last drift check's fact diagnostics by the head event id they name.
 */
export function driftedFacts(facts: readonly FactView[], currentVersion: number | null, findings: ReadonlyMap<string, string>): DriftedFact[] {
  const drifted: DriftedFact[] = [];
  for (const fact of facts) {
    const head = fact.heads[0];
    if (fact.state !== 'active' || !head) {
      continue;
    }
    const reasons: string[] = [];
    const found = findings.get(head.eventId);
    if (found) {
      reasons.push(found);
    }
    const under = madeOrVerifiedUnder(head);
    if (currentVersion !== null && under !== null && under < currentVersion) {
      reasons.push(`made under prompt version ${under}; the prompt is now at version ${currentVersion} and the fact was not verified since`);
    }
    if (reasons.length > 0) {
      drifted.push({ key: fact.key, why: reasons.join(' ') });
    }
  }
  return drifted;
}

/** The facts as the drift checks read them: each current value, with the prompt version it was made or verified under. */
export function driftFactsOf(facts: readonly FactView[]): DriftFact[] {
  return facts.flatMap((view) =>
    view.heads.flatMap((head) => (head.value === null ? [] : [{ id: head.eventId, key: view.key, value: head.value, promptVersion: madeOrVerifiedUnder(head), status: view.stale ? 'stale' : view.state }])),
  );
}
