import type { PackageManager } from './driftTypes';
import { isAssertedAt, isNegatedAt, tokens, type PromptDocument, type PromptLine } from './promptText';

// What a prompt file claims about its repository, each claim with its line and columns: the
// scripts and make targets its commands run, the package manager it says to use, the paths it
// names, the Node.js version it states, the formatter it names and the paths it says not to
// touch. Checks compare these with the repository, with each other, and with stored facts.

export type Runner = PackageManager | 'make';

export interface ScriptClaim {
  readonly line: number;
  readonly runner: Runner;
  readonly script: string;
  /** Columns of the script name on the line. */
  readonly start: number;
  /** A workspace-scoped command (`--filter`, `-C dir`, `yarn workspace`): any package may have it. */
  readonly scoped: boolean;
  /** The folder a `cd X &&` or `make -C X` put the command in, relative to the prompt file. */
  readonly cwd: string | undefined;
  /** The whole command from the runner on, as written. */
  readonly command: string;
  readonly commandStart: number;
}

export interface ManagerClaim {
  readonly line: number;
  readonly manager: PackageManager;
  readonly start: number;
  readonly end: number;
  /** The words from the runner through its subcommand (`npm install`), for the update fix. */
  readonly verb: string | undefined;
  readonly cwd: string | undefined;
}

export interface PathClaim {
  readonly line: number;
  readonly path: string;
  readonly start: number;
}

export interface RuntimeClaim {
  readonly line: number;
  /** `>= 20`, `20+`, `^20`: at least this; else exactly this major. */
  readonly atLeast: boolean;
  readonly major: number;
  readonly minor: number | undefined;
  /** Columns of the version number. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface TopicClaim {
  readonly line: number;
  readonly value: string;
  readonly start: number;
}

export interface PromptClaims {
  readonly path: string;
  readonly scripts: readonly ScriptClaim[];
  readonly managers: readonly ManagerClaim[];
  readonly paths: readonly PathClaim[];
  readonly runtimes: readonly RuntimeClaim[];
  readonly formatters: readonly TopicClaim[];
  /** Commands stated for a topic: `- Test: \`pnpm test\``, or a script named for it. */
  readonly topicCommands: ReadonlyMap<CommandTopic, readonly TopicClaim[]>;
  readonly protectedPaths: readonly PathClaim[];
}

export type CommandTopic = 'build' | 'test' | 'lint' | 'format' | 'typecheck';
const commandTopics: readonly CommandTopic[] = ['build', 'test', 'lint', 'format', 'typecheck'];

const pnpmBuiltins = new Set(['add', 'audit', 'bin', 'c', 'config', 'create', 'dedupe', 'deploy', 'dlx', 'doctor', 'env', 'exec', 'fetch', 'i', 'import', 'init', 'install', 'install-test', 'it', 'licenses', 'link', 'list', 'ln', 'ls', 'outdated', 'pack', 'patch', 'patch-commit', 'patch-remove', 'prune', 'publish', 'rb', 'rebuild', 'recursive', 'remove', 'rm', 'root', 'self-update', 'server', 'setup', 'store', 'un', 'uninstall', 'unlink', 'up', 'update', 'upgrade', 'why', 'approve-builds', 'ignored-builds', 'cat-file', 'cat-index', 'find-hash', 'help', 'version', 'login', 'logout', 'whoami', 'view', 'info', 'cache', 'sbom', 'x']);
const yarnBuiltins = new Set(['add', 'audit', 'autoclean', 'bin', 'cache', 'check', 'config', 'constraints', 'create', 'dedupe', 'dlx', 'exec', 'explain', 'generate-lock-entry', 'global', 'help', 'import', 'info', 'init', 'install', 'licenses', 'link', 'list', 'login', 'logout', 'node', 'npm', 'outdated', 'owner', 'pack', 'patch', 'patch-commit', 'plugin', 'policies', 'publish', 'rebuild', 'remove', 'search', 'set', 'stage', 'tag', 'team', 'unlink', 'unplug', 'up', 'upgrade', 'upgrade-interactive', 'version', 'versions', 'why', 'workspaces']);
const bunBuiltins = new Set(['install', 'i', 'add', 'a', 'remove', 'rm', 'update', 'upgrade', 'link', 'unlink', 'pm', 'test', 'x', 'create', 'c', 'init', 'build', 'repl', 'exec', 'outdated', 'publish', 'patch', 'audit', 'info', 'why']);
/** Flags that scope a command to other packages, and whether they take a value. */
const scopeFlags = new Map<string, boolean>([
  ['--filter', true], ['-F', true], ['-C', true], ['--dir', true], ['--prefix', true], ['--workspace', true], ['-w', true],
  ['-r', false], ['--recursive', false], ['--workspaces', false], ['-ws', false], ['-W', false], ['--workspace-root', false],
]);

