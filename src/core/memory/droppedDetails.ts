// Which details of the raw turns a summary dropped: the identifiers, paths and numbers of the
// source text that appear neither in the summary nor in the artifact trail that goes beside it.
// A pure function of the texts, so the panel can highlight them and a test can pin them down.

export type DetailKind = 'path' | 'identifier' | 'number';

export interface Detail {
  readonly kind: DetailKind;
  readonly text: string;
}

export interface DroppedDetail extends Detail {
  /** How often it occurs in the source. */
  readonly occurrences: number;
}

export interface DetailSpan extends Detail {
  readonly start: number;
  readonly end: number;
}

// Paths: a/b/c.ext, ./x, ../x, /abs/x, or a bare file name with a known extension.
const pathPattern = /(?:\.{0,2}\/)?(?:[\w.@-]+\/)+[\w.@-]*[\w@-]|\b[\w-]+\.(?:ts|tsx|js|jsx|mjs|cjs|json|md|py|rs|go|java|kt|c|h|cc|cpp|hpp|cs|rb|php|yml|yaml|toml|ini|sql|sh|css|scss|html|lock|txt|env|jsonl)\b/g;
// Identifiers: camelCase, PascalCase with an inner capital, snake_case, SCREAMING_CASE, name().
const identifierPattern = /\b[A-Za-z_$][\w$]*\(\)|\b[a-z]+[A-Z][\w$]*|\b[A-Z][a-z0-9]+[A-Z][\w$]*|\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b[A-Z]{2,}_[A-Z0-9_]+\b/g;
// Numbers of two or more digits (single digits are list markers and turn counts), with a decimal part or separators.
const numberPattern = /(?<![\w.])\d[\d,_]*(?:\.\d+)?(?![\w])/g;

function overlaps(spans: readonly DetailSpan[], start: number, end: number): boolean {
  return spans.some((span) => span.start < end && start < span.end);
}

/** The details in `text` with their places, paths first, then identifiers, then numbers; none overlap. */
export function detailSpans(text: string): DetailSpan[] {
  const spans: DetailSpan[] = [];
  const collect = (kind: DetailKind, pattern: RegExp, accept: (value: string) => boolean): void => {
    for (const match of text.matchAll(pattern)) {
      const start = match.index;
      const value = match[0].replace(/[.,:;]+$/, '');
      const end = start + value.length;
      if (value.length > 0 && accept(value) && !overlaps(spans, start, end)) {
        spans.push({ kind, text: value, start, end });
      }
    }
  };
  collect('path', pathPattern, (value) => /[/.]/.test(value) && !/^\d+(?:\.\d+)*$/.test(value) && !/^\/+$/.test(value));
  collect('identifier', identifierPattern, () => true);
  collect('number', numberPattern, (value) => value.replace(/[,_.]/g, '').length >= 2);
  return spans.sort((a, b) => a.start - b.start);
}

function normalized(detail: Detail): string {
  return detail.kind === 'number' ? detail.text.replace(/[,_]/g, '') : detail.text;
}

/**
 * The details of `source` (the raw turns) that `kept` (the summary and the trail text) does not
 * contain, most frequent first. A number counts as kept in any of its spellings (1,000 = 1000); a
 * path is kept when the summary names it or its file name, since the trail prints paths as the
 * tools saw them.
 */
export function droppedDetails(source: string, kept: string): DroppedDetail[] {
  const keptText = `${kept}\n${kept.replace(/(\d),(?=\d{3}\b)/g, '$1')}`;
  const counts = new Map<string, { detail: Detail; occurrences: number }>();
  for (const span of detailSpans(source)) {
    const key = `${span.kind}:${normalized(span)}`;
    const entry = counts.get(key);
    if (entry) {
      entry.occurrences++;
    } else {
      counts.set(key, { detail: { kind: span.kind, text: span.kind === 'number' ? normalized(span) : span.text }, occurrences: 1 });
    }
  }
  const dropped: DroppedDetail[] = [];
  for (const { detail, occurrences } of counts.values()) {
    if (!isKept(detail, keptText)) {
      dropped.push({ ...detail, occurrences });
    }
  }
  return dropped.sort((a, b) => b.occurrences - a.occurrences || a.text.localeCompare(b.text));
}

function isKept(detail: Detail, keptText: string): boolean {
  if (detail.kind === 'number') {
    return new RegExp(`(?<![\\d.])${escapeRegExp(detail.text)}(?![\\d])`).test(keptText);
  }
  if (keptText.includes(detail.text)) {
    return true;
  }
  if (detail.kind === 'path') {
    const base = detail.text.split('/').filter(Boolean).at(-1);
    return base !== undefined && base.includes('.') && new RegExp(`(?:^|[^\\w.-])${escapeRegExp(base)}(?![\\w-])`).test(keptText);
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
