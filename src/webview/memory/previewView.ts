import type { MemoryPreview } from '../../shared/memoryPanelMessages';
import type { RawItem } from '../../shared/memoryPanelMessages';
import { h, icon } from '../chat/dom';
import { categoryNames, count } from './format';

// A compaction preview side by side: the raw turns of the range (with the identifiers, paths and
// numbers the summary dropped marked), and what replaces them: the summary, the exact artifact
// trail and the list of dropped details. Commit or Cancel; a stale commit shows why and offers
// the preview again.

export interface PreviewActions {
  commit(): void;
  cancel(): void;
  again(): void;
}

function rawText(item: RawItem): HTMLElement {
  const block = h('div', { class: `raw-item cat-${item.category}`, 'data-seq': String(item.seq) }, h('div', { class: 'raw-kind' }, `${categoryNames[item.category]} · event ${item.seq}`));
  const text = h('div', { class: 'raw-text' });
  let at = 0;
  for (const mark of item.highlights) {
    if (mark.start > at) {
      text.append(item.text.slice(at, mark.start));
    }
    text.append(h('mark', { class: `dropped dropped-${mark.kind}`, title: `dropped ${mark.kind}` }, item.text.slice(mark.start, mark.end)));
    at = mark.end;
  }
  text.append(item.text.slice(at));
  block.append(text);
  return block;
}

export function previewView(shown: MemoryPreview, actions: PreviewActions): HTMLElement {
  const { preview, comparison } = shown;
  const { body } = preview;
  const range = body.range.firstTurn === body.range.lastTurn ? `turn ${body.range.firstTurn}` : `turns ${body.range.firstTurn}–${body.range.lastTurn}`;
  const commit = h('button', { type: 'button', id: 'commit', class: 'primary' }, icon('check'), 'Commit');
  const cancel = h('button', { type: 'button', id: 'cancel' }, icon('close'), 'Cancel');
  commit.addEventListener('click', () => actions.commit());
  cancel.addEventListener('click', () => actions.cancel());
  const dropped =
    comparison.dropped.length === 0
      ? h('p', { class: 'none' }, 'The summary and the trail keep every identifier, path and number of these turns.')
      : h('ul', { class: 'dropped-list', 'aria-label': 'Dropped details' }, ...comparison.dropped.map((detail) => h('li', { class: `dropped dropped-${detail.kind}` }, h('code', {}, detail.text), ` ${detail.kind}${detail.occurrences > 1 ? ` ×${detail.occurrences}` : ''}`)));
  return h(
    'section',
    { class: 'preview', id: 'preview', 'aria-label': `Compaction preview of ${range}` },
    h(
      'header',
      { class: 'preview-head' },
      h('h2', {}, `Preview: compact ${range}`),
      h('p', { class: 'preview-numbers', id: 'preview-numbers' }, `${count(body.summaryTokens)} tokens in place of ${count(body.sourceTokens)} · ${body.tier} · ${body.model === 'offline' ? 'offline summary' : body.model} · keeps ${count(comparison.keptCount)} of ${count(comparison.detailCount)} details`),
      // Which compactor wrote it: the commit keeps exactly this summary.
      h('p', { class: 'preview-compactor', id: 'preview-compactor' }, body.model === 'offline' ? 'Written by the offline compactor (extractive: sentences kept verbatim).' : `Written by the model ${body.model}.`),
      preview.note ? h('p', { class: 'note' }, preview.note) : null,
      h('div', { class: 'actions' }, commit, cancel),
      h('p', { class: 'status', id: 'preview-status', role: 'status' }),
    ),
    h(
      'div',
      { class: 'side-by-side' },
      h('div', { class: 'raw', id: 'raw-turns', 'aria-label': 'Raw turns' }, h('h3', {}, `Raw turns (${count(preview.sourceEventCount)} events, ${count(body.sourceTokens)} tokens)`), ...comparison.raw.map(rawText)),
      h(
        'div',
        { class: 'replacement' },
        h('h3', {}, 'Summary'),
        h('pre', { class: 'summary', id: 'summary' }, body.summary),
        h('h3', {}, 'Artifact trail (exact, from the log)'),
        h('pre', { class: 'trail', id: 'trail' }, preview.trailText),
        h('h3', {}, `Dropped by the summary (${count(comparison.dropped.length)})`),
        dropped,
      ),
    ),
  );
}

/** Shows a refused commit in the preview: stale offers the preview again. */
export function showCommitProblem(section: HTMLElement, message: string, stale: boolean, again: () => void): void {
  const status = section.querySelector<HTMLElement>('#preview-status');
  if (!status) {
    return;
  }
  status.replaceChildren(h('span', { class: 'problem' }, icon('warning'), stale ? `Not committed: a turn arrived since this preview. ${message}` : `Not committed: ${message}`));
  if (stale) {
    const button = h('button', { type: 'button', id: 'preview-again' }, icon('refresh'), 'Preview again');
    button.addEventListener('click', again);
    status.append(button);
    section.querySelector<HTMLButtonElement>('#commit')?.setAttribute('disabled', '');
    button.focus();
  }
}
