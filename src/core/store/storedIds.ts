import type { SqlValue } from 'sql.js';
import { ulidFromBytes, ulidToBytes } from '../log/ulid';

// How an event id is kept in the events table. Most ids are ULIDs (the store gives one to every
// event without an id): their 26 characters are kept as the 16 bytes they encode, which makes
// the table and its UNIQUE index about a third smaller. Any other id (given by the writer:
// imports, the CLI's derived ids) is kept as its text. SQLite never finds a BLOB equal to a
// TEXT, and only a string that is exactly a ULID is ever kept as bytes, so the encoding keeps
// ids distinct and decodes to the id that was written.

export function encodeStoredId(id: string): Uint8Array | string {
  return ulidToBytes(id) ?? id;
}

export function decodeStoredId(value: SqlValue): string {
  return value instanceof Uint8Array ? ulidFromBytes(value) : String(value);
}
