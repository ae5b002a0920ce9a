import type { ArtifactTrail } from '../compaction/compactionTypes';
import type { FactsStore } from './factsStore';
import type { FactProposal } from './factTypes';

// Extraction during compaction: a compacted range's artifact trail names the commands that ran
// and how they ended. A build, test, lint, format or typecheck command that succeeded becomes a
// *proposal* (trust `extracted-tool`: it came from tool output), never a fact: it waits in the
// Facts view for the user, like the model's `remember`.

type Topic = 'build' | 'test' | 'lint' | 'format' | 'typecheck';

const topicCommand = /^(?:(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?|make\s+(?:-C\s+\S+\s+)?)(build|test|lint|format|typecheck)(?=$|[\s:])/;
const maxCommandChars = 200;

export interface TrailFactCandidate {
  readonly key: string;
  readonly value: string;
  readonly toolUseId: string;
}

/** The last succeeding command of each topic in the trail. */
export function trailFactCandidates(trail: ArtifactTrail): TrailFactCandidate[] {
  const byTopic = new Map<Topic, TrailFactCandidate>();
  for (const command of trail.commands) {
    const text = command.command.trim().replace(/\s+/g, ' ');
    const match = topicCommand.exec(text);
    if (!match || command.failed || (command.exitStatus !== null && command.exitStatus !== 0) || text.length > maxCommandChars) {
      continue;
    }
    const topic = match[1] as Topic;
    byTopic.set(topic, { key: `${topic}.command`, value: text, toolUseId: command.toolUseId });
  }
  return [...byTopic.values()];
}

/** Files proposals for the trail's commands that the facts (or a pending proposal) do not say already. */
export async function proposeFromTrail(store: FactsStore, trail: ArtifactTrail, source: { readonly sessionId: string; readonly compactionId: string; readonly promptVersion: string | null }): Promise<FactProposal[]> {
  const pending = store.queries.proposals('pending');
  const proposed: FactProposal[] = [];
  for (const candidate of trailFactCandidates(trail)) {
    const current = store.get(candidate.key);
    if (current?.state === 'active' && current.heads[0]?.value === candidate.value) {
      continue;
    }
    if (pending.some((proposal) => proposal.key === candidate.key && proposal.value === candidate.value)) {
      continue;
    }
    proposed.push(
      await store.propose({
        key: candidate.key,
        value: candidate.value,
        trust: 'extracted-tool',
        provenance: { sessionId: source.sessionId, eventId: source.compactionId, path: null, line: null },
        promptVersion: source.promptVersion,
        reason: `extracted during compaction: the command succeeded in session ${source.sessionId} (tool call ${candidate.toolUseId})`,
      }),
    );
  }
  return proposed;
}
