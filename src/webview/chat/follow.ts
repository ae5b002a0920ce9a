import { h, icon } from './dom';

// Following the answer: while the reader is at the bottom of the conversation, new content keeps
// them there; once they scroll up, it stays put and a "Jump to latest" button appears instead.
// The reader's position is judged on their own scrolls, not after content grew (content that
// arrives pushes the end away, which must not count as scrolling away from it).

const nearBottomPx = 48;

export class FollowScroll {
  private following = true;
  /** Where our own last scroll put the top: a scroll event there is ours, not the reader's. */
  private ownTop = -1;
  readonly jumpButton = h(
    'button',
    { type: 'button', id: 'jump-to-latest', class: 'jump-to-latest', hidden: true, title: 'Jump to the latest message (End)', 'aria-label': 'Jump to the latest message' },
    icon('arrow-down'),
    h('span', {}, 'Jump to latest'),
  );

  constructor(private readonly scroller: HTMLElement) {
    scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.jumpButton.addEventListener('click', () => this.jumpToLatest());
    // Content that grows or shrinks (an answer streaming, a receipt expanded) keeps the reader at
    // the end if they were there.
    new ResizeObserver(() => this.contentChanged()).observe(scroller);
    new MutationObserver(() => this.contentChanged()).observe(scroller, { childList: true, subtree: true, characterData: true });
  }

  get isFollowing(): boolean {
    return this.following;
  }

  /** Call after adding content; `force` (the reader's own message, a session opened) re-follows. */
  contentChanged(force = false): void {
    if (force) {
      this.following = true;
    } else if (this.following && this.readerMovedUp()) {
      // The reader scrolled up and content arrived before their scroll event did: following
      // now would undo their scroll and then take its event for ours.
      this.following = false;
    }
    if (this.following) {
      this.toEnd();
    }
    this.updateButton();
  }

  jumpToLatest(): void {
    this.following = true;
    this.toEnd();
    this.updateButton();
  }

  private toEnd(): void {
    const target = this.scroller.scrollHeight - this.scroller.clientHeight;
    if (Math.abs(this.scroller.scrollTop - target) > 1) {
      this.scroller.scrollTop = target;
      this.ownTop = this.scroller.scrollTop;
    }
  }

  /** The top is above where our own last scroll left it, and not only because content shrank. */
  private readerMovedUp(): boolean {
    return this.ownTop >= 0 && this.scroller.scrollTop < this.ownTop - 2 && this.distanceFromEnd() >= nearBottomPx;
  }

  private distanceFromEnd(): number {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight;
  }

  private onScroll(): void {
    if (this.following && Math.abs(this.scroller.scrollTop - this.ownTop) <= 2 && !this.readerMovedUp()) {
      this.updateButton();
      return;
    }
    this.following = this.distanceFromEnd() < nearBottomPx;
    this.updateButton();
  }

  private updateButton(): void {
    this.jumpButton.hidden = this.following || this.distanceFromEnd() < nearBottomPx;
  }
}
