import type { DriftDiagnostic, PackageManager } from './driftTypes';
import { formatFloor, isBelow, rangeAllowsMajor, rangeFloor } from './nodeRange';
import type { ManagerClaim, PathClaim, PromptClaims, RuntimeClaim, ScriptClaim } from './promptClaims';
import { joinPath, parentFolder, type RepositoryView } from './repositoryView';

// A prompt file against the repository it describes: paths it names that are not there,
// scripts and make targets its commands run that package.json or the Makefile lack, a package
// manager the lockfile contradicts, a Node.js version .nvmrc or engines.node contradicts.

export function checkAgainstRepository(claims: PromptClaims, repo: RepositoryView): DriftDiagnostic[] {
  const folder = parentFolder(claims.path);
  return [
    ...claims.paths.flatMap((claim) => checkPath(claims.path, folder, claim, repo)),
    ...claims.scripts.flatMap((claim) => checkScript(claims.path, folder, claim, repo)),
    ...claims.managers.flatMap((claim) => checkManager(claims.path, folder, claim, repo)),
    ...claims.runtimes.flatMap((claim) => checkRuntime(claims.path, folder, claim, repo)),
  ];
}

function checkPath(file: string, folder: string, claim: PathClaim, repo: RepositoryView): DriftDiagnostic[] {
  const named = claim.path;
  const candidates = [...new Set([joinPath(folder, named), named])];
  if (candidates.some((candidate) => repo.exists(candidate) || repo.isExcluded(candidate))) {
    return [];
  }
  const segments = named.replace(/\/+$/, '').split('/');
  const last = segments.at(-1)!;
  if (segments.length === 1) {
    if (repo.filesNamed(named).length > 0 || !repo.complete) {
      return []; // a file named by its name alone (`utils.js`): any folder will do
    }
  } else {
    const firstExists = [folder, ''].some((base) => repo.folders.has(joinPath(base, segments[0]!)));
    // `owner/repo`, `text/html`: not a path unless it looks like one.
    if (!firstExists && !named.endsWith('/') && !/\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(last)) {
      return [];
    }
  }
  const replacement = suggestPath(named, repo);
  return [
    {
      path: file,
      line: claim.line,
      code: 'missing-path',
      severity: 'warning',
      message: `${file} names ${named}, which does not exist in the repository${replacement ? ` (${replacement} does)` : ''}.`,
      range: { start: claim.start, end: claim.start + named.length },
      ...(replacement ? { fix: { title: `Replace with ${replacement}`, start: claim.start, end: claim.start + named.length, newText: replacement } } : {}),
    },
  ];
}

/** The same name elsewhere, or the same stem beside it (`lib/index.js` → `lib/index.ts`). */
function suggestPath(named: string, repo: RepositoryView): string | undefined {
  const trimmed = named.replace(/\/+$/, '');
  const folder = parentFolder(trimmed);
  const stem = trimmed.slice(folder ? folder.length + 1 : 0).replace(/\.[^.]+$/, '');
  const siblings = repo.filesIn(folder).filter((file) => file.slice(folder ? folder.length + 1 : 0).replace(/\.[^.]+$/, '') === stem);
  if (siblings.length === 1) {
    return siblings[0];
  }
  const sameName = repo.filesNamed(named.slice(named.replace(/\/+$/, '').lastIndexOf('/') + 1));
  return sameName.length === 1 ? `${sameName[0]}${named.endsWith('/') ? '/' : ''}` : undefined;
}

/** Binaries `pnpm x` / `yarn x` run when no script is called x, by the package that ships them. */
const binaryPackages: Readonly<Record<string, string>> = { tsc: 'typescript', biome: '@biomejs/biome', vitest: 'vitest', jest: 'jest', eslint: 'eslint', prettier: 'prettier', tsx: 'tsx', playwright: '@playwright/test', vite: 'vite', next: 'next', turbo: 'turbo', nx: 'nx', lerna: 'lerna', changeset: '@changesets/cli' };

