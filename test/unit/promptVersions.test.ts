import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { checkFacts, factTopic } from '../../src/core/drift/factChecks';
import type { DriftFact } from '../../src/core/drift/driftTypes';
import { extractClaims } from '../../src/core/drift/promptClaims';
import { effectivePrompt, settingSourcePath } from '../../src/core/drift/promptSources';
import { parsePrompt } from '../../src/core/drift/promptText';
import { currentPromptVersion, recordPromptVersion } from '../../src/core/drift/promptVersions';
import { Ledger } from '../../src/core/ledger';
import { parseEventDraft } from '../../src/core/log/events';
import { promptStreamId } from '../../src/core/log/systemStreams';
import { transcriptLines } from '../../src/core/report/transcriptReport';
import { PromptVersionsModule } from '../../src/core/store/modules/promptVersionsModule';
import { makeTempDir } from '../fixtures/tempDir';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function openStore(storeDir?: string): Promise<{ ledger: Ledger; storeDir: string }> {
  const dir = storeDir ?? makeTempDir('context-ledger-prompt-').dir;
  if (!storeDir) {
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const ledger = await Ledger.open({ storeDir: dir, snapshotEveryEvents: 0 });
  cleanups.unshift(() => ledger.close());
  return { ledger, storeDir: dir };
}

const agents = { path: 'AGENTS.md', text: '# Agents\n\n- Use `pnpm`.\n- Test: `pnpm test`\n' };

describe('prompt versions', () => {
  it('a change is one new version; the same prompt again is none', async () => {
    const { ledger } = await openStore();
    assert.equal(currentPromptVersion(ledger), null);
    const first = await recordPromptVersion(ledger, effectivePrompt('Be brief.', [agents]));
    assert.equal(first.recorded, true);
    assert.equal(first.version.version, 1);
    assert.deepEqual(first.version.sources.map((source) => source.path), [settingSourcePath, 'AGENTS.md']);
    const again = await recordPromptVersion(ledger, effectivePrompt('Be brief.', [agents]));
    assert.deepEqual(again, { version: first.version, recorded: false });
    const changed = await recordPromptVersion(ledger, effectivePrompt('Be brief.', [{ ...agents, text: `${agents.text}- Node.js 22\n` }]));
    assert.equal(changed.version.version, 2);
    assert.equal(changed.version.previousDigest, first.version.digest);
    const settingChanged = await recordPromptVersion(ledger, effectivePrompt('Be thorough.', [{ ...agents, text: `${agents.text}- Node.js 22\n` }]));
    assert.equal(settingChanged.version.version, 3);
    // Back to the first prompt: a new version (the log says when it came back), same digest as 1.
    const back = await recordPromptVersion(ledger, effectivePrompt('Be brief.', [agents]));
    assert.equal(back.version.version, 4);
    assert.equal(back.version.digest, first.version.digest);
    assert.equal(ledger.module(PromptVersionsModule).list().length, 4);
    // The stream is a system stream: not a session anyone lists or opens.
    assert.ok(!ledger.listSessions().some((session) => session.id === promptStreamId));
    assert.equal(ledger.getSession(promptStreamId)?.eventCount, 5);
    // Its events read as a transcript (CLI `show prompt:workspace`) with each version's files.
    assert.match(transcriptLines(ledger.getSession(promptStreamId)!, ledger.readSession(promptStreamId)).join('\n'), /prompt version [0-9a-f]{12}: settings:contextLedger\.systemPrompt, AGENTS\.md/);
  });

  it('the order of files does not change the digest; their content and names do', () => {
    const claude = { path: 'CLAUDE.md', text: '@AGENTS.md\n' };
    assert.equal(effectivePrompt('', [agents, claude]).digest, effectivePrompt('', [claude, agents]).digest);
    assert.notEqual(effectivePrompt('', [agents]).digest, effectivePrompt('', [{ ...agents, path: 'docs/AGENTS.md' }]).digest);
    assert.notEqual(effectivePrompt('a', []).digest, effectivePrompt('', [{ path: settingSourcePath.slice(0, -1), text: 'a' }]).digest);
  });

  it('two engines recording different prompts at once: both versions land, one after the other, none lost', async () => {
    const { ledger: one, storeDir } = await openStore();
    const { ledger: two } = await openStore(storeDir);
    const [a, b] = await Promise.all([recordPromptVersion(one, effectivePrompt('A', [])), recordPromptVersion(two, effectivePrompt('B', []))]);
    assert.deepEqual([a.recorded, b.recorded], [true, true]);
    one.catchUp();
    const versions = one.module(PromptVersionsModule).list();
    assert.deepEqual(versions.map((version) => version.version), [1, 2]);
    assert.deepEqual(new Set(versions.map((version) => version.digest)), new Set([a.version.digest, b.version.digest]));
    // The same prompt from both at once: one version.
    const [c, d] = await Promise.all([recordPromptVersion(one, effectivePrompt('C', [])), recordPromptVersion(two, effectivePrompt('C', []))]);
    assert.equal(c.version.digest, d.version.digest);
    assert.equal(one.module(PromptVersionsModule).list().length, 3);
  });

  it('replaying the journal gives the same table (no snapshot), and verify agrees', async () => {
    const { ledger, storeDir } = await openStore();
    for (const text of ['one', 'two', 'two', 'three']) {
      await recordPromptVersion(ledger, effectivePrompt(text, [agents]));
    }
    // A repeated digest appended by hand (no expectedVersion) changes nothing either.
    await ledger.append([{ kind: 'prompt.version', sessionId: promptStreamId, body: { digest: currentPromptVersion(ledger)!.digest, previousDigest: null, sources: [] } }]);
    const before = ledger.module(PromptVersionsModule).list();
    assert.equal(before.length, 3);
    assert.equal((await ledger.verify()).ok, true);
    ledger.snapshot();
    ledger.close();
    cleanups.shift();
    fs.rmSync(path.join(storeDir, 'snapshots'), { recursive: true, force: true });
    const { ledger: replayed } = await openStore(storeDir);
    assert.deepEqual(replayed.module(PromptVersionsModule).list(), before);
  });

  it('a prompt.version body is checked at the log boundary', () => {
    const good = { kind: 'prompt.version', sessionId: promptStreamId, body: { digest: 'a'.repeat(64), previousDigest: null, sources: [{ path: 'AGENTS.md', digest: 'b'.repeat(64), text: 'x' }] } };
    assert.equal(parseEventDraft(good).kind, 'prompt.version');
    assert.throws(() => parseEventDraft({ ...good, body: { ...good.body, digest: 'nope' } }), /"digest" must be a SHA-256 digest/);
    assert.throws(() => parseEventDraft({ ...good, body: { ...good.body, sources: [{ path: '', digest: 'b'.repeat(64), text: '' }] } }), /"sources\[0\]": "path" must not be empty/);
    assert.throws(() => parseEventDraft({ ...good, body: { ...good.body, previousDigest: 3 } }), /"previousDigest"/);
  });
});

describe('facts against the current prompt (plain fact objects, through DriftFact)', () => {
  const prompt = [
    '# Agents',
    '- Use `pnpm` for everything.',
    '- Build: `pnpm build`',
    '- Test: `pnpm test`',
    '- Requires Node.js 22.',
    '- Format with Prettier.',
    '- Never edit `generated/` by hand.',
  ].join('\n');
  const claims = [extractClaims(parsePrompt('AGENTS.md', prompt))];
  const fact = (key: string, value: string, promptVersion: number | null = 3, status = 'active'): DriftFact => ({ id: `f-${key}`, key, value, promptVersion, status });
  const check = (facts: DriftFact[]) => checkFacts(facts, claims, { version: 3, firstFile: 'AGENTS.md' }).map((diagnostic) => `${diagnostic.path}:${diagnostic.line} ${diagnostic.code} ${diagnostic.factId}`);

  it('knows the topics facts use', () => {
    assert.deepEqual(['packageManager', 'build.command', 'test.cmd', 'runtime.node', 'node.version', 'formatter', 'paths.editable', 'user.name'].map((key) => factTopic(key)?.kind), ['manager', 'command', 'command', 'runtime', 'runtime', 'formatter', 'editablePaths', undefined]);
  });

  it('facts that agree with the prompt give nothing', () => {
    assert.deepEqual(check([fact('packageManager', 'pnpm'), fact('build.command', 'pnpm build'), fact('test.command', 'pnpm  test'), fact('runtime.node', '22'), fact('formatter', 'prettier'), fact('paths.editable', 'src/ docs/'), fact('user.name', 'Ada')]), []);
  });

  it('each contradiction is on the line of the prompt it contradicts', () => {
    assert.deepEqual(check([fact('packageManager', 'npm'), fact('build.command', 'make build'), fact('test.command', 'pnpm vitest'), fact('runtime.node', '18'), fact('formatter', 'biome'), fact('paths.editable', 'src/ generated/api.ts')]), [
      'AGENTS.md:2 fact-contradicts-prompt f-packageManager',
      'AGENTS.md:3 fact-contradicts-prompt f-build.command',
      'AGENTS.md:4 fact-contradicts-prompt f-test.command',
      'AGENTS.md:5 fact-contradicts-prompt f-runtime.node',
      'AGENTS.md:6 fact-contradicts-prompt f-formatter',
      'AGENTS.md:7 fact-contradicts-prompt f-paths.editable',
    ]);
  });

  it('a fact made under an older prompt version is flagged until verified under the current one; retired facts never', () => {
    assert.deepEqual(check([fact('test.command', 'pnpm test', 2), fact('user.name', 'Ada', 1), fact('build.command', 'pnpm build', 3), fact('packageManager', 'npm', 1, 'retired'), fact('formatter', 'prettier', null)]), [
      'AGENTS.md:4 fact-older-prompt f-test.command',
      'AGENTS.md:1 fact-older-prompt f-user.name',
    ]);
  });
});
