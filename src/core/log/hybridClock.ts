// Hybrid logical clock (Kulkarni et al., 2014): a wall-clock millisecond plus a counter, so
// stamps follow causality across writers even when their clocks disagree. A stamp is written
// as fixed-width text, so comparing two stamps as strings compares them as clocks.
export interface HlcStamp {
  readonly wallMs: number;
  readonly counter: number;
}

export function formatHlc(stamp: HlcStamp): string {
  return `${stamp.wallMs.toString().padStart(15, '0')}.${stamp.counter.toString().padStart(5, '0')}`;
}

const hlcPattern = /^(\d{15})\.(\d{5})$/;

export function parseHlc(text: string): HlcStamp | undefined {
  const match = hlcPattern.exec(text);
  return match ? { wallMs: Number(match[1]), counter: Number(match[2]) } : undefined;
}

export class HybridClock {
  private wallMs = 0;
  private counter = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A stamp for a local event: later than every stamp this clock has made or seen. */
  tick(): string {
    const physical = this.now();
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return formatHlc({ wallMs: this.wallMs, counter: this.counter });
  }

  /** Merge a stamp seen on another writer's event, so our next tick comes after it. */
  observe(text: string): void {
    const seen = parseHlc(text);
    if (!seen) {
      return;
    }
    if (seen.wallMs > this.wallMs || (seen.wallMs === this.wallMs && seen.counter > this.counter)) {
      this.wallMs = seen.wallMs;
      this.counter = seen.counter;
    }
  }
}
