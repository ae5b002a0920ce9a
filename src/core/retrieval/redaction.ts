import { splitIdentifier } from './terms';

// Key-shaped strings inside files that are indexed (a token pasted into a test, a config with
// an inline key) are replaced before anything is stored, so neither the index file nor a
// search result nor a prompt ever holds them. Two nets: known credential prefixes, and long
// tokens whose characters look random (high Shannon entropy, letters mixed with digits).

export interface Redaction {
  /** 1-based line of the file where the string started. */
  readonly line: number;
  /** What it looked like, in words ("an Anthropic API key", "a high-entropy token"). */
  readonly kind: string;
}

/** Each pattern with the literal strings one of which any match holds: a file without them is not scanned with it. */
const knownKeys: ReadonlyArray<readonly [kind: string, pattern: RegExp, hints: readonly string[]]> = [
  ['an Anthropic API key', /sk-ant-[A-Za-z0-9_-]{10,}/g, ['sk-ant-']],
  ['an OpenAI-style API key', /\bsk-(?:proj-|svcacct-|live-)?[A-Za-z0-9_-]{20,}/g, ['sk-']],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g, ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_']],
  ['an AWS access key id', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b/g, ['AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'ANPA']],
  ['a Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, ['xox']],
  ['a Slack webhook', /hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g, ['hooks.slack.com/services/']],
  ['a GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}/g, ['glpat-']],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}/g, ['AIza']],
  ['a Stripe key', /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g, ['_live_', '_test_']],
  ['an npm token', /\bnpm_[A-Za-z0-9]{36}\b/g, ['npm_']],
  ['a PyPI token', /\bpypi-[A-Za-z0-9_-]{40,}/g, ['pypi-']],
  ['a Hugging Face token', /\bhf_[A-Za-z0-9]{30,}/g, ['hf_']],
  ['a SendGrid key', /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, ['SG.']],
  ['a JSON Web Token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, ['eyJ']],
  ['a private key block', /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, ['-----BEGIN ']],
  ['a password in a URL', /(?<=[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]{3,}(?=@)/gi, ['://']],
];

/**
 * Matches any of the hints above (test/unit/retrievalPrepare.test.ts holds it to that): one pass
 * over a file instead of one per hint, and most files hold none.
 */
const anyKeyHint = /sk-|gh[pousr]_|github_pat_|A(?:KIA|SIA|GPA|IDA|ROA|NPA|Iza)|xox|hooks\.slack\.com\/services\/|glpat-|_live_|_test_|npm_|pypi-|hf_|SG\.|eyJ|-----BEGIN |:\/\//;

/** Every literal hint of the known-key patterns (for the test of `anyKeyHint`). */
export function knownKeyHints(): string[] {
  return knownKeys.flatMap(([, , hints]) => hints);
}

/** True if `text` holds one of the known keys' hints. */
export function mayHoldKnownKey(text: string): boolean {
  return anyKeyHint.test(text);
}

/** Runs of token characters (`[A-Za-z0-9+/_=-]`) at least this long are checked for randomness. */
const minTokenLength = 24;

function isTokenCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 47 && code <= 57) || code === 43 || code === 95 || code === 61 || code === 45;
}

/**
 * The runs of token characters of `minTokenLength` or more as [start, end) pairs, in one pass (a
 * regex retries each start). Such a run starting at or after `index` holds the character
 * `minTokenLength - 1` further on, so that one is read first: most text is passed over a
 * stretch at a time instead of a character at a time.
 */
export function tokenCandidates(text: string): number[] {
  const spans: number[] = [];
  // text[index - 1] is never a token character: no run crosses `index`.
  let index = 0;
  while (index + minTokenLength <= text.length) {
    const probe = index + minTokenLength - 1;
    if (!isTokenCode(text.charCodeAt(probe))) {
      index = probe + 1;
      continue;
    }
    let start = probe;
    while (start > index && isTokenCode(text.charCodeAt(start - 1))) {
      start--;
    }
    let end = probe + 1;
    while (end < text.length && isTokenCode(text.charCodeAt(end))) {
      end++;
    }
    if (end - start >= minTokenLength) {
      spans.push(start, end);
    }
    index = end + 1;
  }
  return spans;
}
const minEntropyBitsPerChar = 3.8;

function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const character of text) {
    counts.set(character, (counts.get(character) ?? 0) + 1);
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * True for a token that looks generated: upper and lower letters and digits mixed, and high
 * entropy. Identifiers (`aVeryLongFunctionName`), paths and words fail the digit or the
 * entropy test; hex digests (one case, 16 symbols) fail the mixed-case test.
 */
export function looksLikeSecretToken(token: string): boolean {
  const core = token.replace(/^[-=_/+]+|[-=_/+]+$/g, '');
  if (core.length < 24 || !/\d/.test(core) || !/[a-z]/.test(core) || !/[A-Z]/.test(core)) {
    return false;
  }
  // A path or a kebab/snake identifier made of words: split on its joiners, mostly short words.
  if (/[/_-]/.test(core) && core.split(/[/_-]+/).every((part) => part.length < 16)) {
    return false;
  }
  // An identifier is made of words (`HTTP2ServerRequestHandlerV8`); a generated token of short humps.
  const humps = splitIdentifier(core.replace(/[^A-Za-z0-9]/g, '_')).filter((hump) => /^[a-z]/.test(hump));
  if (humps.length > 0 && humps.reduce((sum, hump) => sum + hump.length, 0) / humps.length >= 3.5) {
    return false;
  }
  const digits = (core.match(/\d/g) ?? []).length;
  return entropy(core) >= minEntropyBitsPerChar && digits >= 2;
}

function lineOf(text: string, index: number, lineStarts: number[]): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle]! <= index) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low + 1;
}

/** `text` with every key-shaped string replaced by `[redacted: kind]`, and what was replaced. */
export function redactSecrets(text: string): { text: string; redactions: Redaction[] } {
  const found: Array<{ start: number; end: number; kind: string }> = [];
  for (const [kind, pattern, hints] of mayHoldKnownKey(text) ? knownKeys : []) {
    if (!hints.some((hint) => text.includes(hint))) {
      continue;
    }
    for (const match of text.matchAll(pattern)) {
      found.push({ start: match.index, end: match.index + match[0].length, kind });
    }
  }
  const candidates = tokenCandidates(text);
  for (let index = 0; index < candidates.length; index += 2) {
    const start = candidates[index]!;
    const end = candidates[index + 1]!;
    if (looksLikeSecretToken(text.slice(start, end))) {
      found.push({ start, end, kind: 'a high-entropy token' });
    }
  }
  if (found.length === 0) {
    return { text, redactions: [] };
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const lineStarts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    lineStarts.push(index + 1);
  }
  const redactions: Redaction[] = [];
  const pieces: string[] = [];
  let cursor = 0;
  for (const span of found) {
    if (span.start < cursor) {
      continue;
    }
    pieces.push(text.slice(cursor, span.start));
    // A key block keeps its line count, so chunk line numbers still match the file.
    const newlines = text.slice(span.start, span.end).split('\n').length - 1;
    pieces.push(`[redacted: ${span.kind}]${'\n'.repeat(newlines)}`);
    redactions.push({ line: lineOf(text, span.start, lineStarts), kind: span.kind });
    cursor = span.end;
  }
  pieces.push(text.slice(cursor));
  return { text: pieces.join(''), redactions };
}
