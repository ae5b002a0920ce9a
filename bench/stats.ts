// Small helpers for benchmark figures.
import * as fs from 'node:fs';

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) {
    return NaN;
  }
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function ms(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Peak resident memory of this process so far (Linux VmHWM), in bytes. */
export function peakRss(): number {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) {
      return Number(match[1]) * 1024;
    }
  } catch {
    // Not Linux: fall back to the current RSS.
  }
  return process.memoryUsage().rss;
}

/** A small deterministic PRNG (mulberry32): every run builds the same corpus and queries. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
