import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeEventSizeProblem, maxEventBytes, maxEventDepth } from '../../src/core/log/events';

// The size cap is exact at its edge: the walk's quick bound only ever skips the serialization
// for events that are certainly under it, so whatever the bound says, the verdict is the bytes'.
describe('the whole-event size cap', () => {
  const event = (input: unknown) => ({ kind: 'tool.use', sessionId: 's', body: { toolUseId: 't', name: 'write_file', input } });
  const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

  it('accepts an event a few bytes under the cap, refuses one a few bytes over it', () => {
    const base = bytesOf(event(''));
    const under = event('x'.repeat(maxEventBytes - base - 10));
    const over = event('x'.repeat(maxEventBytes - base + 10));
    assert.ok(bytesOf(under) < maxEventBytes && bytesOf(over) > maxEventBytes);
    assert.equal(describeEventSizeProblem(under), undefined);
    assert.match(describeEventSizeProblem(over) ?? '', new RegExp(`the event is ${bytesOf(over)} bytes as JSON`));
  });

  it('counts what escaping and UTF-8 make of a string, not its length', () => {
    // Quotes escape to two bytes, '€' is three bytes: 6 million of them are over 16 MiB.
    assert.match(describeEventSizeProblem(event('"'.repeat(9_000_000))) ?? '', /bytes as JSON, more than the 16 MiB/);
    assert.match(describeEventSizeProblem(event('€'.repeat(6_000_000))) ?? '', /bytes as JSON, more than the 16 MiB/);
    assert.equal(describeEventSizeProblem(event('€'.repeat(5_000_000))), undefined);
  });

  it('measures what toJSON writes (a Buffer is its bytes as numbers), not its fields', () => {
    // A 4 MiB Buffer serializes to about 8 MiB of digits and commas plus its type: under; 9 MiB is over.
    assert.equal(describeEventSizeProblem(event(Buffer.alloc(4 * 1024 * 1024))), undefined);
    assert.match(describeEventSizeProblem(event(Buffer.alloc(9 * 1024 * 1024))) ?? '', /bytes as JSON/);
  });

  it('many small fields add up: a hundred thousand keys of 200 bytes is over the cap', () => {
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, 'v'.repeat(200)]));
    assert.ok(bytesOf(event(wide)) > maxEventBytes);
    assert.match(describeEventSizeProblem(event(wide)) ?? '', /bytes as JSON/);
  });

  it('refuses nesting past the depth cap before anything recurses', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 10_000; i++) {
      deep = [deep];
    }
    assert.match(describeEventSizeProblem(event(deep)) ?? '', new RegExp(`more than ${maxEventDepth} levels deep`));
  });
});
