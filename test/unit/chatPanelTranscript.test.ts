import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContextReceipt } from '../../src/core/context/contextTypes';
import type { StoredEvent } from '../../src/core/log/events';
import { budgetUse, lastReceipt, sessionNameFromText, toTranscript, withErrors } from '../../src/extension/chat/transcript';
import type { TranscriptEntry } from '../../src/shared/chatPanelMessages';
import { escapeHtml, renderMarkdown } from '../../src/webview/chat/markdown';
import { compactionNote, describeToolCall, importedRequestSummary, receiptSummary, seqRange, turnRange, windowText } from '../../src/webview/chat/format';

let seq = 0;
function event(kind: StoredEvent['kind'], body: unknown, id = `e${seq + 1}`): StoredEvent {
  seq++;
  return { formatVersion: 1, id, kind, sessionId: 's', parentId: null, writerId: 'w', hlc: 'h', wallMs: 1000 + seq, body, seq } as StoredEvent;
}

function receipt(totalTokens: number, budgetTokens = 1000): ContextReceipt {
  return {
    sessionId: 's',
    createdMs: 1,
    window: { kind: 'sliding', turns: 20 },
    budgetTokens,
    totalTokens,
    tokenSource: 'estimate',
    parts: [
      { kind: 'system', firstSeq: null, lastSeq: null, eventCount: 0, tokens: 10, reason: 'system prompt' },
      { kind: 'prompt', firstSeq: 3, lastSeq: 3, eventCount: 1, tokens: 5, reason: 'the new message' },
    ],
    excluded: [{ eventCount: 2, firstSeq: 1, lastSeq: 2, tokens: 40, reason: 'outside-window' } as ContextReceipt['excluded'][number]],
  };
}

