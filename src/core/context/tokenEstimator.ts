import type { ContentBlock } from './contextTypes';

// An offline token estimate for when exact counts (the API's count_tokens) are not at hand.
//
// chars/4 is off by about 5-10% on average depending on the text (under on code, over on
// prose), and by 20-30% on some files. This estimator instead counts, in one pass over the
// characters, what a BPE tokenizer spends tokens on: letter runs (a word is mostly one token
// with its leading space), case humps inside identifiers (camelCase splits there), punctuation
// and digits (mostly a token per one or two), runs of one punctuation character, line breaks
// (each starts a new whitespace token), runs of spaces, and characters outside ASCII. The ASCII
// weights were fitted by least squares against @anthropic-ai/tokenizer on this repository's
// TypeScript and prose. Measured per file: ~2% mean error on code and ~3% on prose, where chars/4
// has ~7% and ~6% (test/unit/contextTokens.test.ts fails if it drifts; bench/context prints it).
// That tokenizer is the one Anthropic published for earlier Claude models: exact counts for the
// model in use come only from count_tokens.

const wordWeight = 1.16;
const humpWeight = 1.05;
const punctuationWeight = 0.58;
const digitWeight = 0.61;
const newlineWeight = 1.02;
const spaceRunWeight = 0.27;
// Outside ASCII (set from samples, since the corpus has little of it): accented Latin, Greek and
// Cyrillic letters continue a word but cost most of a token (Latin, where they split the word)
// or about half (Greek, Cyrillic) each; other characters of the
// Basic Multilingual Plane (CJK, dashes, quotes, arrows) about a token; emoji and other astral
// characters between two and three.
const latinLetterWeight = 0.8;
const greekCyrillicLetterWeight = 0.45;
// A run of one punctuation character ("-----", "=====") is one or two tokens however long.
const punctuationRunWeight = 1.2;
const symbolWeight = 1.0;
const astralWeight = 2.5;

/** Role markers and message framing the API adds around each message (estimate). */
export const messageOverheadTokens = 4;
/** Framing of a request as a whole, charged once with the system prompt (estimate). */
export const requestOverheadTokens = 8;
/** A tool_use block's framing beyond its name and JSON input (estimate). */
export const toolUseOverheadTokens = 12;
/** A tool_result block's framing beyond its content (estimate). */
export const toolResultOverheadTokens = 6;

export interface TextFeatures {
  readonly words: number;
  readonly humps: number;
  readonly punctuation: number;
  readonly digits: number;
  readonly newlines: number;
  readonly spaceRuns: number;
  readonly latinLetters: number;
  readonly greekCyrillicLetters: number;
  readonly punctuationRuns: number;
  readonly symbols: number;
  readonly astral: number;
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 0xc0 && code <= 0x52f && code !== 0xd7 && code !== 0xf7);
}

function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}

/** The counts the estimate is made of (exported for the measurement test and the bench). */
export function textFeatures(text: string): TextFeatures {
  let words = 0;
  let humps = 0;
  let punctuation = 0;
  let digits = 0;
  let newlines = 0;
  let spaceRuns = 0;
  let latinLetters = 0;
  let greekCyrillicLetters = 0;
  let punctuationRuns = 0;
  let symbols = 0;
  let astral = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (isLetter(code)) {
      words++;
      let previousUpper = isUpper(code);
      if (code > 127) {
        if (code < 0x370) {
          latinLetters++;
        } else {
          greekCyrillicLetters++;
        }
      }
      i++;
      while (i < length) {
        const next = text.charCodeAt(i);
        if (!isLetter(next)) {
          break;
        }
        const upper = isUpper(next);
        if (upper && !previousUpper) {
          humps++;
        }
        if (next > 127) {
          if (next < 0x370) {
            latinLetters++;
          } else {
            greekCyrillicLetters++;
          }
        }
        previousUpper = upper;
        i++;
      }
    } else if (code >= 48 && code <= 57) {
      digits++;
      i++;
    } else if (code === 10) {
      newlines++;
      i++;
    } else if (code === 32 || code === 9 || code === 13) {
      const start = i;
      i++;
      while (i < length) {
        const next = text.charCodeAt(i);
        if (next !== 32 && next !== 9) {
          break;
        }
        i++;
      }
      if (i - start > 1) {
        spaceRuns++;
      }
    } else if (code < 128) {
      let end = i + 1;
      while (end < length && text.charCodeAt(end) === code) {
        end++;
      }
      if (end - i >= 4) {
        punctuationRuns++;
      } else {
        punctuation += end - i;
      }
      i = end;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: one astral character (emoji), four UTF-8 bytes.
      astral++;
      i += 2;
    } else {
      symbols++;
      i++;
    }
  }
  return { words, humps, punctuation, digits, newlines, spaceRuns, latinLetters, greekCyrillicLetters, punctuationRuns, symbols, astral };
}

/** Estimated tokens of a piece of text (0 for the empty string, at least 1 otherwise). */
export function estimateTextTokens(text: string): number {
  if (text.length === 0) {
    return 0;
  }
  const f = textFeatures(text);
  const estimate =
    wordWeight * f.words +
    humpWeight * f.humps +
    punctuationWeight * f.punctuation +
    digitWeight * f.digits +
    newlineWeight * f.newlines +
    spaceRunWeight * f.spaceRuns +
    latinLetterWeight * f.latinLetters +
    greekCyrillicLetterWeight * f.greekCyrillicLetters +
    punctuationRunWeight * f.punctuationRuns +
    symbolWeight * f.symbols +
    astralWeight * f.astral;
  return Math.max(1, Math.round(estimate));
}

/** Estimated tokens of one content block, framing included. */
export function estimateBlockTokens(block: ContentBlock): number {
  switch (block.type) {
    case 'text':
      return estimateTextTokens(block.text);
    case 'tool_use':
      return toolUseOverheadTokens + estimateTextTokens(block.name) + estimateTextTokens(JSON.stringify(block.input ?? null));
    case 'tool_result':
      return toolResultOverheadTokens + estimateTextTokens(block.content);
  }
}

export function estimateBlocksTokens(blocks: readonly ContentBlock[]): number {
  let total = 0;
  for (const block of blocks) {
    total += estimateBlockTokens(block);
  }
  return total;
}

/** The plain chars/4 rule, kept as the baseline the measurements compare against. */
export function charsOverFourTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