const separators = new Set(['&&', '||', ';', '|', '&']);

export function extractClaims(document: PromptDocument): PromptClaims {
  const scripts: ScriptClaim[] = [];
  const managers: ManagerClaim[] = [];
  const paths: PathClaim[] = [];
  const runtimes: RuntimeClaim[] = [];
  const formatters: TopicClaim[] = [];
  const topicCommands = new Map<CommandTopic, TopicClaim[]>();
  const protectedPaths: PathClaim[] = [];
  for (const line of document.lines) {
    for (const segment of line.code) {
      readCommands(line, segment.text, segment.start, scripts, managers);
      if (!segment.fenced) {
        addTopicCommand(line, segment.text, segment.start, topicCommands);
        const candidate = pathCandidate(segment.text);
        if (candidate !== undefined) {
          (isProtectingLine(line.text) ? protectedPaths : isNegatedAt(line, segment.start) ? [] : paths).push({ line: line.number, path: candidate, start: segment.start });
        }
        readBareManager(line, segment.text, segment.start, managers);
      }
    }
    for (const reference of line.references) {
      const candidate = referenceCandidate(reference.text);
      if (candidate !== undefined && !isNegatedAt(line, reference.start)) {
        paths.push({ line: line.number, path: candidate, start: reference.start });
      }
    }
    readBoldManager(line, managers);
    runtimes.push(...readRuntimes(line));
    formatters.push(...readFormatters(line));
  }
  return { path: document.path, scripts, managers, paths, runtimes, formatters, topicCommands, protectedPaths };
}