describe('transcript of a session', () => {
  it('shows user and assistant turns, tools, topics and renames; puts each receipt under its answer', () => {
    seq = 0;
    const first = receipt(100);
    const second = receipt(180);
    const events = [
      event('session.started', { name: 'S' }),
      event('message.user', { text: 'read the file' }, 'u1'),
      event('context.receipt', { requestId: 'u1#0', receipt: first }),
      event('message.assistant', { text: '', model: 'm', stopReason: 'tool_use' }, 'a1'),
      event('tool.use', { toolUseId: 't1', name: 'read_file', input: { path: 'README.md' } }, 'tu'),
      event('tool.result', { toolUseId: 't1', content: 'hello', isError: false }, 'tr'),
      event('context.receipt', { requestId: 'u1#1', receipt: second }),
      event('message.assistant', { text: 'It says hello.', model: 'm' }, 'a2'),
      event('topic.boundary', { label: 'next' }, 'tb'),
      event('session.renamed', { name: 'Renamed' }, 'rn'),
      event('message.user', { text: 'and then?' }, 'u2'),
      event('message.assistant', { text: 'It was cut', model: 'm', incomplete: true }, 'a3'),
    ];
    const entries = toTranscript(events);
    assert.deepEqual(
      entries.map((entry) => entry.kind),
      ['user', 'assistant', 'toolUse', 'toolResult', 'assistant', 'topic', 'renamed', 'user', 'assistant'],
    );
    const answers = entries.filter((entry): entry is Extract<TranscriptEntry, { kind: 'assistant' }> => entry.kind === 'assistant');
    assert.equal(answers[0]?.receipt, first);
    assert.equal(answers[1]?.receipt, second);
    assert.equal(answers[2]?.receipt, null);
    assert.equal(answers[2]?.incomplete, true);
    assert.equal(answers[1]?.incomplete, false);
    const toolUse = entries[2] as Extract<TranscriptEntry, { kind: 'toolUse' }>;
    assert.equal(toolUse.input, JSON.stringify({ path: 'README.md' }, null, 2));
    assert.deepEqual(entries[5], { kind: 'topic', eventId: 'tb', label: 'next' });
    assert.equal(lastReceipt(events), second);
  });

  it('keeps a receipt whose request produced no answer as its own row', () => {
    seq = 0;
    const only = receipt(50);
    const entries = toTranscript([event('message.user', { text: 'hi' }, 'u1'), event('context.receipt', { requestId: 'u1#0', receipt: only }, 'r1'), event('message.user', { text: 'again' }, 'u2')]);
    assert.deepEqual(
      entries.map((entry) => entry.kind),
      ['user', 'receipt', 'user'],
    );
  });

  it('puts errors the panel showed after the turn they belong to', () => {
    const error = { kind: 'error' as const, requestId: 'r', error: { kind: 'overloaded' as const, message: 'Overloaded', action: 'Retry', requestId: 'req_1', status: 529 }, retryText: 'q' };
    const entries: TranscriptEntry[] = [
      { kind: 'user', eventId: 'u1', seq: 1, text: 'q', wallMs: 1 },
      { kind: 'assistant', eventId: 'a1', text: 'partial', wallMs: 2, model: null, incomplete: true, receipt: null },
      { kind: 'user', eventId: 'u2', seq: 3, text: 'next', wallMs: 3 },
    ];
    assert.deepEqual(
      withErrors(entries, [{ turnOf: 'u1', after: null, entry: error }]).map((entry) => entry.kind),
      ['user', 'assistant', 'error', 'user'],
    );
    assert.deepEqual(
      withErrors(entries, [{ turnOf: null, after: null, entry: error }]).map((entry) => entry.kind),
      ['user', 'assistant', 'user', 'error'],
    );
    // Failed before anything was logged: after the event that was last then, after earlier errors.
    const second = { ...error, requestId: 'r2' };
    assert.deepEqual(
      withErrors(entries, [
        { turnOf: null, after: 'a1', entry: error },
        { turnOf: null, after: 'a1', entry: second },
      ]).map((entry) => (entry.kind === 'error' ? entry.requestId : entry.kind)),
      ['user', 'assistant', 'r', 'r2', 'user'],
    );
  });

  it('names a new session after its first line', () => {
    assert.equal(sessionNameFromText('  How do I stream?\nMore detail'), 'How do I stream?');
    assert.equal(sessionNameFromText('x'.repeat(100)).length, 60);
    assert.ok(sessionNameFromText('x'.repeat(100)).endsWith('…'));
    assert.equal(sessionNameFromText('   '), 'New chat');
  });

  it('computes the gauge: percent of the budget, warning above 80 %', () => {
    assert.deepEqual(budgetUse({ totalTokens: 420, budgetTokens: 1000 }), { percent: 42, label: '42%', warn: false, over: false });
    assert.deepEqual(budgetUse({ totalTokens: 800, budgetTokens: 1000 }), { percent: 80, label: '80%', warn: false, over: false });
    assert.deepEqual(budgetUse({ totalTokens: 801, budgetTokens: 1000 }), { percent: 80, label: '80%', warn: true, over: false });
    assert.deepEqual(budgetUse({ totalTokens: 1011, budgetTokens: 1000 }), { percent: 101, label: '101%', warn: true, over: true });
    assert.deepEqual(budgetUse({ totalTokens: 1200, budgetTokens: 1000 }), { percent: 120, label: '120%', warn: true, over: true });
    assert.deepEqual(budgetUse({ totalTokens: 347, budgetTokens: 100_000 }), { percent: 0, label: '<1%', warn: false, over: false });
    assert.deepEqual(budgetUse({ totalTokens: 0, budgetTokens: 100_000 }), { percent: 0, label: '0%', warn: false, over: false });
  });
});

