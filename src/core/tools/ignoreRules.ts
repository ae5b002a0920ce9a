import * as path from 'node:path';
import * as fs from 'node:fs';
import ignore, { type Ignore, type TestResult } from 'ignore';
import { readRegularFileSync } from './regularFiles';

// git's exclude rules for one workspace folder, as git applies them: every .gitignore relative
// to its own folder, a deeper file over a shallower one, the last matching line of a file over
// earlier ones, `.git/info/exclude` under them all, and nothing inside an excluded folder
// re-included (git never looks inside it). A workspace opened at a subfolder of a repository
// gets the rules of the .gitignore files above it too; the folder itself, opened on purpose, is
// not taken as ignored, nor the folders above it (as ripgrep treats its start folder: opening
// `vendor/lib` of a repository that ignores `vendor/` shows lib's files). Matching is
// case-insensitive (the `ignore` default), as git's on a case-insensitive disk: a wider match
// only hides more.

/** Rules files change rarely; each is re-read at most this often. */
const reloadAfterMs = 5000;
const maxRulesFileBytes = 1024 * 1024;
/** How far up from the workspace folder to look for the repository's `.git`. */
const maxRepositoryDepth = 64;

interface Loaded<T> {
  readonly value: T;
  readonly loadedMs: number;
}

interface RulesFile {
  readonly matcher: Ignore;
  readonly text: string;
}

interface Repository {
  /** The folder holding `.git` (the workspace folder itself when there is no repository). */
  readonly root: string;
  /** Segments from `root` down to the workspace folder (empty when they are the same). */
  readonly prefix: readonly string[];
  readonly exclude: RulesFile | undefined;
}

export class IgnoreRules {
  private readonly rulesByFolder = new Map<string, Loaded<RulesFile | undefined>>();
  private repositoryRules: Loaded<Repository> | undefined;

  constructor(
    private readonly workspaceRoot: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True if git would ignore `relative` (forward slashes) or any folder on the way to it. */
  ignores(relative: string, isDirectory: boolean): boolean {
    const segments = relative.split('/');
    for (let depth = 1; depth <= segments.length; depth++) {
      if (this.decide(segments.slice(0, depth), depth < segments.length || isDirectory)) {
        return true;
      }
    }
    return false;
  }

  /** The same for an entry of a folder already known not to be ignored (a walk's step). */
  ignoresEntry(relative: string, isDirectory: boolean): boolean {
    return this.decide(relative.split('/'), isDirectory);
  }

  private decide(workspaceSegments: readonly string[], isDirectory: boolean): boolean {
    const repository = this.repository();
    const segments = [...repository.prefix, ...workspaceSegments];
    const slash = isDirectory ? '/' : '';
    // The folder holding the path first, then each folder above it.
    for (let depth = segments.length - 1; depth >= 0; depth--) {
      const rules = this.rulesIn(path.join(repository.root, ...segments.slice(0, depth)));
      const verdict = rules && verdictOf(rules, segments.slice(depth), slash);
      if (verdict?.ignored) {
        return true;
      }
      if (verdict?.unignored) {
        return false;
      }
    }
    return repository.exclude ? verdictOf(repository.exclude, segments, slash).ignored : false;
  }

  private rulesIn(folder: string): RulesFile | undefined {
    const cached = this.rulesByFolder.get(folder);
    if (cached && this.now() - cached.loadedMs < reloadAfterMs) {
      return cached.value;
    }
    const value = readRules(path.join(folder, '.gitignore'));
    this.rulesByFolder.set(folder, { value, loadedMs: this.now() });
    return value;
  }

  private repository(): Repository {
    if (this.repositoryRules && this.now() - this.repositoryRules.loadedMs < reloadAfterMs) {
      return this.repositoryRules.value;
    }
    const found = findRepository(this.workspaceRoot);
    const value: Repository = found
      ? { root: found.root, prefix: path.relative(found.root, this.workspaceRoot).split(path.sep).filter(Boolean), exclude: readRules(path.join(found.commonDir, 'info', 'exclude')) }
      : { root: this.workspaceRoot, prefix: [], exclude: undefined };
    this.repositoryRules = { value, loadedMs: this.now() };
    return value;
  }
}

/** The rules of one file, or undefined if it is missing, not a regular file, or too big. */
function readRules(file: string): RulesFile | undefined {
  const text = readSmallText(file, maxRulesFileBytes);
  return text === undefined ? undefined : { matcher: ignore().add(text), text };
}

/**
 * What one rules file says of `segments` (relative to its folder), given that every folder on
 * the way is not ignored (the callers check top-down). `ignore` passes a folder's exclusion down
 * to everything in it; when this file excludes a folder that a deeper file re-included, git
 * went into that folder anyway, so the path is tested again with those folders re-included.
 */
function verdictOf(rules: RulesFile, segments: readonly string[], slash: string): TestResult {
  const target = segments.join('/') + slash;
  const verdict = rules.matcher.test(target);
  if (!verdict.ignored || segments.length < 2) {
    return verdict;
  }
  const folders = segments.slice(0, -1).map((_, index) => segments.slice(0, index + 1).join('/'));
  if (!folders.some((folder) => rules.matcher.test(`${folder}/`).ignored) || folders.some((folder) => /[\r\n]/.test(folder))) {
    return verdict;
  }
  return ignore()
    .add(rules.text)
    .add(folders.map((folder) => `!/${escapeGlob(folder)}/`))
    .test(target);
}

/** A literal path as a gitignore pattern. */
function escapeGlob(literal: string): string {
  return literal.replace(/[\\*?[\]!#]/g, '\\$&').replace(/ +$/, (spaces) => spaces.replace(/ /g, '\\ '));
}

function readSmallText(file: string, maxBytes: number): string | undefined {
  try {
    // Symlinks are followed: the rules are never output, and more rules only hide more.
    const read = readRegularFileSync(file, maxBytes, { noFollow: false });
    return read.kind === 'read' ? read.bytes.toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The repository the workspace folder is in: the nearest folder up with a `.git` folder, or a
 * `.git` file (a linked worktree or submodule: `gitdir: …`, whose `commondir` holds info/exclude).
 */
function findRepository(start: string): { root: string; commonDir: string } | undefined {
  let folder = start;
  for (let level = 0; level < maxRepositoryDepth; level++) {
    const dotGit = path.join(folder, '.git');
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(dotGit);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) {
      return { root: folder, commonDir: dotGit };
    }
    if (stat?.isFile()) {
      const gitDirLine = /^gitdir:\s*(.+?)\s*$/m.exec(readSmallText(dotGit, 4096) ?? '')?.[1];
      if (gitDirLine) {
        const gitDir = path.resolve(folder, gitDirLine);
        const common = readSmallText(path.join(gitDir, 'commondir'), 4096)?.trim();
        return { root: folder, commonDir: common ? path.resolve(gitDir, common) : gitDir };
      }
    }
    const parent = path.dirname(folder);
    if (parent === folder) {
      return undefined;
    }
    folder = parent;
  }
  return undefined;
}
