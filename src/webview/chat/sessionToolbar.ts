import type { SessionItem } from '../../shared/chatPanelMessages';
import { h, icon } from './dom';
import { sessionLabel } from './format';

// The toolbar above the conversation: the session picker and the New chat, Rename and New topic
// buttons. Apart from main.ts, which owns the state they show and the messages they cause.

export interface ToolbarEvents {
  /** A session was picked (null: a new chat). */
  select(sessionId: string | null): void;
  rename(): void;
  newTopic(): void;
}

const newChatValue = '\u0000new';

export class SessionToolbar {
  private readonly picker = h('select', { id: 'session-picker', 'aria-label': 'Session', title: 'Session' });
  private readonly newChatButton: HTMLButtonElement;
  private readonly renameButton: HTMLButtonElement;
  private readonly topicButton: HTMLButtonElement;
  readonly element: HTMLElement;

  constructor(events: ToolbarEvents) {
    this.newChatButton = toolbarButton('add', 'New chat', () => events.select(null));
    this.renameButton = toolbarButton('edit', 'Rename session', () => events.rename());
    this.topicButton = toolbarButton('milestone', 'New topic (session windows start afresh here)', () => events.newTopic());
    this.element = h('header', { class: 'toolbar' }, this.picker, this.newChatButton, this.renameButton, this.topicButton);
    this.picker.addEventListener('change', () => events.select(this.picker.value === newChatValue ? null : this.picker.value));
  }

  /** The picker's options: New chat, the sessions, and `current` marked as chosen. */
  renderSessions(sessions: readonly SessionItem[], current: string | null): void {
    const options = [h('option', { value: newChatValue }, 'New chat'), ...sessions.map((session) => h('option', { value: session.id }, sessionLabel(session)))];
    this.picker.replaceChildren(...options);
    if (current !== null && !sessions.some((session) => session.id === current)) {
      // A session just created by this panel, before the list caught up.
      this.picker.append(h('option', { value: current }, 'This chat'));
    }
    this.picker.value = current ?? newChatValue;
  }

  /** Rename needs a session; New topic also needs no answer streaming. */
  updateControls(hasSession: boolean, streaming: boolean): void {
    this.renameButton.disabled = !hasSession;
    this.topicButton.disabled = !hasSession || streaming;
  }
}

function toolbarButton(iconName: string, label: string, run: () => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'icon-button', 'aria-label': label, title: label }, icon(iconName));
  button.addEventListener('click', run);
  return button;
}