describe('chat panel rendering helpers', () => {
  it('renders markdown with code blocks that have Copy and Insert buttons', () => {
    const html = renderMarkdown('Here:\n\n```ts\nconst a = 1 < 2;\n```\n');
    assert.match(html, /<div class="code-block">/);
    assert.match(html, /data-action="copy-code"/);
    assert.match(html, /data-action="insert-code"/);
    // Highlighted (keyword and number spans), still escaped.
    assert.match(html, /<code class="language-ts"><span class="hljs-keyword">const<\/span> a = <span class="hljs-number">1<\/span> &lt; <span class="hljs-number">2<\/span>;\n<\/code>/);
  });

  it('shows raw HTML from the model as text, never as markup', () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)"> <script>alert(1)</script> <b>bold</b>');
    assert.doesNotMatch(html, /<img|<script|<b>/);
    assert.match(html, /&lt;script&gt;/);
  });

  it('drops dangerous links and images, and leaves no style attribute', () => {
    const html = renderMarkdown('[x](javascript:alert(1)) [y](data:text/html,hi) [z](https://example.com) ![i](https://example.com/t.png)\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n');
    assert.doesNotMatch(html, /href="javascript|href="data/);
    assert.match(html, /<a href="https:\/\/example.com" title="https:\/\/example.com">z<\/a>/);
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /style=/);
    assert.match(html, /class="align-center"/);
    assert.match(html, /class="align-right"/);
  });

  it('renders an unclosed fence while an answer streams', () => {
    const html = renderMarkdown('```python\nprint(1)\n');
    assert.match(html, /<code class="language-python"><span class="hljs-built_in">print<\/span>\(<span class="hljs-number">1<\/span>\)\n<\/code>/);
  });

  it('escapes a hostile fence language', () => {
    const html = renderMarkdown('```"><script>x</script>\ncode\n```');
    assert.doesNotMatch(html, /<script>/);
    assert.equal(escapeHtml('<a href="x">'), '&lt;a href=&quot;x&quot;&gt;');
  });

  it('summarizes a receipt in one line', () => {
    const summary = receiptSummary(receipt(4210, 100_000));
    assert.equal(summary, 'Context: 4,210 of 100,000 tokens (4%) · 2 parts · 1 left out');
    assert.equal(receiptSummary(receipt(1011, 1000), 2), 'Context: 1,011 of 1,000 tokens (101%) · 2 parts · 1 left out · 2 requests');
    assert.equal(seqRange(3, 3), '#3');
    assert.equal(seqRange(1, 9), '#1–9');
    assert.equal(seqRange(null, null), '—');
    assert.equal(windowText({ kind: 'sliding', tokens: 30000 }), 'sliding window, last 30,000 tokens');
  });
});

describe('receipt rows and tool calls in words', () => {
  it('names receipt rows by the turns a person sees, not event numbers', () => {
    // Questions at seq 10 (turn 1), 20 (turn 2) and 35 (turn 3); seq 5 is before any question.
    const starts = [10, 20, 35];
    const turnOf = (seq: number): number | undefined => {
      const before = starts.filter((start) => start <= seq).length;
      return before === 0 ? undefined : before;
    };
    assert.equal(turnRange(10, 19, turnOf), 'turn 1');
    assert.equal(turnRange(12, 40, turnOf), 'turns 1–3');
    assert.equal(turnRange(5, 8, turnOf), null);
    assert.equal(turnRange(null, null, turnOf), null, 'the system prompt has no turn');
  });

  it('leaves empty parts and exclusions out of the row count', () => {
    const empty = { ...receipt(100), parts: [...receipt(100).parts, { kind: 'turn', firstSeq: null, lastSeq: null, eventCount: 0, tokens: 0, reason: 'nothing' } as const], excluded: [{ eventCount: 0, firstSeq: 4, lastSeq: 4, tokens: 0, reason: 'empty' } as const] };
    assert.equal(receiptSummary(empty), 'Context: 100 of 1,000 tokens (10%) · 2 parts');
  });

  it('says what a tool call did, with the path it read', () => {
    assert.deepEqual(describeToolCall('read_file', { path: 'src/fizzbuzz.ts' }), { verb: 'Read', target: 'src/fizzbuzz.ts', isPath: true });
    assert.deepEqual(describeToolCall('list_files', {}), { verb: 'Listed files in', target: '.', isPath: false });
    assert.deepEqual(describeToolCall('search_text', { query: 'fizz' }), { verb: 'Searched for', target: '“fizz”', isPath: false });
    assert.deepEqual(describeToolCall('other', 'not an object'), { verb: 'Ran other', target: null, isPath: false });
  });
});

