import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMemoryHostMessage, parseMemoryWebviewMessage } from '../../src/shared/memoryPanelMessages';

// The memory panel's webview is untrusted input: every message is checked before the extension
// acts on it, and a malformed one is refused with the reason.

function problem(input: unknown): string {
  const parsed = parseMemoryWebviewMessage(input);
  assert.equal(parsed.ok, false, JSON.stringify(input));
  return parsed.ok ? '' : parsed.problem;
}

describe('memory panel messages', () => {
  it('accepts each request with its fields', () => {
    const valid = [
      { type: 'ready' },
      { type: 'sessions', requestId: 'r1' },
      { type: 'overview', requestId: 'r1', sessionId: 's' },
      { type: 'page', requestId: 'r1', sessionId: 's', fromSeq: 0 },
      { type: 'growth', requestId: 'r1', sessionId: 's' },
      { type: 'search', requestId: 'r1', sessionId: 's', query: 'parse.ts' },
      { type: 'health', requestId: 'r1', sessionId: null },
      { type: 'preview', requestId: 'r1', sessionId: 's', firstTurn: 1, lastTurn: 3, tier: 'aggressive' },
      { type: 'preview', requestId: 'r1', sessionId: 's', firstTurn: 1, lastTurn: 3, tier: 'balanced', compactor: 'model' },
      { type: 'runCommand', requestId: 'r1', command: 'setApiKey' },
      { type: 'commit', requestId: 'r1', previewId: 'p' },
      { type: 'cancelPreview', requestId: 'r1', previewId: 'p' },
      { type: 'undo', requestId: 'r1', sessionId: 's', compactionId: 'c' },
      { type: 'runCommand', requestId: 'r1', command: 'importClaudeCode' },
    ];
    for (const message of valid) {
      assert.deepEqual(parseMemoryWebviewMessage(message), { ok: true, value: message });
    }
  });

  it('refuses unknown types, extra fields and bad values, saying why', () => {
    assert.match(problem('ready'), /must be an object/);
    assert.match(problem({ type: 'eval', code: '1' }), /unknown message type "eval"/);
    assert.match(problem({ type: 'commit', requestId: 'r', previewId: 'p', body: { summary: 'mine' } }), /unexpected field "body"/);
    assert.match(problem({ type: 'page', requestId: 'r', sessionId: 's', fromSeq: -1 }), /"fromSeq" must be a whole number/);
    assert.match(problem({ type: 'page', requestId: 'r', sessionId: 's', fromSeq: 1.5 }), /"fromSeq" must be a whole number/);
    assert.match(problem({ type: 'preview', requestId: 'r', sessionId: 's', firstTurn: 4, lastTurn: 2, tier: 'balanced' }), /"lastTurn" must not be before "firstTurn"/);
    assert.match(problem({ type: 'preview', requestId: 'r', sessionId: 's', firstTurn: 1, lastTurn: 2, tier: 'full' }), /"tier" must be balanced or aggressive/);
    assert.match(problem({ type: 'preview', requestId: 'r', sessionId: 's', firstTurn: 1, lastTurn: 2, tier: 'balanced', compactor: 'gpt' }), /"compactor" must be offline or model/);
    assert.match(problem({ type: 'search', requestId: 'r', sessionId: 's', query: '   ' }), /"query" must be a non-blank string/);
    assert.match(problem({ type: 'search', requestId: 'r', sessionId: 's', query: 'x'.repeat(501) }), /at most 500/);
    assert.match(problem({ type: 'overview', requestId: 'r', sessionId: 'a\nb' }), /"sessionId" has control characters/);
    assert.match(problem({ type: 'overview', requestId: '', sessionId: 's' }), /"requestId" must be a non-empty string/);
    assert.match(problem({ type: 'runCommand', requestId: 'r', command: 'workbench.action.terminal.new' }), /"command" must be one of importClaudeCode, openChat, setApiKey/);
  });

  it('checks host messages structurally', () => {
    assert.equal(parseMemoryHostMessage({ type: 'init', sessions: [], sessionId: null }).ok, true);
    assert.equal(parseMemoryHostMessage({ type: 'reply', requestId: 'r', ok: false }).ok, false);
    assert.equal(parseMemoryHostMessage({ type: 'reply', requestId: 'r', ok: true, value: null }).ok, true);
    assert.equal(parseMemoryHostMessage({ type: 'storeChanged' }).ok, false);
    assert.equal(parseMemoryHostMessage({ type: 'other' }).ok, false);
    assert.equal(parseMemoryHostMessage({ type: 'compactor', compactor: { compactor: 'model', model: 'claude-test' } }).ok, true);
    assert.equal(parseMemoryHostMessage({ type: 'compactor', compactor: { compactor: 'someone', model: 'x' } }).ok, false);
  });
});
