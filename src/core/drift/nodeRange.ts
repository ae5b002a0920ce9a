// Just enough of npm's semver ranges to compare a prompt's "Node.js 20" with engines.node:
// each `||` alternative as a lowest version and an exclusive upper major.

export interface VersionFloor {
  readonly major: number;
  readonly minor: number;
}

interface Alternative {
  min: VersionFloor;
  maxMajor: number | undefined;
}

function parseVersion(text: string): { major: number; minor: number | undefined } | undefined {
  const match = /^v?(\d+)(?:\.(\d+|x|\*))?/.exec(text.trim());
  if (!match) {
    return undefined;
  }
  return { major: Number(match[1]), minor: match[2] === undefined || match[2] === 'x' || match[2] === '*' ? undefined : Number(match[2]) };
}

function parseAlternatives(range: string): Alternative[] {
  const alternatives: Alternative[] = [];
  for (const part of range.split('||')) {
    const alternative: Alternative = { min: { major: 0, minor: 0 }, maxMajor: undefined };
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(part);
    const comparators = hyphen ? [`>=${hyphen[1]}`, `<=${hyphen[2]}`] : part.trim().split(/\s+/).filter(Boolean);
    let understood = comparators.length > 0;
    for (const comparator of comparators) {
      const match = /^(>=|<=|>|<|\^|~|=)?\s*(.*)$/.exec(comparator)!;
      const operator = match[1] ?? '';
      if (match[2] === '*' || match[2] === 'x' || match[2] === '') {
        continue;
      }
      const version = parseVersion(match[2]!);
      if (!version) {
        understood = false;
        continue;
      }
      const floor = { major: version.major, minor: version.minor ?? 0 };
      switch (operator) {
        case '>=':
        case '>':
          alternative.min = floor;
          break;
        case '<':
          alternative.maxMajor = version.minor ? version.major + 1 : version.major;
          break;
        case '<=':
          alternative.maxMajor = version.major + 1;
          break;
        default: // ^, ~, =, bare: this major
          alternative.min = floor;
          alternative.maxMajor = version.major + 1;
      }
    }
    if (understood) {
      alternatives.push(alternative);
    }
  }
  return alternatives;
}

/** The lowest version the range allows, or undefined if it is not understood. */
export function rangeFloor(range: string): VersionFloor | undefined {
  const alternatives = parseAlternatives(range);
  if (alternatives.length === 0) {
    return undefined;
  }
  return alternatives.map((alternative) => alternative.min).sort((a, b) => a.major - b.major || a.minor - b.minor)[0];
}

/** True if some version of `major` is allowed (undefined: the range is not understood). */
export function rangeAllowsMajor(range: string, major: number): boolean | undefined {
  const alternatives = parseAlternatives(range);
  if (alternatives.length === 0) {
    return undefined;
  }
  return alternatives.some((alternative) => alternative.min.major <= major && (alternative.maxMajor === undefined || major < alternative.maxMajor));
}

export function formatFloor(floor: VersionFloor): string {
  return floor.minor > 0 ? `${floor.major}.${floor.minor}` : String(floor.major);
}

export function isBelow(a: VersionFloor, b: VersionFloor): boolean {
  return a.major < b.major || (a.major === b.major && a.minor < b.minor);
}