function readCommands(line: PromptLine, text: string, base: number, scripts: ScriptClaim[], managers: ManagerClaim[]): void {
  let cwd: string | undefined;
  let current: Array<{ text: string; start: number }> = [];
  const flush = () => {
    const command = current;
    current = [];
    while (command.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(command[0]!.text)) {
      command.shift(); // FOO=1 npm test
    }
    if (command[0]?.text === '$' || command[0]?.text === '>') {
      command.shift(); // a shell prompt
    }
    const head = command[0];
    if (!head) {
      return;
    }
    if (head.text === 'cd' && command[1]) {
      cwd = command[1].text.replace(/^\.\//, '').replace(/\/+$/, '');
      return;
    }
    readCommand(line, command, cwd, scripts, managers);
  };
  for (const token of tokens(text, base)) {
    if (separators.has(token.text)) {
      flush();
    } else if (token.text.endsWith(';') && token.text.length > 1) {
      current.push({ text: token.text.slice(0, -1), start: token.start });
      flush();
    } else {
      current.push(token);
    }
  }
  flush();
}

function readCommand(line: PromptLine, command: ReadonlyArray<{ text: string; start: number }>, cwd: string | undefined, scripts: ScriptClaim[], managers: ManagerClaim[]): void {
  const runner = command[0]!.text;
  if (runner !== 'npm' && runner !== 'pnpm' && runner !== 'yarn' && runner !== 'bun' && runner !== 'make') {
    return;
  }
  const commandStart = command[0]!.start;
  const last = command.at(-1)!;
  const commandText = line.text.slice(commandStart, last.start + last.text.length);
  let scoped = false;
  let scopeDir: string | undefined;
  let index = 1;
  let global = false;
  while (index < command.length && command[index]!.text.startsWith('-')) {
    const flag = command[index]!.text.split('=')[0]!;
    const takesValue = runner === 'make' ? flag === '-C' || flag === '-f' || flag === '-j' || flag === '--directory' || flag === '--file' : scopeFlags.get(flag);
    if (runner === 'make' && (flag === '-f' || flag === '--file')) {
      return; // another makefile: not ours to read
    }
    if (runner === 'make' && (flag === '-C' || flag === '--directory')) {
      scopeDir = command[index + 1]?.text ?? command[index]!.text.split('=')[1];
    } else if (scopeFlags.has(flag)) {
      scoped = true;
    }
    global ||= flag === '-g' || flag === '--global';
    index += takesValue && !command[index]!.text.includes('=') ? 2 : 1;
  }
  const verb = command[index];
  if (runner !== 'make') {
    const rest = command.slice(index + 1);
    global ||= rest.some((token) => token.text === '-g' || token.text === '--global');
    // A bare `npm` in prose is a mention (readBareManager judges it); a command has a verb.
    if (verb && !global && verb.text !== 'dlx' && !isNegatedAt(line, commandStart)) {
      managers.push({ line: line.number, manager: runner, start: commandStart, end: verb.start + verb.text.length, verb: verb.text, cwd });
    }
  }
  if (!verb || isNegatedAt(line, commandStart)) {
    return;
  }
  const claim = (script: { text: string; start: number }, extraScope = false) => {
    if (isPlaceholder(script.text)) {
      return;
    }
    scripts.push({ line: line.number, runner: runner as ScriptClaim['runner'], script: script.text, start: script.start, scoped: scoped || extraScope, cwd: scopeDir ?? cwd, command: commandText, commandStart });
  };
  switch (runner) {
    case 'make':
      for (const target of command.slice(index)) {
        if (!target.text.includes('=') && !target.text.startsWith('-')) {
          claim(target);
        }
      }
      return;
    case 'npm':
      if (verb.text === 'run' || verb.text === 'run-script' || verb.text === 'rum' || verb.text === 'urn') {
        const script = command[index + 1];
        if (script && !script.text.startsWith('-')) {
          claim(script);
        }
      } else if (verb.text === 'test' || verb.text === 't' || verb.text === 'tst') {
        claim({ text: 'test', start: verb.start });
      } else if (verb.text === 'stop' || verb.text === 'restart') {
        claim(verb);
      }
      return;
    case 'yarn':
      if (verb.text === 'workspace') {
        const script = command[index + 2];
        if (script && !yarnBuiltins.has(script.text)) {
          claim(script, true);
        }
      } else {
        readNamedScript(command, index, yarnBuiltins, claim);
      }
      return;
    case 'pnpm':
      readNamedScript(command, index, pnpmBuiltins, claim);
      return;
    case 'bun':
      if (verb.text === 'run') {
        const script = command[index + 1];
        // `bun run src/index.ts` runs a file, not a script.
        if (script && !script.text.startsWith('-') && !/[./]/.test(script.text.replace(/:/g, ''))) {
          claim(script);
        }
      } else if (!bunBuiltins.has(verb.text) && !/[./]/.test(verb.text)) {
        claim(verb);
      }
      return;
  }
}

function readNamedScript(command: ReadonlyArray<{ text: string; start: number }>, index: number, builtins: ReadonlySet<string>, claim: (script: { text: string; start: number }) => void): void {
  const verb = command[index]!;
  if (verb.text === 'run' || verb.text === 'run-script') {
    const script = command[index + 1];
    if (script && !script.text.startsWith('-')) {
      claim(script);
    }
  } else if (verb.text === 'test' || verb.text === 't' || verb.text === 'tst') {
    claim({ text: 'test', start: verb.start });
  } else if (!builtins.has(verb.text)) {
    claim(verb);
  }
}

function isPlaceholder(text: string): boolean {
  return /[<>{}$*[\]"'`]|\.\.\./.test(text) || text.length === 0;
}

/** `pnpm` alone in a span, when the clause asserts it ("Use `pnpm`"). */
function readBareManager(line: PromptLine, text: string, start: number, managers: ManagerClaim[]): void {
  if ((text === 'npm' || text === 'pnpm' || text === 'yarn' || text === 'bun') && isAssertedAt(line, start)) {
    managers.push({ line: line.number, manager: text, start, end: start + text.length, verb: undefined, cwd: undefined });
  }
}

/** "uses **yarn**" in prose. */
function readBoldManager(line: PromptLine, managers: ManagerClaim[]): void {
  if (line.inFence) {
    return;
  }
  for (const match of line.text.matchAll(/(\*\*|__)(npm|pnpm|yarn|bun)\1/gi)) {
    const start = match.index + match[1]!.length;
    if (isAssertedAt(line, match.index)) {
      managers.push({ line: line.number, manager: match[2]!.toLowerCase() as PackageManager, start, end: start + match[2]!.length, verb: undefined, cwd: undefined });
    }
  }
}

const knownFileExtensions = /\.(md|mdx|txt|json|jsonc|json5|ya?ml|toml|ini|lock|ts|tsx|mts|cts|js|jsx|mjs|cjs|py|rs|go|java|kt|rb|php|cs|c|h|cc|cpp|hpp|swift|sh|bash|zsh|ps1|css|scss|html|vue|svelte|sql|proto|graphql|xml|csv|env|cfg|conf|gradle|mk)$/i;

/** A code span that may name a path, normalised (`./src/` → `src/`), or undefined. */
export function pathCandidate(text: string): string | undefined {
  const trimmed = text.replace(/[:,;]+$/, '');
  // Placeholders (`test-XX-name/`, `your-file.ts`) name no real path.
  if (/X{2,}|\byour[-_]|[-_]name\b|\bfoo\b|\bexample[-_]/.test(trimmed)) {
    return undefined;
  }
  if (/\s/.test(trimmed) || /[*?{}<>$%|\\"'()[\]=`!#&^~]/.test(trimmed) || /^[-@/~.]?$/.test(trimmed) || /^[-@/~]/.test(trimmed) || /^[a-z][a-z0-9+.-]*:/i.test(trimmed)) {
    return undefined;
  }
  const normalised = trimmed.replace(/^(\.\/)+/, '');
  if (normalised.startsWith('../') || /^\.[A-Za-z0-9]+$/.test(normalised) && !normalised.includes('/') && !knownDotFiles.has(normalised)) {
    return undefined; // `.exe`, `.node`: an extension, not a file
  }
  if (/^v?\d+(\.\d+)*$/.test(normalised) || normalised === '' || normalised === '.') {
    return undefined;
  }
  const segments = normalised.replace(/\/+$/, '').split('/');
  if (segments.length === 1 && !normalised.endsWith('/') && !knownFileExtensions.test(normalised) && !knownDotFiles.has(normalised)) {
    return undefined; // `release-it`, `linuxstatic`: a word, not a path
  }
  return normalised;
}

const knownDotFiles = new Set(['.nvmrc', '.node-version', '.gitignore', '.npmrc', '.editorconfig', '.prettierrc', '.eslintrc', '.cursorrules', '.env.example', '.github', '.vscode', '.claude', '.cursor']);

function referenceCandidate(target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('/')) {
    return undefined;
  }
  let decoded = target.split('#')[0]!.split('?')[0]!;
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    return undefined;
  }
  const normalised = decoded.replace(/^(\.\/)+/, '');
  return normalised && !normalised.startsWith('../') && !normalised.includes('\0') ? normalised : undefined;
}

function isProtectingLine(text: string): boolean {
  return /\b(never|don'?t|do not|must not|should not|shouldn'?t)\b[^.]*\b(edit|modify|touch|change|write|commit|delete)\b/i.test(text);
}

function addTopicCommand(line: PromptLine, text: string, start: number, topics: Map<CommandTopic, TopicClaim[]>): void {
  if (!/^(npm|pnpm|yarn|bun|make|npx|cargo|go|python|uv|poetry|just|task|gradle|\.\/gradlew|mvn|tsc|vitest|jest)\b/.test(text)) {
    return;
  }
  const label = /^\s*(?:[-*]|\d+\.)?\s*\**\s*([A-Za-z][A-Za-z ]*?)\s*\**\s*:/.exec(line.text)?.[1]?.toLowerCase();
  const words = text.split(/\s+/);
  const script = words[1] === 'run' ? words[2] : words[1];
  for (const topic of commandTopics) {
    const labelled = label !== undefined && (label === topic || label.startsWith(`${topic} `) || (topic === 'test' && /^(tests?|run tests|test all)$/.test(label)));
    const named = script !== undefined && script.split(':')[0] === topic && label === undefined;
    if (labelled || named) {
      const list = topics.get(topic) ?? [];
      list.push({ line: line.number, value: text, start });
      topics.set(topic, list);
      return;
    }
  }
}

const runtimePattern = /\bnode(?:\.js|js)?\s+(?:version\s+)?(>=|≥|>|\^|~)?\s*v?(\d{1,2})(?:\.(\d+))?(?:\.(?:\d+|x))?(\+|\.x|\s+or\s+(?:later|newer|higher|above))?/gi;

function readRuntimes(line: PromptLine): RuntimeClaim[] {
  const claims: RuntimeClaim[] = [];
  for (const match of line.text.matchAll(runtimePattern)) {
    const after = line.text.slice(match.index + match[0].length, match.index + match[0].length + 40);
    if (/^\s*(is|are)?\s*(not|no longer|unsupported|deprecated|dropped)\b/i.test(after) || isNegatedAt(line, match.index)) {
      continue;
    }
    const numberText = match[2]!;
    const start = match.index + match[0].indexOf(numberText, match[1] ? match[0].indexOf(match[1]) : 4);
    const versionText = /\d+(?:\.\d+)?/.exec(line.text.slice(start))![0];
    claims.push({
      line: line.number,
      atLeast: Boolean(match[1] && match[1] !== '~') || Boolean(match[4] && match[4] !== '.x'),
      major: Number(numberText),
      minor: match[3] !== undefined ? Number(match[3]) : undefined,
      start,
      end: start + versionText.length,
      text: match[0].trim(),
    });
  }
  return claims;
}

export const knownFormatters = ['prettier', 'biome', 'dprint', 'black', 'ruff', 'rustfmt', 'gofmt', 'clang-format', 'standard'];

function readFormatters(line: PromptLine): TopicClaim[] {
  const claims: TopicClaim[] = [];
  for (const match of line.text.matchAll(/\b(prettier|biome|dprint|black|ruff|rustfmt|gofmt|clang-format)\b/gi)) {
    if (!isNegatedAt(line, match.index) && (/\bformat/i.test(line.text) || /\b(use|uses|using|rely on|via)\b/i.test(line.text))) {
      claims.push({ line: line.number, value: match[1]!.toLowerCase(), start: match.index });
    }
  }
  return claims;
}