function checkScript(file: string, folder: string, claim: ScriptClaim, repo: RepositoryView): DriftDiagnostic[] {
  const commandFolder = claim.cwd ? normaliseFolder(joinPath(folder, claim.cwd)) : folder;
  const range = { start: claim.start, end: claim.start + claim.script.length };
  if (claim.runner === 'make') {
    const makefile = claim.cwd ? (repo.makeTargets.has(commandFolder) ? { folder: commandFolder, value: repo.makeTargets.get(commandFolder)! } : undefined) : repo.nearest(commandFolder, (current) => repo.makeTargets.get(current));
    if (!makefile) {
      return [{ path: file, line: claim.line, code: 'missing-make-target', severity: 'warning', message: `${file} runs \`make ${claim.script}\`, but there is no Makefile${commandFolder ? ` in ${commandFolder}` : ''}.`, range }];
    }
    if (makefile.value.has(claim.script)) {
      return [];
    }
    const closest = closestName(claim.script, makefile.value);
    return [
      {
        path: file,
        line: claim.line,
        code: 'missing-make-target',
        severity: 'warning',
        message: `${file} runs \`make ${claim.script}\`, but ${joinPath(makefile.folder, 'Makefile')} has no target "${claim.script}"${closest ? ` (it has "${closest}")` : ''}.`,
        range,
        ...(closest ? { fix: { title: `Replace with make ${closest}`, start: range.start, end: range.end, newText: closest } } : {}),
      },
    ];
  }
  const packages = claim.scoped ? [...repo.packages.values()] : [repo.nearest(commandFolder, (current) => repo.packages.get(current))?.value].filter((info) => info !== undefined);
  if (packages.length === 0) {
    return claim.scoped || !repo.complete ? [] : [{ path: file, line: claim.line, code: 'missing-script', severity: 'warning', message: `${file} runs \`${claim.command}\`, but there is no package.json${commandFolder ? ` in ${commandFolder} or above` : ''}.`, range }];
  }
  const runsBinaries = claim.runner !== 'npm';
  const found = packages.some((info) => info.scripts.has(claim.script) || (runsBinaries && (info.dependencies.has(claim.script) || info.dependencies.has(binaryPackages[claim.script] ?? '\0'))));
  if (found || (claim.script === 'start' && claim.runner === 'npm')) {
    return [];
  }
  const owner = claim.scoped ? 'no package.json' : joinPath(packages[0]!.folder, 'package.json');
  const closest = closestName(claim.script, new Set(packages.flatMap((info) => [...info.scripts])));
  return [
    {
      path: file,
      line: claim.line,
      code: 'missing-script',
      severity: 'warning',
      message: `${file} runs \`${claim.command}\`, but ${owner} has no script "${claim.script}"${closest ? ` (it has "${closest}")` : ''}.`,
      range,
      ...(closest ? { fix: { title: `Replace with ${closest}`, start: range.start, end: range.end, newText: closest } } : {}),
    },
  ];
}

function checkManager(file: string, folder: string, claim: ManagerClaim, repo: RepositoryView): DriftDiagnostic[] {
  const commandFolder = claim.cwd ? normaliseFolder(joinPath(folder, claim.cwd)) : folder;
  const actual = repo.packageManagerAt(commandFolder);
  if (!actual || actual.manager === claim.manager) {
    return [];
  }
  const newText = translateCommand(claim.manager, actual.manager, claim.verb);
  return [
    {
      path: file,
      line: claim.line,
      code: 'package-manager',
      severity: 'warning',
      message: `${file} says ${claim.manager}, but the repository uses ${actual.manager} (${actual.evidence}).`,
      range: { start: claim.start, end: claim.end },
      fix: { title: `Replace with ${newText}`, start: claim.start, end: claim.end, newText },
    },
  ];
}

/** `npm install` in another manager's words. */
export function translateCommand(from: PackageManager, to: PackageManager, verb: string | undefined): string {
  if (verb === undefined) {
    return to;
  }
  const installs = from === 'npm' ? ['install', 'i', 'ci', 'add'] : ['install', 'i', 'add', 'a'];
  if (installs.includes(verb)) {
    // `npm install` alone installs; `npm install x` adds. The verb only: arguments stay.
    if (verb === 'ci') {
      return `${to} install`;
    }
    return `${to} ${to === 'npm' ? 'install' : verb === 'install' || verb === 'i' ? 'install' : 'add'}`;
  }
  return `${to} ${verb}`;
}

function checkRuntime(file: string, folder: string, claim: RuntimeClaim, repo: RepositoryView): DriftDiagnostic[] {
  const { pinned, engines } = repo.nodeRuntimeAt(folder);
  const range = { start: claim.start, end: claim.end };
  const stated = { major: claim.major, minor: claim.minor ?? 0 };
  const floor = engines ? rangeFloor(engines.range) : undefined;
  if (engines && floor) {
    const contradicts = claim.atLeast ? isBelow(stated, floor) : rangeAllowsMajor(engines.range, claim.major) === false;
    if (contradicts) {
      const newText = formatFloor(floor);
      return [{ path: file, line: claim.line, code: 'runtime-version', severity: 'warning', message: `${file} says ${claim.text}, but ${engines.evidence} requires ${newText} or later.`, range, fix: { title: `Replace with ${newText}`, start: range.start, end: range.end, newText } }];
    }
  }
  if (pinned && claim.atLeast && pinned.major < claim.major) {
    const newText = String(pinned.major);
    return [{ path: file, line: claim.line, code: 'runtime-version', severity: 'warning', message: `${file} says ${claim.text}, but ${pinned.evidence} pins Node.js ${pinned.major}.`, range, fix: { title: `Replace with ${newText}`, start: range.start, end: range.end, newText } }];
  }
  return [];
}

function normaliseFolder(folder: string): string {
  const parts: string[] = [];
  for (const part of folder.split('/')) {
    if (part === '..') {
      parts.pop();
    } else if (part && part !== '.') {
      parts.push(part);
    }
  }
  return parts.join('/');
}

/** The existing name nearest `name` (edit distance, `:`/`-` alike), if near enough to be meant. */
export function closestName(name: string, names: ReadonlySet<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  const fold = (text: string) => text.toLowerCase().replace(/[-_:]/g, ':');
  // `test:unit` and `unit-test` are the same words.
  const words = (text: string) => fold(text).split(':').sort().join(':');
  for (const candidate of names) {
    const distance = fold(candidate) === fold(name) || words(candidate) === words(name) ? 0 : editDistance(fold(name), fold(candidate));
    if (!best || distance < best.distance) {
      best = { name: candidate, distance };
    }
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length]!;
}
