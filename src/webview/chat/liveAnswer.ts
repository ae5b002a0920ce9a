import type { ChatProgress } from '../../shared/chatProtocol';
import { renderMarkdown } from './markdown';
import type { AnswerCard, TextRound, TranscriptView } from './transcriptView';

/**
 * The answer being streamed into its card: one text block per model round, tool calls between
 * them, the receipt of each request. Markdown is re-rendered at most once a frame.
 */
export class LiveAnswer {
  readonly card: AnswerCard;
  private round: TextRound | null = null;
  private renderScheduled = false;

  constructor(
    readonly requestId: string,
    readonly text: string,
    private readonly transcript: TranscriptView,
    private readonly rendered: () => void,
  ) {
    this.card = transcript.openCard(null);
    this.card.element.classList.add('streaming');
  }

  progress(progress: ChatProgress): void {
    this.card.element.classList.remove('waiting');
    switch (progress.type) {
      case 'receipt':
        // Each model round has its own request; the card's one receipt lists them all. After the
        // first round the question is in the log: its part names where this turn starts.
        for (const part of progress.receipt.parts) {
          if (part.kind === 'prompt' && part.firstSeq !== null) {
            this.transcript.noteCurrentTurnStart(part.firstSeq);
          }
        }
        this.card.addReceipt(progress.receipt);
        return;
      case 'text': {
        const round = this.round ?? (this.round = this.card.startText());
        round.text += progress.delta;
        this.scheduleRender();
        return;
      }
      case 'toolUse':
        this.flush();
        this.card.addToolCall(progress.toolUseId, progress.name, progress.input);
        // Text after a tool call is the next round's.
        this.round = null;
        return;
      case 'toolResult':
        this.card.addToolResult(progress.toolUseId, progress.content, progress.isError);
        return;
    }
  }

  /** Renders what arrived now (before a tool call, at the end). */
  flush(): void {
    if (this.round) {
      this.round.body.innerHTML = renderMarkdown(this.round.text);
    }
  }

  private scheduleRender(): void {
    if (this.renderScheduled) {
      return;
    }
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.flush();
      this.rendered();
    });
  }
}
