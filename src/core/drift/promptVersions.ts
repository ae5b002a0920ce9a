import type { Ledger } from '../ledger';
import type { EventDraft } from '../log/events';
import { promptStreamId } from '../log/systemStreams';
import { PromptVersionsModule, type PromptVersion } from '../store/modules/promptVersionsModule';
import { textDigest, type EffectivePrompt } from './promptSources';

export interface RecordedVersion {
  readonly version: PromptVersion;
  /** A new version was appended by this call. */
  readonly recorded: boolean;
}

const attempts = 3;

/**
 * Records `prompt` as the current prompt version unless it already is. The append expects the
 * stream's version it read, so two engines observing different prompts at once cannot both
 * win: the loser reads again and records its prompt after the winner's (or not at all, if the
 * winner's is the same). The event id comes from the digest and the version it follows, so a
 * retry or a second engine with the same prompt stores it once.
 */
export async function recordPromptVersion(ledger: Ledger, prompt: EffectivePrompt): Promise<RecordedVersion> {
  const versions = ledger.module(PromptVersionsModule);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = versions.current();
    if (current?.digest === prompt.digest) {
      return { version: current, recorded: false };
    }
    const stream = ledger.getSession(promptStreamId);
    const drafts: EventDraft[] = [];
    if (!stream) {
      drafts.push({ kind: 'session.started', id: `${promptStreamId}:started`, sessionId: promptStreamId, body: { name: 'Prompt versions' }, expectedVersion: 0 });
    }
    drafts.push({
      kind: 'prompt.version',
      id: `prompt-${prompt.digest.slice(0, 24)}-after-${current?.version ?? 0}`,
      sessionId: promptStreamId,
      expectedVersion: stream ? stream.version : 1,
      body: { digest: prompt.digest, previousDigest: current?.digest ?? null, sources: prompt.sources.map((source) => ({ path: source.path, digest: textDigest(source.text), text: source.text })) },
    });
    const verdicts = await ledger.append(drafts);
    const last = verdicts.at(-1);
    const now = versions.current();
    if (now?.digest === prompt.digest) {
      return { version: now, recorded: last?.status === 'appended' };
    }
    // Another writer recorded a version in between: look again.
  }
  throw new Error(`the prompt version could not be recorded after ${attempts} attempts: other writers kept changing it`);
}

/** The current prompt version, or null before the first was recorded. */
export function currentPromptVersion(ledger: Ledger): PromptVersion | null {
  return ledger.module(PromptVersionsModule).current();
}
