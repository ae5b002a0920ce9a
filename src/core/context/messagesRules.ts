import type { MessagesRequest } from './contextTypes';
import type { TokenCounter } from './tokenCounts';
import { messageOverheadTokens, requestOverheadTokens } from './tokenEstimator';

// The Messages API's rules for a conversation, checked before a request leaves the engine (and
// by the property tests): what the API would answer with a 400 "invalid_request_error".

/** Every rule `request` breaks, in words; empty when the API would accept its shape. */
export function checkMessagesRequest(request: MessagesRequest): string[] {
  const violations: string[] = [];
  const { messages } = request;
  if (typeof request.system !== 'string') {
    violations.push('system must be a string');
  }
  if (messages.length === 0) {
    violations.push('messages is empty');
    return violations;
  }
  if (messages[0]!.role !== 'user') {
    violations.push(`the first message is from "${messages[0]!.role}", not "user"`);
  }
  const seenToolUses = new Set<string>();
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const at = `message ${i} (${message.role})`;
    if (message.role !== 'user' && message.role !== 'assistant') {
      violations.push(`${at}: unknown role`);
      continue;
    }
    if (i > 0 && messages[i - 1]!.role === message.role) {
      violations.push(`${at}: follows another "${message.role}" message (roles must alternate)`);
    }
    if (message.content.length === 0) {
      violations.push(`${at}: empty content`);
    }
    let textSeen = false;
    for (const block of message.content) {
      switch (block.type) {
        case 'text':
          if (block.text.trim().length === 0) {
            violations.push(`${at}: a text block is empty or only whitespace`);
          }
          textSeen = true;
          break;
        case 'tool_use':
          if (message.role !== 'assistant') {
            violations.push(`${at}: tool_use ${block.id} in a user message`);
          }
          if (seenToolUses.has(block.id)) {
            violations.push(`${at}: duplicate tool_use id ${block.id}`);
          }
          seenToolUses.add(block.id);
          break;
        case 'tool_result': {
          if (message.role !== 'user') {
            violations.push(`${at}: tool_result for ${block.tool_use_id} in an assistant message`);
          }
          if (textSeen) {
            violations.push(`${at}: tool_result for ${block.tool_use_id} after text (tool_result blocks must come first)`);
          }
          const previous = messages[i - 1];
          const answered = previous?.role === 'assistant' && previous.content.some((earlier) => earlier.type === 'tool_use' && earlier.id === block.tool_use_id);
          if (!answered) {
            violations.push(`${at}: tool_result for ${block.tool_use_id} without a tool_use of that id in the message before`);
          }
          break;
        }
        default:
          violations.push(`${at}: unknown block type`);
      }
    }
    if (message.role === 'assistant') {
      const next = messages[i + 1];
      for (const block of message.content) {
        if (block.type !== 'tool_use') {
          continue;
        }
        const result = next?.role === 'user' && next.content.some((later) => later.type === 'tool_result' && later.tool_use_id === block.id);
        if (!result) {
          violations.push(`${at}: tool_use ${block.id} has no tool_result in the next user message`);
        }
      }
    }
  }
  const last = messages.at(-1)!;
  const lastBlock = last.content.at(-1);
  if (last.role === 'assistant' && lastBlock?.type === 'text' && lastBlock.text !== lastBlock.text.trimEnd()) {
    violations.push('the final assistant message ends in whitespace');
  }
  return violations;
}

/** The tokens of a whole request by `counter`, framing included (upper bound of what assembly charged). */
export function countRequestTokens(request: MessagesRequest, counter: TokenCounter): number {
  let total = requestOverheadTokens + (request.system.length > 0 ? counter.count([{ type: 'text', text: request.system }]).tokens : 0);
  for (const message of request.messages) {
    total += messageOverheadTokens + counter.count(message.content).tokens;
  }
  return total;
}