describe('compactions in the transcript', () => {
  const trail = { files: [], commands: [], errors: [], decisions: [], openQuestions: [] };
  const committed = (id: string, firstTurn: number, lastTurn: number, automatic: boolean) =>
    event('compaction.committed', { summary: 'S', range: { firstSeq: 2, lastSeq: 9, firstEventId: 'u1', lastEventId: 'a4', firstTurn, lastTurn }, tier: 'balanced', model: 'offline', promptVersion: null, sourceDigest: '0'.repeat(64), trail, sessionVersion: 9, sourceTokens: 41_200, summaryTokens: 1_840, ...(automatic ? { automatic: true } : {}) }, id);

  it('shows each committed compaction as its own row where it was committed, and an undo on that row', () => {
    seq = 0;
    const events = [
      event('session.started', { name: 'S' }),
      event('message.user', { text: 'one' }, 'u1'),
      event('message.assistant', { text: 'first' }, 'a1'),
      committed('c1', 1, 1, false),
      event('message.user', { text: 'two' }, 'u2'),
      event('message.assistant', { text: 'second' }, 'a2'),
      committed('c2', 1, 2, true),
      event('compaction.undone', { compactionId: 'c1' }),
      event('compaction.undone', { compactionId: 'not-loaded' }),
    ];
    const rows = toTranscript(events).filter((entry) => entry.kind === 'compaction');
    assert.deepEqual(rows, [
      { kind: 'compaction', eventId: 'c1', firstTurn: 1, lastTurn: 1, tier: 'balanced', model: 'offline', summaryTokens: 1_840, sourceTokens: 41_200, automatic: false, undone: true },
      { kind: 'compaction', eventId: 'c2', firstTurn: 1, lastTurn: 2, tier: 'balanced', model: 'offline', summaryTokens: 1_840, sourceTokens: 41_200, automatic: true, undone: false },
    ]);
    assert.deepEqual(toTranscript(events).map((entry) => entry.kind), ['user', 'assistant', 'compaction', 'user', 'assistant', 'compaction']);
  });

  it('says what replaces which turns, who compacted, and whether it is undone', () => {
    const base = { firstTurn: 12, lastTurn: 80, tier: 'balanced', model: 'offline', summaryTokens: 1_840, sourceTokens: 41_200 };
    assert.equal(compactionNote({ ...base, automatic: true, undone: false }), 'Compacted automatically: the context budget was filling up. Summary of turns 12–80, 1,840 tokens, replaces 41,200 (balanced, offline). The turns stay in the log.');
    assert.equal(compactionNote({ ...base, firstTurn: 80, automatic: false, undone: true }), 'Compacted. Summary of turn 80, 1,840 tokens, replaces 41,200 (balanced, offline). Undone: these turns go into requests as they were.');
  });
});

describe('imported Claude Code sessions in the transcript', () => {
  it('shows each request Claude Code recorded as that turn\'s receipt, and the time each line had in the source', () => {
    seq = 0;
    const events = [
      event('session.started', { name: 'Claude Code: fix it' }),
      event('message.user', { text: 'fix it', sourceTimeMs: 1_751_364_000_000 }, 'u1'),
      event('import.request', { requestRef: 'req-1', model: 'claude-sonnet-4-5', messageCount: 3, newMessageCount: 1, messageChars: 4000, systemChars: 800, toolCount: 17, estimatedTokens: 1200, complete: false, sourceTimeMs: 1_751_364_001_000 }, 'r1'),
      event('message.assistant', { text: 'Done.', sourceTimeMs: 1_751_364_002_000 }, 'a1'),
    ];
    const entries = toTranscript(events);
    assert.deepEqual(entries.map((entry) => entry.kind), ['user', 'importedRequest', 'assistant']);
    assert.deepEqual(entries[1], { kind: 'importedRequest', eventId: 'r1', requestRef: 'req-1', model: 'claude-sonnet-4-5', messageCount: 3, newMessageCount: 1, toolCount: 17, estimatedTokens: 1200, complete: false });
    assert.equal((entries[0] as { wallMs: number }).wallMs, 1_751_364_000_000, 'the source time, not the import time');
    assert.equal((entries[2] as { wallMs: number }).wallMs, 1_751_364_002_000);
    assert.equal(importedRequestSummary(entries[1] as Parameters<typeof importedRequestSummary>[0]), 'Request recorded by Claude Code: ~1,200 tokens estimated (not every message measured) · 3 messages (1 new) · 17 tools');
  });
});
