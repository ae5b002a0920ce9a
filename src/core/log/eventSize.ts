// The caps on one event's nesting and size, checked before anything serializes it. Apart from
// the kind registry: they judge any JSON value, known kind or not.

/** Most levels of object/array nesting in one event (JSON.stringify recurses per level). */
export const maxEventDepth = 100;
/** Most bytes one event may take as JSON, every field included. */
export const maxEventBytes = 16 * 1024 * 1024;

/**
 * Why `input` is too deep or too big to store, or undefined. The depth is measured without
 * recursion, before anything that recurses (JSON.stringify) sees the value: 10,000 levels
 * parse fine but overflow the stack when serialized. The same walk adds up a bound on the JSON
 * size (every character escaped as \uXXXX); only an event that could pass the cap is serialized
 * to measure it exactly, so the append path usually serializes each event once, to write it.
 */
export function describeEventSizeProblem(input: unknown): string | undefined {
  const values: unknown[] = [input];
  const depths: number[] = [1];
  let bound = 0;
  let exact = false;
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      bound += 6 * value.length + 2;
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      bound += 24; // a number, boolean or null; undefined and functions are left out
      continue;
    }
    if (depth > maxEventDepth) {
      return `the event nests objects and arrays more than ${maxEventDepth} levels deep`;
    }
    // toJSON (a Date, a Buffer) writes something else than its fields: measure it exactly.
    exact ||= typeof (value as { toJSON?: unknown }).toJSON === 'function';
    bound += 2;
    if (Array.isArray(value)) {
      for (const child of value as unknown[]) {
        values.push(child);
        depths.push(depth + 1);
        bound += 1;
      }
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      values.push(child);
      depths.push(depth + 1);
      bound += 6 * key.length + 4;
    }
  }
  if (bound <= maxEventBytes && !exact) {
    return undefined;
  }
  const bytes = Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
  if (bytes > maxEventBytes) {
    return `the event is ${bytes} bytes as JSON, more than the ${maxEventBytes / (1024 * 1024)} MiB (${maxEventBytes} bytes) one event may take`;
  }
  return undefined;
}
