// Terms as the index and the query both see them. Code names are compound words: `getUserName`,
// `get_user_name`, `src/core/retrieval` and `GET-USER` should all find "user name". Each word of
// the text gives its whole form (lowercased, separators dropped, so an exact identifier is one
// rare term with a high IDF) and its parts (camelCase humps, digits, snake_case and kebab parts).
// The output is plain lowercase ASCII/Unicode words separated by spaces, which SQLite's `simple`
// tokenizer keeps as they are, so FTS4 holds exactly these terms.

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

/** Appends the terms of `text` to `out`: each word whole, then its parts if it has several. */
export function appendTerms(text: string, out: string[]): void {
  for (const match of text.matchAll(wordPattern)) {
    const word = match[0];
    // Most words are plain lowercase: one term, nothing to split.
    if (plainWord.test(word)) {
      if (word.length <= maxTermLength) {
        out.push(word);
      }
      continue;
    }
    const whole = normalise(word);
    if (whole.length === 0 || whole.length > maxTermLength) {
      continue;
    }
    out.push(whole);
    const parts = splitIdentifier(word);
    if (parts.length > 1) {
      for (const part of parts) {
        out.push(part);
      }
    }
  }
}

/** The text as the FTS column holds it. */
export function indexTerms(text: string): string {
  const out: string[] = [];
  appendTerms(text, out);
  return out.join(' ');
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
