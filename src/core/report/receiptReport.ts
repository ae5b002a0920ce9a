import type { ContextReceipt } from '../context/contextTypes';
import { describeWindow } from '../context/windows';

// A context receipt as text: what went into a request, why, and what the window or the budget
// left out. Shared by the CLI and the extension.
function seqs(first: number | null, last: number | null): string {
  if (first === null || last === null) {
    return '';
  }
  return first === last ? ` [seq ${first}]` : ` [seq ${first}–${last}]`;
}

export function receiptLines(receipt: ContextReceipt): string[] {
  const percent = receipt.budgetTokens > 0 ? Math.round((100 * receipt.totalTokens) / receipt.budgetTokens) : 0;
  const lines = [
    `context receipt for session ${receipt.sessionId}: ${receipt.totalTokens} of ${receipt.budgetTokens} tokens (${percent}%, ${receipt.tokenSource === 'api' ? 'counted by the API' : 'estimated'}${receipt.tokenSourceNote ? `: ${receipt.tokenSourceNote}` : ''}), ${describeWindow(receipt.window)}${receipt.promptVersion ? `, prompt version ${receipt.promptVersion.version} (${receipt.promptVersion.digest.slice(0, 12)})` : ''}`,
    'included:',
    ...receipt.parts.map((part) => `  ${String(part.tokens).padStart(7)}  ${part.kind}${seqs(part.firstSeq, part.lastSeq)}: ${part.reason}`),
  ];
  if (receipt.excluded.length > 0) {
    const total = receipt.excluded.reduce((sum, exclusion) => sum + exclusion.tokens, 0);
    lines.push(`left out (${total} tokens):`);
    lines.push(...receipt.excluded.map((exclusion) => `  ${String(exclusion.tokens).padStart(7)}  ${exclusion.reason}${seqs(exclusion.firstSeq, exclusion.lastSeq)}, ${exclusion.eventCount} ${exclusion.eventCount === 1 ? 'event' : 'events'}`));
  } else {
    lines.push('left out: nothing');
  }
  return lines;
}
