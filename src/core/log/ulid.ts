import { randomBytes } from 'node:crypto';

// ULID (https://github.com/ulid/spec): 48-bit millisecond time + 80 random bits, Crockford
// base32, so ids sort by creation time. Monotonic within one generator: ids made in the same
// millisecond increment the random part instead of drawing new bits, so they still sort.
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulidPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function isUlid(value: unknown): value is string {
  return typeof value === 'string' && ulidPattern.test(value);
}

export class UlidGenerator {
  private lastTime = -1;
  private lastRandom = new Uint8Array(10);

  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    const time = this.now();
    if (time <= this.lastTime) {
      incrementBytes(this.lastRandom);
    } else {
      this.lastTime = time;
      this.lastRandom = new Uint8Array(randomBytes(10));
    }
    return encodeTime(this.lastTime) + encodeBits(this.lastRandom);
  }
}

function incrementBytes(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] === 0xff) {
      bytes[i] = 0;
    } else {
      bytes[i]!++;
      return;
    }
  }
  throw new Error('ULID random part overflowed within one millisecond');
}

function encodeTime(time: number): string {
  let out = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = alphabet[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * Base32 of `bytes`, 5 bits at a time from the most significant end, after `leadingZeroBits`
 * zero bits (80 random bits -> 16 characters; a whole ULID's 128 bits after 2 zeros -> 26).
 */
function encodeBits(bytes: Uint8Array, leadingZeroBits = 0): string {
  let out = '';
  let buffer = 0;
  let bits = leadingZeroBits;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >>> bits) & 31]!;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** Each alphabet character's value by char code (-1: not in the alphabet); upper case only, as isUlid. */
const values = new Int8Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) {
  values[alphabet.charCodeAt(i)] = i;
}

/** The 128 bits of a ULID whose first character is 0–7 (every ULID of the spec), else undefined. */
export function ulidToBytes(value: string): Uint8Array | undefined {
  // Called for every stored and replayed event: a table lookup per character, no regex.
  const first = value.charCodeAt(0);
  if (value.length !== 26 || first < 0x30 || first > 0x37) {
    return undefined;
  }
  // 3 bits from the first character, then 5 from each of the other 25: 128 bits.
  const bytes = new Uint8Array(16);
  let buffer = first - 0x30;
  let bits = 3;
  let next = 0;
  for (let i = 1; i < 26; i++) {
    const code = value.charCodeAt(i);
    const digit = code < 128 ? values[code]! : -1;
    if (digit < 0) {
      return undefined;
    }
    buffer = (buffer << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[next++] = (buffer >>> bits) & 0xff;
      buffer &= (1 << bits) - 1;
    }
  }
  return bytes;
}

/** The ULID of 16 bytes written by ulidToBytes. */
export function ulidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) {
    throw new Error(`a ULID has 16 bytes, not ${bytes.length}`);
  }
  return encodeBits(bytes, 2);
}
