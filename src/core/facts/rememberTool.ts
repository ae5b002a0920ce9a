import type { ToolDefinition, ToolOutcome } from '../tools/modelTools';
import type { FactsStore } from './factsStore';

// The model's `remember` tool. It never writes a fact: it files a proposal that waits in the
// Facts view until the user confirms or rejects it. Whatever a file or a tool result told the
// model to remember, the most it can cause is a proposal the user sees.

export const rememberToolDefinition: ToolDefinition = {
  name: 'remember',
  description:
    'Propose a durable fact about this workspace (e.g. key "build.command", value "npm run build"). It is NOT stored until the user confirms it in the Facts view; say so to the user. Propose only what the user asked you to remember or stated themselves.',
  input_schema: {
    type: 'object',
    properties: {
      key: { type: 'string', description: 'A dotted key, e.g. "build.command", "test.command", "style.indent"' },
      value: { type: 'string' },
      reason: { type: 'string', description: 'Why this is worth remembering' },
    },
    required: ['key', 'value'],
  },
};

export interface RememberContext {
  readonly sessionId: string;
  readonly toolUseId: string;
  readonly promptVersion: string | null;
}

export async function runRememberTool(store: FactsStore, input: unknown, context: RememberContext): Promise<ToolOutcome> {
  const args = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  if (typeof args.key !== 'string' || typeof args.value !== 'string') {
    return { content: '"key" and "value" must be strings.', isError: true };
  }
  try {
    const proposal = await store.propose({
      key: args.key,
      value: args.value,
      trust: 'model-proposed',
      provenance: { sessionId: context.sessionId, eventId: context.toolUseId },
      promptVersion: context.promptVersion,
      ...(typeof args.reason === 'string' ? { reason: args.reason } : {}),
    });
    return { content: `Proposed ${proposal.key} (proposal ${proposal.proposalId}). It is not stored: it waits for the user to confirm or reject it in the Facts view.`, isError: false };
  } catch (error) {
    return { content: `Not proposed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  }
}
