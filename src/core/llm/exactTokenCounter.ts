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

/**
 * The placeholder requests' counts, by model, endpoint and role. They never change for a model,
 * so one engine counts them once, not once per turn (a turn would otherwise spend two of its
 * count_tokens calls on them). A failed count is dropped so the next turn asks again.
 */
export class ExactCountBaselines {
  private readonly counts = new Map<string, Promise<number>>();

  get(client: AnthropicChatClient, role: 'user' | 'assistant', count: () => Promise<number>): Promise<number> {
    const key = `${client.baseUrl ?? ''}\u0000${client.model}\u0000${role}`;
    let baseline = this.counts.get(key);
    if (!baseline) {
      baseline = count();
      this.counts.set(key, baseline);
      baseline.catch(() => this.counts.delete(key));
    }
    return baseline;
  }
}

export class ApiExactTokenCounter implements ExactTokenCounter {
  constructor(
    private readonly client: AnthropicChatClient,
    private readonly baselines: ExactCountBaselines = new ExactCountBaselines(),
  ) {}

  async countBlocks(role: 'user' | 'assistant', blocks: readonly ContentBlock[], signal?: AbortSignal): Promise<number> {
    if (blocks.some((block) => block.type !== 'text')) {
      throw new Error('only text blocks are counted exactly');
    }
    const messages = role === 'user' ? [{ role: 'user' as const, content: blocks }] : [{ role: 'user' as const, content: [placeholder] }, { role: 'assistant' as const, content: blocks }];
    const withBlocks = await this.client.countTokens({ system: '', messages }, signal ? { signal } : {});
    const baseline = await this.baselines.get(this.client, role, () => this.countPlaceholder(role, signal));
    return Math.max(0, withBlocks.inputTokens - baseline + placeholderTokens);
  }

  private async countPlaceholder(role: 'user' | 'assistant', signal?: AbortSignal): Promise<number> {
    const messages = role === 'user' ? [{ role: 'user' as const, content: [placeholder] }] : [{ role: 'user' as const, content: [placeholder] }, { role: 'assistant' as const, content: [placeholder] }];
    return (await this.client.countTokens({ system: '', messages }, signal ? { signal } : {})).inputTokens;
  }
}
