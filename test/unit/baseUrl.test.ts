import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBaseUrl } from '../../src/core/llm/baseUrl';
import { checkSendParams } from '../../src/server/chatService';

describe('where the API key may be sent (contextLedger.baseUrl)', () => {
  it('takes empty for the SDK default', () => {
    for (const value of [undefined, null, '', '   ']) {
      assert.deepEqual(checkBaseUrl(value), { ok: true, baseUrl: null }, String(value));
    }
  });

  it('accepts https anywhere and plain http to loopback only', () => {
    const accepted: Array<[string, string]> = [
      ['https://gateway.example/anthropic/', 'https://gateway.example/anthropic'],
      [' https://gateway.example:8443 ', 'https://gateway.example:8443'],
      ['http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
      ['http://localhost:4010/v1/', 'http://localhost:4010/v1'],
      ['http://LOCALHOST:4010', 'http://LOCALHOST:4010'],
      ['http://[::1]:4010', 'http://[::1]:4010'],
    ];
    for (const [value, baseUrl] of accepted) {
      assert.deepEqual(checkBaseUrl(value), { ok: true, baseUrl }, value);
    }
  });

  it('refuses everything else, saying why', () => {
    const refused: Array<[unknown, RegExp]> = [
      ['http://gateway.example', /plain http is allowed only to this machine .* not to gateway\.example; use https/],
      ['http://10.0.0.5:4010', /not to 10\.0\.0\.5/],
      ['http://localhost.attacker.example', /not to localhost\.attacker\.example/],
      ['http://127.0.0.1.nip.io', /not to 127\.0\.0\.1\.nip\.io/],
      ['http://[::ffff:7f00:1]', /plain http is allowed only/],
      ['ftp://127.0.0.1', /"ftp:" is not https/],
      ['file:///etc/passwd', /"file:" is not https/],
      ['https://user:secret@gateway.example', /must not carry a user name or password/],
      ['gateway.example', /is not a URL/],
      [42, /must be text/],
    ];
    for (const [value, reason] of refused) {
      const checked = checkBaseUrl(value);
      assert.equal(checked.ok, false, String(value));
      assert.match(checked.ok ? '' : checked.problem, reason, String(value));
    }
  });

  it('is checked again by the engine, which refuses a send to a forbidden URL', () => {
    const params = (baseUrl: string | null) => ({
      requestId: 'r',
      sessionId: 's',
      text: 'hi',
      keyVersion: 1,
      settings: { model: 'm', maxTokens: 10, baseUrl, budgetTokens: 1000, window: { kind: 'full' }, systemPrompt: '', timeoutMs: 1000 },
    });
    assert.equal(checkSendParams(params('http://127.0.0.1:4010/')).settings.baseUrl, 'http://127.0.0.1:4010');
    assert.equal(checkSendParams(params(null)).settings.baseUrl, null);
    assert.throws(() => checkSendParams(params('http://gateway.example')), /setting "baseUrl": plain http is allowed only to this machine/);
  });

  it('needs a key version in chat/send, never a key', () => {
    const base = { requestId: 'r', sessionId: 's', text: 'hi', settings: { model: 'm', maxTokens: 10, baseUrl: null, budgetTokens: 1000, window: { kind: 'full' }, systemPrompt: '', timeoutMs: 1000 } };
    assert.throws(() => checkSendParams({ ...base, apiKey: 'sk-ant-x' }), /"keyVersion" must be a positive whole number/);
    assert.throws(() => checkSendParams({ ...base, keyVersion: 0 }), /"keyVersion"/);
    assert.equal(checkSendParams({ ...base, keyVersion: 3 }).keyVersion, 3);
  });
});
