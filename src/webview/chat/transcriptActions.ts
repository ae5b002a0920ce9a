import type { PanelCommand, WebviewMessage } from '../../shared/chatPanelMessages';
import type { Composer } from './composer';
import { newRequestId } from './dom';

// The buttons and links inside the conversation and the banner (`data-action`: copy or insert a
// code block, open a file, retry, undo a compaction, set the key…), handled by one delegated
// click listener. Apart from main.ts, which renders them and owns the send they may start.

/** What an action needs of the chat. */
export interface ActionTarget {
  readonly composer: Composer;
  /** Posts a request; `onReply` gets the extension's `reply` to it. */
  request(message: WebviewMessage & { readonly requestId: string }, onReply?: (ok: boolean, text: string | null) => void): void;
  /** The session shown (null: a new chat). */
  sessionId(): string | null;
  /** The question a failed request asked, if it can be retried now (no answer streaming). */
  retryText(requestId: string): string | null;
  retry(text: string, requestId: string | undefined): void;
  runCommand(command: PanelCommand): void;
}

export function onActionClick(chat: ActionTarget, event: MouseEvent): void {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-action]') : null;
  if (!target) {
    return;
  }
  switch (target.dataset.action) {
    case 'copy-code':
    case 'insert-code': {
      const code = target.closest('.code-block')?.querySelector('code')?.textContent ?? '';
      const type = target.dataset.action === 'copy-code' ? 'copyCode' : 'insertCode';
      chat.request({ type, requestId: newRequestId(), code }, (ok, message) => flashButton(chat.composer, target, ok, message));
      return;
    }
    case 'open-file':
      event.preventDefault();
      chat.request({ type: 'openFile', requestId: newRequestId(), path: target.dataset.path ?? '', ...(target.dataset.line ? { line: Number(target.dataset.line) } : {}) }, (ok, message) => {
        if (!ok && message) {
          chat.composer.showNotice(message, true);
        }
      });
      return;
    case 'focus-composer':
      event.preventDefault();
      chat.composer.focus();
      return;
    case 'retry': {
      const text = chat.retryText(target.dataset.requestId ?? '');
      if (text !== null) {
        target.closest('.error-box')?.classList.add('retried');
        chat.retry(text, target.dataset.requestId);
      }
      return;
    }
    case 'undo-compaction': {
      const sessionId = chat.sessionId();
      const compactionId = target.dataset.compactionId ?? '';
      if (sessionId === null || compactionId === '' || target.hasAttribute('disabled')) {
        return;
      }
      target.setAttribute('disabled', '');
      // The extension re-reads the transcript after the undo; the row then says it is undone.
      chat.request({ type: 'undoCompaction', requestId: newRequestId(), sessionId, compactionId }, (ok, message) => {
        target.removeAttribute('disabled');
        if (message) {
          chat.composer.showNotice(message, !ok);
        }
      });
      return;
    }
    case 'set-api-key':
      chat.runCommand('setApiKey');
      return;
    case 'open-settings':
      chat.runCommand('openSettings');
      return;
  }
}

function flashButton(composer: Composer, button: HTMLElement, ok: boolean, message: string | null): void {
  const label = button.querySelector('.label');
  if (!label) {
    return;
  }
  const before = label.textContent;
  label.textContent = ok ? (message ?? 'Done') : 'Failed';
  button.classList.toggle('failed', !ok);
  if (!ok && message) {
    composer.showNotice(message, true);
  }
  window.setTimeout(() => {
    label.textContent = before;
    button.classList.remove('failed');
  }, 1500);
}
