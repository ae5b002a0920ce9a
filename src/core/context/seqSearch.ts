/** The first index of `items` (ascending by `seqOf`) whose seq is ≥ `seq`; `items.length` if none. */
export function firstAtOrAfter<T>(items: readonly T[], seq: number, seqOf: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (seqOf(items[middle]!) < seq) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
