import type { ContextReceipt, MessagesRequest } from '../context/contextTypes';
import { modelToolDefinitions } from '../tools/modelTools';
import type { AssembleOptions, ChatTurnDependencies, ChatTurnParams } from './chatTurn';

// The exact count is a refinement of the offline estimate, never a gate: count_tokens gets a
// short deadline and no retries of its own (ModelPort.countTokens), and when it is slow,
// throttled or failing the turn goes on with the estimate and the receipt says why. One failure
// is enough for the whole turn: later rounds do not ask again.

const maxRecountAttempts = 2;

export interface ExactCountState {
  /** Why exact counts are not used for the rest of this turn (null while they work). */
  unavailable: string | null;
}

/**
 * Assembles with estimated counts, then checks the exact count (count_tokens) and shrinks the
 * budget if the estimate was low, so "prompt is too long" never comes from our own assembly.
 */
export async function assembleWithinBudget(
  deps: ChatTurnDependencies,
  params: ChatTurnParams,
  signal: AbortSignal,
  state: ExactCountState,
): Promise<{ request: MessagesRequest; receipt: ContextReceipt }> {
  await deps.assemble.warmUp?.(params.sessionId);
  const options: AssembleOptions = { window: params.settings.window, budgetTokens: params.settings.budgetTokens, systemPrompt: params.settings.systemPrompt, nowMs: Date.now() };
  let assembled = deps.assemble.assemble(params.sessionId, options);
  const model = deps.model;
  if (!model.countTokens) {
    return assembled;
  }
  const estimated = (): { request: MessagesRequest; receipt: ContextReceipt } => ({
    request: assembled.request,
    // The receipt states the user's budget, not a smaller one a re-assembly aimed at: one set of numbers everywhere.
    receipt: { ...assembled.receipt, budgetTokens: options.budgetTokens, tokenSourceNote: state.unavailable ?? 'no exact count' },
  });
  if (state.unavailable !== null) {
    return estimated();
  }
  let budget = options.budgetTokens;
  for (let attempt = 0; attempt <= maxRecountAttempts; attempt++) {
    let exact: number;
    try {
      exact = await model.countTokens(assembled.request, modelToolDefinitions, signal);
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      const info = deps.classifyError(error, '');
      state.unavailable = `count_tokens failed (${info.kind}${info.status !== null ? `, HTTP ${info.status}` : ''}${info.requestId ? `, request ${info.requestId}` : ''}): offline estimates used`;
      deps.log?.(`${state.unavailable}: ${info.message}`);
      return estimated();
    }
    if (exact <= options.budgetTokens || attempt === maxRecountAttempts) {
      return { request: assembled.request, receipt: { ...assembled.receipt, budgetTokens: options.budgetTokens, totalTokens: exact, tokenSource: 'api' } };
    }
    budget = Math.floor((budget * options.budgetTokens) / exact) - 1;
    assembled = deps.assemble.assemble(params.sessionId, { ...options, budgetTokens: budget });
  }
  return assembled;
}
