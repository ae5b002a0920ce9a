import type { ContentBlock } from '../context/contextTypes';
import type { ExactTokenCounter } from '../context/tokenCounts';
import type { AnthropicChatClient } from './anthropicClient';

// Exact per-event token counts from count_tokens, for the per-event cache of context assembly.
// count_tokens takes whole requests, so an event's blocks are counted as the difference between
// a minimal request holding them and the same request with a one-character message instead.
// Only text is counted this way: tool blocks cannot stand alone in a valid request (a tool_result
// needs its tool_use before it), so they keep their estimates.
const placeholder: ContentBlock = { type: 'text', text: '.' };
/** A lone "." is one token to Claude's tokenizers; the difference leaves it out, so add it back. */
const placeholderTokens = 1;

export class ApiExactTokenCounter implements ExactTokenCounter {
  private readonly baselines = new Map<'user' | 'assistant', Promise<number>>();

  constructor(private readonly client: AnthropicChatClient) {}

  async countBlocks(role: 'user' | 'assistant', blocks: readonly ContentBlock[], signal?: AbortSignal): Promise<number> {
    if (blocks.some((block) => block.type !== 'text')) {
      throw new Error('only text blocks are counted exactly');
    }
    const messages = role === 'user' ? [{ role: 'user' as const, content: blocks }] : [{ role: 'user' as const, content: [placeholder] }, { role: 'assistant' as const, content: blocks }];
    const withBlocks = await this.client.countTokens({ system: '', messages }, signal ? { signal } : {});
    let baseline = this.baselines.get(role);
    if (!baseline) {
      baseline = this.countPlaceholder(role, signal);
      this.baselines.set(role, baseline);
      baseline.catch(() => this.baselines.delete(role));
    }
    return Math.max(0, withBlocks.inputTokens - (await baseline) + placeholderTokens);
  }

  private async countPlaceholder(role: 'user' | 'assistant', signal?: AbortSignal): Promise<number> {
    const messages = role === 'user' ? [{ role: 'user' as const, content: [placeholder] }] : [{ role: 'user' as const, content: [placeholder] }, { role: 'assistant' as const, content: [placeholder] }];
    return (await this.client.countTokens({ system: '', messages }, signal ? { signal } : {})).inputTokens;
  }
}
