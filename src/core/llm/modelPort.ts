// The Anthropic client as the chat turn's ModelPort (src/core/chat/chatTurn.ts), so the engine
// wires the model with one call and the port's shape is checked against the client here.
import type { ModelPort } from '../chat/chatTurn';
import { createAnthropicClient } from './anthropicClient';
import type { ModelClientConfig } from './modelTypes';

/** A ModelPort on a new client; its failures classify with classifyChatError. */
export function createModelPort(config: ModelClientConfig): ModelPort {
  const client = createAnthropicClient(config);
  return {
    streamTurn: (request, options) => client.streamTurn(request, options),
    countTokens: async (request, tools, signal) => (await client.countTokens(request, { tools, signal })).inputTokens,
  };
}
