import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkspaceFiles } from '../tools/workspaceFiles';
import { isPromptFile, type PromptSource } from './promptSources';
import type { PackageManager } from './driftTypes';

// What the drift checks know of the repository: its files (the workspace tools' walk, so
// ignored and secret files stay unseen), package.json scripts and engines, Makefile targets,
// lockfiles and .nvmrc, per folder.

export interface PackageInfo {
  readonly folder: string;
  readonly scripts: ReadonlySet<string>;
  readonly enginesNode: string | undefined;
  /** The manager named by package.json's `packageManager` field (`pnpm@9.1.0`). */
  readonly packageManager: PackageManager | undefined;
  /** Dependency names: `pnpm vitest` and `yarn tsc` run their binaries when no script has the name. */
  readonly dependencies: ReadonlySet<string>;
}

export const lockfileManagers: ReadonlyArray<readonly [string, PackageManager]> = [
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
];

const makefileNames = ['GNUmakefile', 'makefile', 'Makefile'];
const maxWalkedFiles = 20_000;

export interface RepositoryOptions {
  readonly signal?: AbortSignal;
}

export class RepositoryView {
  // Indexes for the path checks, which ask per claim: by last segment, and by folder.
  private readonly byName = new Map<string, string[]>();
  private readonly byFolder = new Map<string, string[]>();

  private constructor(
    private readonly workspace: WorkspaceFiles,
    readonly files: ReadonlySet<string>,
    readonly folders: ReadonlySet<string>,
    readonly promptFiles: readonly PromptSource[],
    readonly packages: ReadonlyMap<string, PackageInfo>,
    readonly makeTargets: ReadonlyMap<string, ReadonlySet<string>>,
    /** False when the walk stopped at its cap: a path not seen may still exist. */
    readonly complete: boolean,
  ) {
    const index = (map: Map<string, string[]>, key: string, value: string) => {
      const list = map.get(key);
      if (list) {
        list.push(value);
      } else {
        map.set(key, [value]);
      }
    };
    for (const entry of [...files, ...folders]) {
      if (entry) {
        index(this.byName, entry.slice(entry.lastIndexOf('/') + 1), entry);
      }
    }
    for (const file of files) {
      index(this.byFolder, parentFolder(file), file);
    }
  }

  /** The files directly in `folder`. */
  filesIn(folder: string): readonly string[] {
    return this.byFolder.get(folder) ?? [];
  }

  static async read(workspace: WorkspaceFiles, options: RepositoryOptions = {}): Promise<RepositoryView> {
    const files = new Set<string>();
    const folders = new Set<string>(['']);
    let complete = true;
    for await (const relative of workspace.walkFiles('.', options.signal)) {
      if (files.size >= maxWalkedFiles) {
        complete = false;
        break;
      }
      files.add(relative);
      for (let slash = relative.indexOf('/'); slash !== -1; slash = relative.indexOf('/', slash + 1)) {
        folders.add(relative.slice(0, slash));
      }
    }
    const read = (relative: string): string | undefined => {
      try {
        return workspace.readText(relative).text;
      } catch {
        return undefined;
      }
    };
    const promptFiles: PromptSource[] = [];
    const packages = new Map<string, PackageInfo>();
    const makeTargets = new Map<string, Set<string>>();
    for (const relative of files) {
      const folder = parentFolder(relative);
      const name = relative.slice(folder ? folder.length + 1 : 0);
      if (isPromptFile(relative)) {
        const text = read(relative);
        if (text !== undefined) {
          promptFiles.push({ path: relative, text });
        }
      } else if (name === 'package.json') {
        const info = parsePackageJson(folder, read(relative));
        if (info) {
          packages.set(folder, info);
        }
      } else if (makefileNames.includes(name)) {
        const targets = makeTargets.get(folder) ?? new Set<string>();
        for (const target of parseMakeTargets(read(relative) ?? '')) {
          targets.add(target);
        }
        makeTargets.set(folder, targets);
      }
    }
    return new RepositoryView(workspace, files, folders, promptFiles, packages, makeTargets, complete);
  }

  get root(): string {
    return this.workspace.folder;
  }

  /** True if `relative` names a file or folder in the workspace, seen by the walk or not. */
  exists(relative: string): boolean {
    const trimmed = relative.replace(/\/+$/, '');
    if (trimmed === '' || this.files.has(trimmed) || this.folders.has(trimmed)) {
      return true;
    }
    const absolute = path.resolve(this.root, trimmed);
    const inside = path.relative(this.root, absolute);
    return !inside.startsWith('..') && !path.isAbsolute(inside) && fs.existsSync(absolute);
  }

  /** Ignored, secret or skipped (build output, dependencies): not the checks' business. */
  isExcluded(relative: string): boolean {
    const trimmed = relative.replace(/\/+$/, '');
    return !this.workspace.isAllowed(trimmed, true) || !this.workspace.isAllowed(trimmed, false);
  }

