import { describeFactKeyProblem } from '../core/facts/factEvents';
import { FactsInputError, FactsStore, type MergeResolution } from '../core/facts/factsStore';
import type { FactView } from '../core/facts/factTypes';
import type { Ledger } from '../core/ledger';
import { UsageError, positiveInteger } from './args';

// `context-ledger facts …`: list facts (with conflicts and proposals), add one, merge a
// conflict, retire, confirm or reject a proposal. The CLI is the user at a terminal, so its
// writes have the trust of the user's own; it is one more writer id (cli-<n>) in the vectors.

export type FactsPlan =
  | { readonly verb: 'list' }
  | { readonly verb: 'add'; readonly key: string; readonly value: string }
  | { readonly verb: 'merge'; readonly key: string; readonly resolution: MergeResolution }
  | { readonly verb: 'retire'; readonly key: string }
  | { readonly verb: 'history'; readonly key: string }
  | { readonly verb: 'confirm' | 'reject'; readonly proposalId: string };

export const factsUsage = `  facts [--json]               list facts: values, conflicts, stale ones, pending proposals
  facts add KEY VALUE          state a fact (a new value of KEY if it exists)
  facts merge KEY --pick N | --value V | --retire
                               resolve a conflict: keep value N (1-based, as listed), or a new value
  facts retire KEY | history KEY | confirm PROPOSAL | reject PROPOSAL`;

/** Checks the arguments before the store is opened: bad input creates nothing. */
export function parseFactsCommand(rest: readonly string[], options: ReadonlyMap<string, string | true>): FactsPlan {
  const [verb, first, second, ...extra] = rest;
  const key = (value: string | undefined): string => {
    const problem = describeFactKeyProblem(value);
    if (value === undefined || problem) {
      throw new UsageError(value === undefined ? `facts ${verb ?? ''} needs a KEY` : problem!);
    }
    return value;
  };
  const noMore = (count: number): void => {
    if (rest.length > count) {
      throw new UsageError(`facts ${verb ?? ''}: unexpected ${JSON.stringify(rest[count])}`);
    }
  };
  switch (verb) {
    case undefined:
      return { verb: 'list' };
    case 'add':
      if (second === undefined || second.trim() === '' || extra.length > 0) {
        throw new UsageError('facts add needs KEY and VALUE (quote a VALUE with spaces)');
      }
      return { verb: 'add', key: key(first), value: second };
    case 'merge': {
      noMore(2);
      const pick = positiveInteger(options.get('pick'), 'pick');
      const value = options.get('value');
      const chosen = [pick !== undefined, value !== undefined, options.has('retire')].filter(Boolean).length;
      if (chosen !== 1) {
        throw new UsageError('facts merge KEY needs exactly one of --pick N, --value V or --retire');
      }
      if (value === true || (typeof value === 'string' && value.trim() === '')) {
        throw new UsageError('--value needs a non-empty value');
      }
      return { verb: 'merge', key: key(first), resolution: pick !== undefined ? { pick } : typeof value === 'string' ? { value } : { retire: true } };
    }
    case 'retire':
    case 'history':
      noMore(2);
      return { verb, key: key(first) };
    case 'confirm':
    case 'reject':
      noMore(2);
      if (!first) {
        throw new UsageError(`facts ${verb} needs a PROPOSAL id (see \`context-ledger facts\`)`);
      }
      return { verb, proposalId: first };
    default:
      throw new UsageError(`unknown facts verb "${verb}"; verbs: add, merge, retire, history, confirm, reject`);
  }
}

export function factsPlanWrites(plan: FactsPlan): boolean {
  return plan.verb !== 'list' && plan.verb !== 'history';
}

export async function runFactsCommand(ledger: Ledger, plan: FactsPlan, json: boolean, out: (line: string) => void): Promise<number> {
  const store = new FactsStore(ledger);
  try {
    switch (plan.verb) {
      case 'list': {
        const facts = store.list();
        const proposals = store.queries.proposals('pending');
        if (json) {
          out(JSON.stringify({ facts, proposals }, null, 2));
          return 0;
        }
        if (facts.length === 0 && proposals.length === 0) {
          out('no facts');
        }
        for (const fact of facts) {
          out(factLines(fact).join('\n'));
        }
        for (const proposal of proposals) {
          out(`proposed ${proposal.key} = ${JSON.stringify(proposal.value)}  (${proposal.trust}; confirm with \`facts confirm ${proposal.proposalId}\`)`);
        }
        return 0;
      }
      case 'history': {
        const history = store.queries.history(plan.key);
        const fact = store.get(plan.key);
        if (!fact) {
          throw new FactsInputError(`there is no fact ${plan.key}`);
        }
        out(json ? JSON.stringify({ fact, history }, null, 2) : [...factLines(fact), ...history.map((entry) => `  was ${entry.value === null ? '(retired)' : JSON.stringify(entry.value)} from ${iso(entry.fromMs)} to ${iso(entry.toMs)} (${entry.ended}, by ${entry.writerId})`)].join('\n'));
        return 0;
      }
      case 'add':
        return print(await store.add({ key: plan.key, value: plan.value, provenance: { path: null } }), json, out);
      case 'merge': {
        const current = store.get(plan.key);
        const results = await store.merge(plan.key, plan.resolution, current?.vector);
        results.forEach((fact) => print(fact, json, out));
        return 0;
      }
      case 'retire':
        return print(await store.retire(plan.key), json, out);
      case 'confirm':
        return print(await store.confirm(plan.proposalId), json, out);
      case 'reject': {
        const proposal = await store.reject(plan.proposalId);
        out(json ? JSON.stringify(proposal) : `rejected ${proposal.key} = ${JSON.stringify(proposal.value)}`);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof FactsInputError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

function print(fact: FactView, json: boolean, out: (line: string) => void): number {
  out(json ? JSON.stringify(fact) : factLines(fact).join('\n'));
  return 0;
}

function factLines(fact: FactView): string[] {
  const flags = [fact.state !== 'active' ? fact.state : '', fact.stale ? 'stale' : '', fact.pinned ? 'pinned' : ''].filter(Boolean).join(', ');
  if (fact.state === 'conflicted') {
    return [`${fact.key}  (conflicted: ${fact.heads.length} values; merge with \`facts merge ${fact.key} --pick N\`)`, ...fact.heads.map((head, index) => `  ${index + 1}. ${head.value === null ? '(retired)' : JSON.stringify(head.value)}  by ${head.writerId} at ${iso(head.wallMs)} (${head.trust})`)];
  }
  const value = fact.heads[0]?.value;
  return [`${fact.key} = ${value === null || value === undefined ? '(retired)' : JSON.stringify(value)}${flags ? `  (${flags})` : ''}  [${fact.heads[0]?.trust ?? ''}, ${fact.heads[0]?.writerId ?? ''}]`];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
