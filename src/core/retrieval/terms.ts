// Terms as the index and the query both see them. Code names are compound words: `getUserName`,
// `get_user_name`, `src/core/retrieval` and `GET-USER` should all find "user name". Each word of
// the text gives its whole form (lowercased, separators dropped, so an exact identifier is one
// rare term with a high IDF) and its parts (camelCase humps, digits, snake_case and kebab parts).
// Terms are plain lowercase words (termIndex.ts holds them).

/** A run of letters, digits and joiners (`_`, `$`); anything else separates words. */
const wordPattern = /[\p{L}\p{N}_$]+/gu;
/** Humps of a camelCase or PascalCase word: `HTTPServer` -> HTTP, Server; `utf8Decode` -> utf, 8, Decode. */
const humpPattern = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+/gu;

const plainWord = /^[a-z]+$/;

/** Words longer than this are not terms (base64 blobs, minified lines). */
const maxTermLength = 64;

/** The parts of one word, lowercased: `parseHTTPRequest_v2` -> parse, http, request, v, 2. */
export function splitIdentifier(word: string): string[] {
  const parts: string[] = [];
  for (const piece of word.split(/[_$]+/)) {
    for (const hump of piece.match(humpPattern) ?? []) {
      parts.push(hump.toLowerCase());
    }
  }
  return parts;
}

function normalise(word: string): string {
  return word.replace(/[_$]+/g, '').toLowerCase();
}

/** The terms one word gives: whole, then its parts if it has several (none if it is too long). */
function splitWord(word: string): readonly string[] {
  // Most words are plain lowercase: one term, nothing to split.
  if (plainWord.test(word)) {
    return word.length <= maxTermLength ? [word] : [];
  }
  const whole = normalise(word);
  if (whole.length === 0 || whole.length > maxTermLength) {
    return [];
  }
  const parts = splitIdentifier(word);
  return parts.length > 1 ? [whole, ...parts] : [whole];
}

/** Words repeat (identifiers, keywords): each is split once, until the cache is full and starts again. */
const wordCache = new Map<string, readonly string[]>();
const maxCachedWords = 200_000;

/** The terms one word of `wordPattern` gives (memoized). */
export function wordTerms(word: string): readonly string[] {
  let terms = wordCache.get(word);
  if (terms === undefined) {
    terms = splitWord(word);
    if (wordCache.size >= maxCachedWords) {
      wordCache.clear();
    }
    wordCache.set(word, terms);
  }
  return terms;
}

const nonAscii = /[^\x00-\x7f]/;

/** True for the ASCII characters of `wordPattern`: letters, digits, `_` and `$`. */
function isAsciiWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 36;
}

/** 1 for the ASCII codes `isAsciiWordCode` accepts (a table read is cheaper than the tests). */
export const asciiWordCodes = Uint8Array.from({ length: 128 }, (_, code) => (isAsciiWordCode(code) ? 1 : 0));

const letterOrNumber = /^[\p{L}\p{N}]$/u;
/** Code points below 0x10000 classified so far: 0 not yet, 1 in words, 2 not. */
const basicPlane = new Uint8Array(0x10000);

/** True for a code point above ASCII that `wordPattern` takes into words (a letter or a number). */
export function isWordCodePoint(point: number): boolean {
  if (point > 0xffff) {
    return letterOrNumber.test(String.fromCodePoint(point));
  }
  let known = basicPlane[point]!;
  if (known === 0) {
    // A lone surrogate is not a letter (as `wordPattern` reads it, code point by code point).
    known = letterOrNumber.test(String.fromCharCode(point)) ? 1 : 2;
    basicPlane[point] = known;
  }
  return known === 1;
}

/** Calls `visit` with each word of `text` (runs of `wordPattern`), in order. */
export function forEachWord(text: string, visit: (word: string) => void): void {
  if (nonAscii.test(text)) {
    for (const match of text.matchAll(wordPattern)) {
      visit(match[0]);
    }
    return;
  }
  // ASCII (nearly all code): the same words as `wordPattern`, found without a regex.
  let start = -1;
  for (let index = 0; index <= text.length; index++) {
    const inWord = index < text.length && isAsciiWordCode(text.charCodeAt(index));
    if (inWord) {
      if (start < 0) {
        start = index;
      }
    } else if (start >= 0) {
      visit(text.slice(start, index));
      start = -1;
    }
  }
}

/** Appends the terms of `text` to `out`: each word whole, then its parts if it has several. */
export function appendTerms(text: string, out: string[]): void {
  forEachWord(text, (word) => {
    for (const term of wordTerms(word)) {
      out.push(term);
    }
  });
}

/** The terms of `text`, in order, repeats kept (what the term index counts). */
export function termList(text: string): string[] {
  const out: string[] = [];
  appendTerms(text, out);
  return out;
}

/** Words too common in questions and code to rank anything (they match nearly every chunk). */
const stopWords: ReadonlySet<string> = new Set(
  'a an and are as at be but by can could do does for from has have how i if in into is it its me my no not of on or our should so than that the their then there these this to was we what when where which who why will with would you your'.split(' '),
);

/**
 * The distinct terms of a query, in order: whole words and their parts, stop words dropped
 * (unless nothing else is left).
 */
export function queryTerms(query: string): string[] {
  const all: string[] = [];
  appendTerms(query, all);
  const distinct = [...new Set(all)];
  const kept = distinct.filter((term) => !stopWords.has(term));
  return kept.length > 0 ? kept : distinct;
}

/** The terms of a workspace-relative path (`src/core/userName.ts` -> src, core, username, user, name, ts). */
export function pathTerms(relative: string): Set<string> {
  const out: string[] = [];
  appendTerms(relative, out);
  return new Set(out);
}
