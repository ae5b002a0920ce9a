// A small argument parser: `--name value`, `--name=value`, `--flag`, and positionals. Unknown
// options are errors, so a typo never silently changes what a command does.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], valueOptions: ReadonlySet<string>, flagOptions: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && arg !== '-h') {
        throw new UsageError(`unknown option ${arg}`);
      }
      positionals.push(arg === '-h' ? '--help' : arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flagOptions.has(name)) {
      if (inline !== undefined) {
        throw new UsageError(`--${name} takes no value`);
      }
      options.set(name, true);
    } else if (valueOptions.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        throw new UsageError(`--${name} needs a value`);
      }
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positionals, options };
}

export function positiveInteger(value: string | true | undefined, name: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const parsed = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new UsageError(`--${name} must be a positive whole number`);
  }
  return parsed;
}
