import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedTokenCounter } from '../../src/core/context/tokenCounts';
import { createAnthropicClient } from '../../src/core/llm/anthropicClient';
import { ApiExactTokenCounter, ExactCountBaselines } from '../../src/core/llm/exactTokenCounter';
import { countTextTokens } from '../fixtures/messagesApiRules';
import { useMessagesApiServer } from '../fixtures/messagesApiSuite';

describe('exact per-event token counts from count_tokens', () => {
  const server = useMessagesApiServer();

  it('counts text blocks exactly and fills the per-event cache, leaving tool blocks estimated', async () => {
    const client = createAnthropicClient({ apiKey: 'test-key', baseUrl: server().baseUrl, model: 'claude-test', maxTokens: 100, timeoutMs: 5000, logLevel: 'off' });
    const exact = new ApiExactTokenCounter(client);
    const text = 'Keep UTC inside, convert at the edges: 2026-11-26T10:00Z.';
    assert.equal(await exact.countBlocks('user', [{ type: 'text', text }]), countTextTokens(text));
    assert.equal(await exact.countBlocks('assistant', [{ type: 'text', text }]), countTextTokens(text));

    const cache = new CachedTokenCounter();
    const filled = await cache.fillExact(
      [
        { key: 'e1', role: 'user', blocks: [{ type: 'text', text: 'one two three' }] },
        { key: 'e2', role: 'assistant', blocks: [{ type: 'text', text: 'four' }] },
      ],
      exact,
    );
    assert.equal(filled, 2);
    assert.deepEqual(cache.cached('e1'), { tokens: countTextTokens('one two three'), source: 'api' });
    await assert.rejects(exact.countBlocks('user', [{ type: 'tool_result', tool_use_id: 't', content: 'x' }]), /only text/);
    assert.ok(server().requests.every((request) => request.path === '/v1/messages/count_tokens'));
  });

  it('counts the placeholder baselines once per engine, not once per turn', async () => {
    server().reset();
    const baselines = new ExactCountBaselines();
    const client = () => createAnthropicClient({ apiKey: 'test-key', baseUrl: server().baseUrl, model: 'claude-test', maxTokens: 100, timeoutMs: 5000, maxRetries: 0, logLevel: 'off' });
    const countCalls = () => server().requests.filter((request) => request.path === '/v1/messages/count_tokens').length;
    // Turn 1 and turn 2 each make a counter of their own (as the engine does), sharing the baselines.
    await new ApiExactTokenCounter(client(), baselines).countBlocks('user', [{ type: 'text', text: 'first turn' }]);
    assert.equal(countCalls(), 2, 'the text and the baseline');
    await new ApiExactTokenCounter(client(), baselines).countBlocks('user', [{ type: 'text', text: 'second turn' }]);
    assert.equal(countCalls(), 3, 'the second turn counted only its text');
  });
});
