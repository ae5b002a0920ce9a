import type { ContextReceipt, ReceiptPart } from '../core/context/contextTypes';

// How full a context budget was, in the one set of words and numbers every view uses: the status
// bar gauge, the receipt under an answer, the CLI. Pure (the webview bundles it too).

export function formatTokens(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

export interface BudgetUse {
  readonly percent: number;
  /** "42%", or "<1%" for a few tokens of a large budget ("0%" would read as empty). */
  readonly label: string;
  /** Past the warning line (80 %). */
  readonly warn: boolean;
  /** Past the budget itself. */
  readonly over: boolean;
}

export function budgetUse(receipt: Pick<ContextReceipt, 'totalTokens' | 'budgetTokens'>, warnAbove = 0.8): BudgetUse {
  const fraction = receipt.budgetTokens > 0 ? receipt.totalTokens / receipt.budgetTokens : 1;
  const percent = Math.round(fraction * 100);
  return { percent, label: percent === 0 && receipt.totalTokens > 0 ? '<1%' : `${percent}%`, warn: fraction > warnAbove, over: fraction > 1 };
}

/** "1,011 of 1,000 tokens (101%)". */
export function budgetNumbers(receipt: Pick<ContextReceipt, 'totalTokens' | 'budgetTokens'>): string {
  return `${formatTokens(receipt.totalTokens)} of ${formatTokens(receipt.budgetTokens)} tokens (${budgetUse(receipt).label})`;
}

/** A compaction part's saving: "saves 39,360 of 41,200 tokens" (null for other parts). */
export function compactionSaving(part: Pick<ReceiptPart, 'kind' | 'tokens' | 'replacesTokens'>): string | null {
  if (part.kind !== 'compaction' || part.replacesTokens === undefined) {
    return null;
  }
  return `saves ${formatTokens(Math.max(0, part.replacesTokens - part.tokens))} of ${formatTokens(part.replacesTokens)} tokens`;
}
