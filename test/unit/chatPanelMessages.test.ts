import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chatPanelLimits, parseHostMessage, parseViewState, parseWebviewMessage, type WebviewMessage } from '../../src/shared/chatPanelMessages';

function accepted(input: unknown): WebviewMessage {
  const parsed = parseWebviewMessage(input);
  assert.ok(parsed.ok, `expected ${JSON.stringify(input)} to be accepted, got: ${parsed.ok ? '' : parsed.problem}`);
  return parsed.value;
}

function rejected(input: unknown): string {
  const parsed = parseWebviewMessage(input);
  assert.ok(!parsed.ok, `expected ${JSON.stringify(input)?.slice(0, 200)} to be rejected`);
  return parsed.problem;
}

describe('chat panel messages from the webview', () => {
  it('accepts every well-formed message type', () => {
    const good: WebviewMessage[] = [
      { type: 'ready' },
      { type: 'send', requestId: 'r1', sessionId: null, text: 'hello' },
      { type: 'send', requestId: 'r2', sessionId: '0b6a3c1e-2f4d-4b8a-9c1d-1234567890ab', text: 'line one\nline two' },
      { type: 'send', requestId: 'r2b', sessionId: 's1', text: 'again', retryOfRequestId: 'r2' },
      { type: 'cancel', requestId: 'r2' },
      { type: 'selectSession', requestId: 'r3', sessionId: 'e2e-parser' },
      { type: 'selectSession', requestId: 'r3', sessionId: null },
      { type: 'renameSession', requestId: 'r4', sessionId: 's1' },
      { type: 'renameSession', requestId: 'r4', sessionId: 's1', name: 'Parser work' },
      { type: 'refreshSessions', requestId: 'r5' },
      { type: 'copyCode', requestId: 'r6', code: 'const x = 1;' },
      { type: 'insertCode', requestId: 'r7', code: '' },
      { type: 'runCommand', requestId: 'r8', command: 'setApiKey' },
      { type: 'openFile', requestId: 'r9', path: 'src/fizzbuzz.ts' },
      { type: 'openFile', requestId: 'r10', path: 'src/fizzbuzz.ts', line: 12 },
      { type: 'undoCompaction', requestId: 'r11', sessionId: 's1', compactionId: 'compaction-0123456789abcdef01234567-12-balanced' },
    ];
    for (const message of good) {
      assert.deepEqual(accepted(message), message);
    }
  });

  it('accepts a session id the CLI chose (spaces, unicode), but no control characters', () => {
    assert.equal((accepted({ type: 'selectSession', requestId: 'r', sessionId: 'my session ü' }) as { sessionId: string }).sessionId, 'my session ü');
    assert.match(rejected({ type: 'selectSession', requestId: 'r', sessionId: 'a\u0000b' }), /control characters/);
    assert.match(rejected({ type: 'cancel', requestId: 'line\nbreak' }), /control characters/);
  });

  it('trims a new session name', () => {
    assert.deepEqual(accepted({ type: 'renameSession', requestId: 'r', sessionId: 's', name: '  Parser  ' }), { type: 'renameSession', requestId: 'r', sessionId: 's', name: 'Parser' });
  });

  it('rejects what is not a message', () => {
    for (const input of [null, undefined, 42, 'ready', [], [{ type: 'ready' }], true]) {
      assert.match(rejected(input), /must be an object/);
    }
  });

  it('rejects unknown types, including inherited property names', () => {
    for (const type of ['nope', 'toString', '__proto__', 'constructor', 42, null, undefined]) {
      assert.match(rejected({ type }), /unknown message type/);
    }
  });

  it('rejects missing, mistyped and oversized fields', () => {
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null }), /"text" must be a string/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null, text: 'x', retryOfRequestId: 42 }), /retryOfRequestId/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null, text: 42 }), /"text" must be a string/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null, text: '   \n ' }), /must not be blank/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null, text: 'x'.repeat(chatPanelLimits.textLength + 1) }), /longer than/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: 7, text: 'hi' }), /"sessionId" must be a non-empty string/);
    assert.match(rejected({ type: 'send', requestId: 'r', text: 'hi' }), /"sessionId" must be a non-empty string/);
    assert.match(rejected({ type: 'send', requestId: '', sessionId: null, text: 'hi' }), /"requestId" must be a non-empty string/);
    assert.match(rejected({ type: 'send', requestId: 'r'.repeat(201), sessionId: null, text: 'hi' }), /"requestId" must be a non-empty string of at most 200/);
    assert.match(rejected({ type: 'renameSession', requestId: 'r', sessionId: 's', name: '' }), /must not be blank/);
    assert.match(rejected({ type: 'renameSession', requestId: 'r', sessionId: 's', name: 'n'.repeat(201) }), /longer than 200/);
    assert.match(rejected({ type: 'copyCode', requestId: 'r' }), /"code" must be a string/);
  });

  it('rejects extra fields (a message is exactly its shape)', () => {
    assert.match(rejected({ type: 'ready', extra: 1 }), /unexpected field "extra"/);
    assert.match(rejected({ type: 'send', requestId: 'r', sessionId: null, text: 'hi', apiKey: 'sk-ant-x' }), /unexpected field "apiKey"/);
  });

  it('runs only the commands on its list, never an arbitrary command id', () => {
    for (const command of ['workbench.action.terminal.new', 'contextLedger.restartEngine', '', 7]) {
      assert.match(rejected({ type: 'runCommand', requestId: 'r', command }), /"command" must be one of/);
    }
  });

  it('takes a file to open only as a short path without control characters (the extension keeps it inside the folder)', () => {
    assert.match(rejected({ type: 'openFile', requestId: 'r', path: '' }), /"path" must not be blank/);
    assert.match(rejected({ type: 'openFile', requestId: 'r', path: 'a\nb' }), /"path" has control characters/);
    assert.match(rejected({ type: 'openFile', requestId: 'r', path: 'x'.repeat(1001) }), /"path" is longer than 1000/);
    assert.match(rejected({ type: 'openFile', requestId: 'r' }), /"path" must be a string/);
    assert.match(rejected({ type: 'openFile', requestId: 'r', path: 'a.ts', line: 0 }), /"line" must be a whole number from 1/);
    assert.match(rejected({ type: 'openFile', requestId: 'r', path: 'a.ts', line: '3' }), /"line" must be a whole number from 1/);
  });

  it('takes an undo of a compaction only with a session and a compaction id, nothing else', () => {
    assert.match(rejected({ type: 'undoCompaction', requestId: 'r', sessionId: 's1' }), /"compactionId" must be a non-empty string/);
    assert.match(rejected({ type: 'undoCompaction', requestId: 'r', compactionId: 'c' }), /"sessionId" must be a non-empty string/);
    assert.match(rejected({ type: 'undoCompaction', requestId: 'r', sessionId: 's1', compactionId: 'c\nd' }), /control characters/);
    assert.match(rejected({ type: 'undoCompaction', requestId: 'r', sessionId: 's1', compactionId: 'x'.repeat(201) }), /at most 200/);
    assert.match(rejected({ type: 'undoCompaction', requestId: 'r', sessionId: 's1', compactionId: 'c', command: 'workbench.action.quit' }), /unexpected field "command"/);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }), (input) => {
        const parsed = parseWebviewMessage(input);
        assert.equal(typeof parsed.ok, 'boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.record({ type: fc.constantFrom('send', 'cancel', 'selectSession', 'renameSession', 'copyCode', 'insertCode', 'runCommand'), requestId: fc.anything(), sessionId: fc.anything(), text: fc.anything(), name: fc.anything(), code: fc.anything(), command: fc.anything() }, { requiredKeys: ['type'] }),
        (input) => {
          const parsed = parseWebviewMessage(input);
          if (parsed.ok) {
            // Anything accepted has string ids within the limits.
            const value = parsed.value as unknown as Record<string, unknown>;
            for (const field of ['requestId', 'sessionId']) {
              const id = value[field];
              assert.ok(id === undefined || id === null || (typeof id === 'string' && id.length > 0 && id.length <= chatPanelLimits.idLength));
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('does not throw on a getter that throws', () => {
    const hostile = {
      type: 'send',
      requestId: 'r',
      sessionId: null,
      get text(): string {
        throw new Error('boom');
      },
    };
    const parsed = parseWebviewMessage(hostile);
    assert.equal(parsed.ok, false);
  });
});

describe('chat panel messages from the extension', () => {
  it('accepts the host messages the webview handles', () => {
    const snapshot = { sessions: [], activeSessionId: null, transcript: [], inFlight: null, keyStatus: { source: null }, config: { model: 'm', budgetTokens: 1, windowLabel: 'w', problems: [] } };
    for (const message of [
      { type: 'init', snapshot },
      { type: 'sessions', sessions: [], activeSessionId: null },
      { type: 'transcript', requestId: null, sessionId: 's', entries: [], inFlight: null },
      { type: 'progress', requestId: 'r', progress: { type: 'text', delta: 'hi' } },
      { type: 'sendResult', requestId: 'r', result: { status: 'complete', userEventId: 'u', assistantEventId: 'a', receipt: null, error: null } },
      { type: 'reply', requestId: 'r', ok: true, message: null },
      { type: 'revealReceipt' },
    ]) {
      assert.ok(parseHostMessage(message).ok, JSON.stringify(message));
    }
  });

  it('rejects unknown types and incomplete shapes', () => {
    assert.equal(parseHostMessage({ type: 'evil' }).ok, false);
    assert.equal(parseHostMessage({ type: 'progress', requestId: 'r' }).ok, false);
    assert.equal(parseHostMessage({ type: 'sessions', sessions: 'x' }).ok, false);
    assert.equal(parseHostMessage({ type: 'init', snapshot: { sessions: [] } }).ok, false);
    assert.equal(parseHostMessage('init').ok, false);
  });
});

describe('chat view state', () => {
  it('keeps a valid state and repairs anything else', () => {
    assert.deepEqual(parseViewState({ sessionId: 's1', draft: 'half a thought' }), { sessionId: 's1', draft: 'half a thought' });
    assert.deepEqual(parseViewState(undefined), { sessionId: null, draft: '' });
    assert.deepEqual(parseViewState({ sessionId: 5, draft: ['x'] }), { sessionId: null, draft: '' });
    assert.deepEqual(parseViewState({ sessionId: '', draft: 'x' }), { sessionId: null, draft: 'x' });
    assert.equal(parseViewState({ sessionId: 's', draft: 'x'.repeat(chatPanelLimits.textLength + 5) }).draft.length, chatPanelLimits.textLength);
  });
});
