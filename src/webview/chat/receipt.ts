import type { ContextReceipt } from '../../core/context/contextTypes';
import { budgetUse, compactionSaving } from '../../shared/receiptNumbers';
import { h, icon } from './dom';
import { exclusionLabel, formatTokens, partLabel, receiptSummary, seqRange, shownExclusions, shownParts, turnRange, windowText } from './format';

// The context receipt under an answer: what went into each request of the question (one per
// model round when tools ran), collapsed to one line. Turn numbers are the ones the conversation
// shows; event numbers only where no turn names a row.

/** The turn (question number) an event of this session belongs to, by its seq. */
export type TurnLookup = (seq: number) => number | undefined;

export function renderReceipt(receipts: readonly ContextReceipt[], turnOf: TurnLookup): HTMLDetailsElement {
  const last = receipts[receipts.length - 1];
  if (!last) {
    throw new Error('a receipt needs at least one request');
  }
  const use = budgetUse(last);
  const body = h(
    'div',
    { class: 'receipt-body' },
    h('p', { class: 'receipt-meta' }, `Window: ${windowText(last.window)} · token counts ${last.tokenSource === 'api' ? 'exact (count_tokens)' : 'estimated offline'}${last.tokenSourceNote ? ` (${last.tokenSourceNote})` : ''}${last.promptVersion ? ` · prompt version ${last.promptVersion.version}` : ''}`),
  );
  receipts.forEach((receipt, index) => {
    if (receipts.length > 1) {
      const label = index === 0 ? 'the question' : `after tool round ${index}`;
      body.append(h('div', { class: 'receipt-section-label' }, `Request ${index + 1} of ${receipts.length} (${label})`));
    }
    body.append(...receiptTables(receipt, turnOf));
  });
  return h(
    'details',
    { class: `receipt${use.over ? ' over-budget' : use.warn ? ' near-budget' : ''}` },
    h('summary', {}, icon(use.over ? 'warning' : 'database'), h('span', { class: 'receipt-summary' }, receiptSummary(last, receipts.length))),
    body,
  );
}

function receiptTables(receipt: ContextReceipt, turnOf: TurnLookup): HTMLElement[] {
  const itemized = receipt.parts.reduce((sum, part) => sum + part.tokens, 0);
  const where = (first: number | null, last: number | null): string => {
    const turns = turnRange(first, last, turnOf);
    return turns ? capitalize(turns) : first === null ? '—' : `events ${seqRange(first, last)}`;
  };
  const rows = shownParts(receipt).map((part) =>
    h(
      'tr',
      // A stale fact was left out of the request: flag the row, not just its reason text.
      flagsStaleFacts(part) ? { class: 'flagged', title: 'A fact whose cited lines changed was left out of this request' } : {},
      h('td', { class: 'part' }, flagsStaleFacts(part) ? icon('warning') : null, h('span', {}, partLabel(part)), h('span', { class: 'reason' }, part.reason), compactionSaving(part) ? h('span', { class: 'reason saving' }, compactionSaving(part)) : null, part.kind === 'retrieved' ? retrievedChunks(part) : null),
      h('td', { class: 'seq' }, part.kind === 'system' ? '—' : where(part.firstSeq, part.lastSeq)),
      h('td', { class: 'num' }, formatTokens(part.tokens)),
    ),
  );
  const table = h(
    'table',
    { class: 'receipt-parts' },
    h('caption', {}, 'What went into the request'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Part'), h('th', { scope: 'col' }, 'Turn'), h('th', { scope: 'col', class: 'num' }, 'Tokens'))),
    h(
      'tbody',
      {},
      ...rows,
      // An exact count also has what no part names: the tool definitions and request framing.
      receipt.totalTokens > itemized
        ? h(
            'tr',
            { class: 'unitemized' },
            h('td', { class: 'part' }, h('span', {}, 'Not itemized'), h('span', { class: 'reason' }, 'tool definitions and request framing, in the exact count')),
            h('td', { class: 'seq' }, '—'),
            h('td', { class: 'num' }, formatTokens(receipt.totalTokens - itemized)),
          )
        : null,
    ),
    h(
      'tfoot',
      {},
      h('tr', {}, h('th', { scope: 'row', colspan: '2' }, 'Total'), h('td', { class: 'num' }, formatTokens(receipt.totalTokens))),
      h('tr', {}, h('th', { scope: 'row', colspan: '2' }, 'Budget'), h('td', { class: 'num' }, formatTokens(receipt.budgetTokens))),
    ),
  );
  const use = budgetUse(receipt);
  const over = use.over
    ? h('p', { class: 'receipt-over', role: 'note' }, icon('warning'), ` ${formatTokens(receipt.totalTokens - receipt.budgetTokens)} tokens over the budget: what always goes in (system prompt, your message, tool definitions) did not fit in it.`)
    : null;
  const exclusions = shownExclusions(receipt);
  const excluded =
    exclusions.length === 0
      ? h('p', { class: 'receipt-none-excluded' }, 'Nothing was left out.')
      : h(
          'div',
          {},
          h('div', { class: 'receipt-section-label' }, 'Left out'),
          h('ul', { class: 'receipt-excluded' }, ...exclusions.map((exclusion) => h('li', {}, `${where(exclusion.firstSeq, exclusion.lastSeq)}: ${formatTokens(exclusion.tokens)} tokens, ${exclusionLabel(exclusion)}`))),
        );
  return [table, ...(over ? [over] : []), excluded];
}

/** The chunks a retrieved part holds, each a link that opens its file at its lines. */
function retrievedChunks(part: ContextReceipt['parts'][number]): HTMLElement | null {
  const chunks = part.chunks ?? [];
  if (chunks.length === 0) {
    return null;
  }
  return h(
    'ul',
    { class: 'receipt-retrieved' },
    ...chunks.map((chunk) => {
      const label = `${chunk.path}:${chunk.startLine}-${chunk.endLine}`;
      return h('li', {}, h('a', { href: '#', class: 'file-link', 'data-action': 'open-file', 'data-path': chunk.path, 'data-line': String(chunk.startLine), title: `Open ${label} (verified at read time)` }, label), ` · ${formatTokens(chunk.tokens)} tokens`);
    }),
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function flagsStaleFacts(part: ContextReceipt['parts'][number]): boolean {
  return part.kind === 'facts' && /\(stale: /.test(part.reason);
}
