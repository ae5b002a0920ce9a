import type { ContextReceipt, ReceiptExclusion, ReceiptPart, WindowSpec } from '../../core/context/contextTypes';

// Words and numbers the chat panel shows. No DOM here (unit-tested in Node).

export function formatTokens(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

export function budgetPercent(receipt: Pick<ContextReceipt, 'totalTokens' | 'budgetTokens'>): number {
  return receipt.budgetTokens > 0 ? Math.round((receipt.totalTokens / receipt.budgetTokens) * 100) : 100;
}

/** The one line a collapsed receipt shows. */
export function receiptSummary(receipt: ContextReceipt): string {
  const left = receipt.excluded.length > 0 ? ` · ${receipt.excluded.length} left out` : '';
  return `Context: ${formatTokens(receipt.totalTokens)} of ${formatTokens(receipt.budgetTokens)} tokens (${budgetPercent(receipt)}%) · ${receipt.parts.length} ${receipt.parts.length === 1 ? 'part' : 'parts'}${left}`;
}

const partLabels: Record<ReceiptPart['kind'], string> = {
  system: 'System prompt',
  turn: 'Turn',
  pinned: 'Pinned turn',
  'tool-exchange': 'Tool exchange',
  prompt: 'Your message',
};

export function partLabel(part: ReceiptPart): string {
  return partLabels[part.kind] ?? part.kind;
}

// Keyed by string: an engine newer than this panel may name a reason it does not know yet.
const exclusionLabels: Readonly<Record<string, string>> = {
  'outside-window': 'outside the window',
  'over-budget': 'over the budget',
  'before-topic-boundary': 'before a topic boundary',
  'no-user-turn': 'before the first message',
  'tool-result-pending': 'tool result still pending',
  'unanswered-tool-use': 'tool call never answered',
  'orphan-tool-result': 'tool result without its call',
  'duplicate-tool-use': 'repeated tool call',
  empty: 'empty message',
  superseded: 'cut answer replaced by a retry',
};

export function exclusionLabel(exclusion: Pick<ReceiptExclusion, 'reason'>): string {
  return Object.prototype.hasOwnProperty.call(exclusionLabels, exclusion.reason) ? (exclusionLabels[exclusion.reason] ?? exclusion.reason) : exclusion.reason;
}

export function seqRange(first: number | null, last: number | null): string {
  if (first === null || last === null) {
    return '—';
  }
  return first === last ? `#${first}` : `#${first}–${last}`;
}

export function windowText(window: WindowSpec): string {
  switch (window.kind) {
    case 'full':
      return 'full buffer';
    case 'sliding':
      return `sliding window, last ${[window.turns !== undefined ? `${window.turns} turns` : null, window.tokens !== undefined ? `${formatTokens(window.tokens)} tokens` : null]
        .filter((part) => part !== null)
        .join(' or ')}`;
    case 'tumbling':
      return `tumbling window, blocks of ${window.blockTurns} turns`;
    case 'session':
      return `session window, split after ${window.idleGapMinutes} min idle${window.detectShift ? ' or a topic shift' : ''}`;
    default:
      return 'unknown window';
  }
}

export function sessionLabel(session: { readonly name: string; readonly turnCount: number }): string {
  return `${session.name} (${session.turnCount} ${session.turnCount === 1 ? 'turn' : 'turns'})`;
}
