import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWindow } from '../../src/core/context/contextTypes';
import { chatDefaults, readChatSettings, windowLabel, windowSetting } from '../../src/extension/chat/chatSettings';

/** A reader over plain values, as workspace.getConfiguration('contextLedger').get would give. */
function reader(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

/** What VS Code returns for `contextLedger.window` with the package.json defaults merged in. */
const windowDefaults = { kind: 'sliding', turns: 20, tokens: 0, blockTurns: 10, idleGapMinutes: 30, detectShift: false };

describe('chat settings', () => {
  it('has defaults that work when nothing is set', () => {
    const { settings, problems } = readChatSettings(reader({}));
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      model: 'claude-sonnet-5-5',
      maxTokens: 4096,
      baseUrl: null,
      budgetTokens: 100_000,
      window: { kind: 'sliding', turns: 20 },
      systemPrompt: chatDefaults.systemPrompt,
      timeoutMs: 120_000,
    });
  });

  it('maps every setting', () => {
    const { settings, problems } = readChatSettings(
      reader({
        model: ' claude-opus-4-1 ',
        maxTokens: 8000,
        baseUrl: 'http://127.0.0.1:4010/',
        budgetTokens: 50_000,
        window: { ...windowDefaults, kind: 'full' },
        systemPrompt: '',
        requestTimeoutSeconds: 30,
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      model: 'claude-opus-4-1',
      maxTokens: 8000,
      baseUrl: 'http://127.0.0.1:4010',
      budgetTokens: 50_000,
      window: { kind: 'full' },
      systemPrompt: '',
      timeoutMs: 30_000,
    });
  });

  it('replaces invalid values by their defaults and says so', () => {
    const { settings, problems } = readChatSettings(
      reader({ model: '  ', maxTokens: 0, baseUrl: 'ftp://example.com', budgetTokens: 12.5, requestTimeoutSeconds: '60', systemPrompt: 3 }),
    );
    assert.equal(settings.model, chatDefaults.model);
    assert.equal(settings.maxTokens, chatDefaults.maxTokens);
    assert.equal(settings.baseUrl, null);
    assert.equal(settings.budgetTokens, chatDefaults.budgetTokens);
    assert.equal(settings.timeoutMs, chatDefaults.requestTimeoutSeconds * 1000);
    assert.equal(settings.systemPrompt, chatDefaults.systemPrompt);
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.match(problems.join('\n'), /contextLedger\.baseUrl must be an http\(s\) URL/);
    assert.match(problems.join('\n'), /contextLedger\.budgetTokens must be a whole number from 1000 to 2000000; using 100000/);
  });

  it('treats an empty base URL as the SDK default, and rejects one that is not a URL', () => {
    assert.equal(readChatSettings(reader({ baseUrl: '' })).settings.baseUrl, null);
    assert.equal(readChatSettings(reader({ baseUrl: '   ' })).settings.baseUrl, null);
    const bad = readChatSettings(reader({ baseUrl: 'not a url' }));
    assert.equal(bad.settings.baseUrl, null);
    assert.equal(bad.problems.length, 1);
    assert.equal(readChatSettings(reader({ baseUrl: 'https://gateway.example/anthropic' })).settings.baseUrl, 'https://gateway.example/anthropic');
  });
});

describe('contextLedger.window to WindowSpec', () => {
  it('maps each kind with its own parameters only', () => {
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'full' }), { kind: 'full' });
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'sliding' }), { kind: 'sliding', turns: 20 });
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'sliding', turns: 0, tokens: 30_000 }), { kind: 'sliding', tokens: 30_000 });
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'sliding', turns: 8, tokens: 30_000 }), { kind: 'sliding', turns: 8, tokens: 30_000 });
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'tumbling', blockTurns: 6 }), { kind: 'tumbling', blockTurns: 6 });
    assert.deepEqual(windowSetting({ ...windowDefaults, kind: 'session', idleGapMinutes: 45, detectShift: true }), { kind: 'session', idleGapMinutes: 45, detectShift: true });
  });

  it('fills parameters that are not set from the defaults', () => {
    assert.deepEqual(windowSetting({ kind: 'tumbling' }), { kind: 'tumbling', blockTurns: 10 });
    assert.deepEqual(windowSetting({ kind: 'session' }), { kind: 'session', idleGapMinutes: 30, detectShift: false });
    assert.deepEqual(windowSetting({}), { kind: 'sliding', turns: 20 });
    assert.deepEqual(windowSetting(undefined), defaultWindow);
  });

  it('falls back to the default window, with the reason, on an invalid one', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...windowDefaults, kind: 'ring' }, /unknown window kind "ring"/],
      [{ ...windowDefaults, kind: 'sliding', turns: 0, tokens: 0 }, /needs "turns" or "tokens"/],
      [{ ...windowDefaults, kind: 'sliding', turns: -3 }, /"turns" must be a positive whole number/],
      [{ ...windowDefaults, kind: 'tumbling', blockTurns: 2.5 }, /"blockTurns" must be a positive whole number/],
      [{ ...windowDefaults, kind: 'session', idleGapMinutes: 0 }, /"idleGapMinutes" must be a positive whole number/],
      [{ ...windowDefaults, kind: 'session', detectShift: 'yes' }, /"detectShift" must be true or false/],
      ['sliding', /must be an object/],
      [[1, 2], /must be an object/],
    ];
    for (const [value, reason] of cases) {
      const problems: string[] = [];
      assert.deepEqual(windowSetting(value, problems), defaultWindow, JSON.stringify(value));
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', reason);
      assert.match(problems[0] ?? '', /using sliding window, last 20 turns$/);
    }
  });

  it('describes each window in words', () => {
    assert.equal(windowLabel({ kind: 'full' }), 'full buffer');
    assert.equal(windowLabel({ kind: 'sliding', turns: 20 }), 'sliding window, last 20 turns');
    assert.equal(windowLabel({ kind: 'sliding', turns: 5, tokens: 8000 }), 'sliding window, last 5 turns or 8000 tokens');
    assert.equal(windowLabel({ kind: 'tumbling', blockTurns: 4 }), 'tumbling window, blocks of 4 turns');
    assert.equal(windowLabel({ kind: 'session', idleGapMinutes: 30, detectShift: true }), 'session window, split after 30 min idle or a topic shift');
  });
});
