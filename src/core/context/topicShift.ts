// A cheap lexical test for "the user changed the subject", used by session windows with
// `detectShift`. Not a semantic model; it only has to be cheap, deterministic and explainable.
//
// Each message becomes its set of content words: lower-cased runs of letters and digits of at
// least three characters (identifiers split at camelCase and snake_case humps as well as kept
// whole), minus common English function words. A new user message is compared with the
// union of the words of the `shiftWindowMessages` user and assistant messages before it. The
// score is the share of the new message's words found there (the overlap coefficient
// |new ∩ recent| / |new|; Jaccard would punish the recent window for being large). A message
// with fewer than `minShiftWords` content words ("thanks", "go on") never counts as a shift,
// since a short follow-up shares little vocabulary without changing topic. Below
// `shiftThreshold` the message starts a new topic. Only the first `shiftTextChars` characters of
// a message are read: enough to tell its subject, and it bounds the cost of long answers.

export const shiftWindowMessages = 6;
export const shiftThreshold = 0.15;
export const minShiftWords = 4;
export const shiftTextChars = 4000;

const stopWords = new Set(
  (
    'the and for are but not you all any can had her was one our out day get has him his how man ' +
    'new now old see two way who boy did its let put say she too use that with have this will your ' +
    'from they know want been good much some time very when come here just like long make many more ' +
    'only over such take than them well were what about would there their which could other into ' +
    'then these thing think also back after first even give most should where while does doing done ' +
    'need yes okay please thanks thank sure might must shall may lets let\'s three something ' +
    'anything everything nothing why whom whose'
  ).split(' '),
);

/** The content words of a text (see the comment at the top). */
export function contentWords(text: string): ReadonlySet<string> {
  const words = new Set<string>();
  const add = (word: string): void => {
    const lower = word.toLowerCase();
    if (lower.length >= 3 && !stopWords.has(lower)) {
      words.add(lower);
    }
  };
  for (const match of (text.length > shiftTextChars ? text.slice(0, shiftTextChars) : text).matchAll(/[A-Za-z0-9_]+/g)) {
    const token = match[0];
    add(token);
    if (/[a-z][A-Z]|_/.test(token)) {
      for (const part of token.split(/_|(?<=[a-z0-9])(?=[A-Z])/)) {
        add(part);
      }
    }
  }
  return words;
}

/**
 * The overlap of `words` (a new user message) with the recent messages' words; null when there
 * is nothing to compare (no recent messages) or the message is too short to judge.
 */
export function shiftScore(words: ReadonlySet<string>, recent: ReadonlyArray<ReadonlySet<string>>): number | null {
  if (recent.length === 0 || words.size < minShiftWords) {
    return null;
  }
  let shared = 0;
  for (const word of words) {
    if (recent.some((set) => set.has(word))) {
      shared++;
    }
  }
  return shared / words.size;
}

export function isTopicShift(score: number | null): boolean {
  return score !== null && score < shiftThreshold;
}