  /** Files whose last segment is `name` (a prompt naming `utils.js` may mean any of them). */
  filesNamed(name: string): string[] {
    const trimmed = name.replace(/\/+$/, '');
    const pool = name.endsWith('/') ? this.folders : this.files;
    const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
    return (this.byName.get(last) ?? []).filter((candidate) => pool.has(candidate) && (candidate === trimmed || candidate.endsWith(`/${trimmed}`)));
  }

  /** The nearest folder at or above `folder` for which `has` holds, up to the root. */
  nearest<T>(folder: string, lookup: (folder: string) => T | undefined): { folder: string; value: T } | undefined {
    for (let current: string | undefined = folder; current !== undefined; current = current === '' ? undefined : parentFolder(current)) {
      const value = lookup(current);
      if (value !== undefined) {
        return { folder: current, value };
      }
    }
    return undefined;
  }

  /** The manager a folder's lockfiles and package.json name, with what says so. */
  packageManagerAt(folder: string): { manager: PackageManager; evidence: string } | undefined {
    return this.nearest(folder, (current) => {
      const declared = this.packages.get(current)?.packageManager;
      if (declared) {
        return { manager: declared, evidence: `${joinPath(current, 'package.json')} ("packageManager")` };
      }
      const found = lockfileManagers.filter(([name]) => this.files.has(joinPath(current, name)) || (!this.complete && this.exists(joinPath(current, name))));
      const managers = new Set(found.map(([, manager]) => manager));
      // Two managers' lockfiles in one folder say nothing certain.
      return managers.size === 1 ? { manager: found[0]![1], evidence: joinPath(current, found[0]![0]) } : undefined;
    })?.value;
  }

  /** The Node.js version a folder pins (.nvmrc, .node-version) and the engines range it declares. */
  nodeRuntimeAt(folder: string): { pinned?: { major: number; evidence: string }; engines?: { range: string; evidence: string } } {
    const pinned = this.nearest(folder, (current) => {
      for (const name of ['.nvmrc', '.node-version']) {
        const relative = joinPath(current, name);
        if (!this.files.has(relative)) {
          continue;
        }
        let text: string;
        try {
          text = this.workspace.readText(relative).text;
        } catch {
          continue;
        }
        const match = /^\s*v?(\d+)/.exec(text);
        if (match) {
          return { major: Number(match[1]), evidence: relative };
        }
      }
      return undefined;
    })?.value;
    const engines = this.nearest(folder, (current) => {
      const range = this.packages.get(current)?.enginesNode;
      return range ? { range, evidence: `${joinPath(current, 'package.json')} (engines.node "${range}")` } : undefined;
    })?.value;
    return { ...(pinned ? { pinned } : {}), ...(engines ? { engines } : {}) };
  }
}

export function parentFolder(relative: string): string {
  const slash = relative.lastIndexOf('/');
  return slash === -1 ? '' : relative.slice(0, slash);
}

export function joinPath(folder: string, name: string): string {
  return folder ? `${folder}/${name}` : name;
}

function parsePackageJson(folder: string, text: string | undefined): PackageInfo | undefined {
  if (text === undefined) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const record = value as Record<string, unknown>;
  const scripts = typeof record.scripts === 'object' && record.scripts !== null ? Object.keys(record.scripts) : [];
  const engines = typeof record.engines === 'object' && record.engines !== null ? (record.engines as Record<string, unknown>).node : undefined;
  const dependencies = new Set<string>();
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    const value = record[field];
    if (typeof value === 'object' && value !== null) {
      Object.keys(value).forEach((name) => dependencies.add(name));
    }
  }
  const manager = typeof record.packageManager === 'string' ? /^(npm|pnpm|yarn|bun)@/.exec(record.packageManager)?.[1] : undefined;
  return {
    folder,
    scripts: new Set(scripts),
    enginesNode: typeof engines === 'string' ? engines : undefined,
    packageManager: manager as PackageManager | undefined,
    dependencies,
  };
}

/** Rule targets of a Makefile (`name:` at the start of a line, not `name :=`), `.PHONY` lists too. */
export function parseMakeTargets(text: string): string[] {
  const targets: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const phony = /^\.PHONY\s*:(.*)$/.exec(line);
    if (phony) {
      targets.push(...phony[1]!.trim().split(/\s+/).filter(Boolean));
      continue;
    }
    const rule = /^([A-Za-z0-9_][A-Za-z0-9_.\-/ ]*?)\s*::?(?!=)/.exec(line);
    if (rule && !line.startsWith('\t')) {
      targets.push(...rule[1]!.split(/\s+/).filter(Boolean));
    }
  }
  return targets;
}
