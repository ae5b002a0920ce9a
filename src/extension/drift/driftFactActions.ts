import type { FactView } from '../../core/facts/factTypes';
import { FactsRequests, type FactCheckResult } from '../../shared/factsProtocol';
import type { EngineClient } from '../engineClient';
import type { DriftFactActions } from './driftFeature';

// The drift diagnostics' fact code actions on the facts engine's requests. A diagnostic names
// the value it is about by its head's event id; the action acts only while that value is still
// current, and sends the version vector it found, so a change landing in between (another
// window, the CLI) is refused by the engine instead of being verified or retired unseen.

/** The value a diagnostic was about is no longer current: nothing was written. */
export class DriftFactChangedError extends Error {
  override readonly name = 'DriftFactChangedError';
}

export function engineDriftFactActions(engine: EngineClient): DriftFactActions {
  const current = async (factId: string): Promise<FactView> => {
    if (typeof factId !== 'string' || factId === '') {
      throw new Error('the code action names no fact');
    }
    const { facts } = await engine.request(FactsRequests.list, {});
    const fact = facts.find((candidate) => candidate.heads.some((head) => head.eventId === factId));
    if (!fact) {
      throw new DriftFactChangedError('the fact changed since the drift check (its value was replaced, merged or retired); nothing was written. The check runs again.');
    }
    return fact;
  };
  return {
    async markVerified(factId: string): Promise<FactCheckResult & { key: string }> {
      const fact = await current(factId);
      return { key: fact.key, ...(await engine.request(FactsRequests.verify, { key: fact.key, expectedVector: fact.vector })) };
    },
    async retire(factId: string): Promise<FactView> {
      const fact = await current(factId);
      return engine.request(FactsRequests.retire, { key: fact.key, expectedVector: fact.vector });
    },
  };
}
