// The Anthropic client as the chat turn's ModelPort (src/core/chat/chatTurn.ts), so the engine
// wires the model with one call and the port's shape is checked against the client here.
import type { ModelPort } from '../chat/chatTurn';
import { createAnthropicClient } from './anthropicClient';
import type { ModelClientConfig } from './modelTypes';

/**
 * How long the exact count of a request may take before the turn goes on with the estimate. It
 * is a refinement: no SDK retries either, since a 429 with retry-after would hold the answer.
 */
export const exactCountDeadlineMs = 2500;

/** A ModelPort on a new client; its failures classify with classifyChatError. */
export function createModelPort(config: ModelClientConfig & { readonly countDeadlineMs?: number }): ModelPort {
  const client = createAnthropicClient(config);
  const countDeadlineMs = config.countDeadlineMs ?? exactCountDeadlineMs;
  return {
    streamTurn: (request, options) => client.streamTurn(request, options),
    countTokens: async (request, tools, signal) => (await client.countTokens(request, { tools, signal, timeoutMs: countDeadlineMs, maxRetries: 0 })).inputTokens,
  };
}
