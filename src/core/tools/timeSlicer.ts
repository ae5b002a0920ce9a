import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Long tool work (a walk, a search) runs on the engine's one thread; this gives the event loop
 * a turn every `sliceMs` of work, so LSP requests, cancels and other chats are answered while
 * it runs.
 */
export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = 8) {}

  async maybeYield(): Promise<void> {
    if (performance.now() - this.sliceStart >= this.sliceMs) {
      await nextTurn();
      this.sliceStart = performance.now();
    }
  }
}
