import type { DriftDiagnostic, DriftFact, PackageManager } from './driftTypes';
import { packageManagers } from './driftTypes';
import { knownFormatters, type CommandTopic, type PromptClaims } from './promptClaims';

// Stored facts against the current prompt: a fact made (or last verified) under an older
// prompt version, and a fact that contradicts what the prompt says about the package manager,
// build/test/lint/format commands, the Node.js version, the formatter or paths not to touch.
// Facts come through `DriftFact`, whatever stores them.

type Topic = { kind: 'manager' } | { kind: 'command'; topic: CommandTopic } | { kind: 'runtime' } | { kind: 'formatter' } | { kind: 'editablePaths' };

/** What a fact's key is about, by the names facts use (`build.command`, `packageManager`). */
export function factTopic(key: string): Topic | undefined {
  const lower = key.toLowerCase();
  if (/(^|[._-])(package[._-]?manager|pm)$/.test(lower)) {
    return { kind: 'manager' };
  }
  const command = /(^|[._-])(build|test|lint|format|typecheck)[._-]?(command|cmd|script)$/.exec(lower);
  if (command) {
    return { kind: 'command', topic: command[2] as CommandTopic };
  }
  if (/(^|[._-])(runtime[._-]node|node([._-]?version)?|nodejs([._-]?version)?)$/.test(lower)) {
    return { kind: 'runtime' };
  }
  if (/(^|[._-])formatter$/.test(lower)) {
    return { kind: 'formatter' };
  }
  if (/(^|[._-])(editable|writable|allowed)[._-]?paths?$|paths?[._-](editable|writable|allowed)$/.test(lower)) {
    return { kind: 'editablePaths' };
  }
  return undefined;
}

export interface CurrentPrompt {
  readonly version: number;
  /** The first prompt file: where a fact with no line of its own is reported. */
  readonly firstFile: string | undefined;
}

export function checkFacts(facts: readonly DriftFact[], claims: readonly PromptClaims[], current: CurrentPrompt): DriftDiagnostic[] {
  const diagnostics: DriftDiagnostic[] = [];
  for (const fact of facts) {
    if (fact.status === 'retired') {
      continue;
    }
    const topic = factTopic(fact.key);
    const contradiction = topic ? findContradiction(fact, topic, claims) : undefined;
    if (contradiction) {
      diagnostics.push({ ...contradiction, code: 'fact-contradicts-prompt', severity: 'warning', factId: fact.id });
    }
    if (fact.promptVersion !== null && fact.promptVersion < current.version) {
      const place = (topic && topicLine(topic, claims)) ?? (current.firstFile ? { path: current.firstFile, line: 1 } : undefined);
      if (place) {
        diagnostics.push({
          ...place,
          code: 'fact-older-prompt',
          severity: 'warning',
          message: `The fact "${fact.key}" (${fact.value}) was made under prompt version ${fact.promptVersion}; the prompt is now at version ${current.version} and the fact was not verified since.`,
          factId: fact.id,
        });
      }
    }
  }
  return diagnostics;
}

type Found = Pick<DriftDiagnostic, 'path' | 'line' | 'message' | 'range'>;

function findContradiction(fact: DriftFact, topic: Topic, all: readonly PromptClaims[]): Found | undefined {
  const value = fact.value.trim();
  const said = (claims: PromptClaims, line: number, start: number, length: number, what: string): Found => ({
    path: claims.path,
    line,
    range: { start, end: start + length },
    message: `The fact "${fact.key}" says ${value}, but ${claims.path} says ${what}.`,
  });
  for (const claims of all) {
    switch (topic.kind) {
      case 'manager': {
        const manager: PackageManager | undefined = packageManagers.find((name) => new RegExp(`^${name}\\b`, 'i').test(value));
        const other = claims.managers.find((claim) => claim.cwd === undefined && claim.manager !== manager);
        if (manager && other && !claims.managers.some((claim) => claim.manager === manager)) {
          return said(claims, other.line, other.start, other.end - other.start, other.manager);
        }
        break;
      }
      case 'command': {
        const stated = claims.topicCommands.get(topic.topic) ?? [];
        const normal = (text: string) => text.replace(/\s+/g, ' ').trim();
        if (stated.length > 0 && !stated.some((claim) => normal(claim.value) === normal(value))) {
          const first = stated[0]!;
          return said(claims, first.line, first.start, first.value.length, `\`${first.value}\``);
        }
        break;
      }
      case 'runtime': {
        const major = Number(/\d+/.exec(value)?.[0]);
        const other = Number.isFinite(major) ? claims.runtimes.find((claim) => (claim.atLeast ? major < claim.major : major !== claim.major)) : undefined;
        if (other) {
          return said(claims, other.line, other.start, other.end - other.start, other.text);
        }
        break;
      }
      case 'formatter': {
        const named = knownFormatters.find((name) => value.toLowerCase().includes(name));
        const other = claims.formatters.find((claim) => claim.value !== named);
        if (named && other && !claims.formatters.some((claim) => claim.value === named)) {
          return said(claims, other.line, other.start, other.value.length, other.value);
        }
        break;
      }
      case 'editablePaths': {
        const paths = value.split(/[\s,]+/).map((entry) => entry.replace(/^\.\//, '')).filter(Boolean);
        const protectedPath = claims.protectedPaths.find((claim) => paths.some((entry) => entry.replace(/\/+$/, '') === claim.path.replace(/\/+$/, '') || entry.startsWith(claim.path.endsWith('/') ? claim.path : `${claim.path}/`)));
        if (protectedPath) {
          return said(claims, protectedPath.line, protectedPath.start, protectedPath.path.length, `not to touch ${protectedPath.path}`);
        }
        break;
      }
    }
  }
  return undefined;
}

/** The line where the prompt states a topic, for a fact whose version is old. */
function topicLine(topic: Topic, all: readonly PromptClaims[]): { path: string; line: number } | undefined {
  for (const claims of all) {
    const line =
      topic.kind === 'manager' ? claims.managers[0]?.line
      : topic.kind === 'command' ? claims.topicCommands.get(topic.topic)?.[0]?.line
      : topic.kind === 'runtime' ? claims.runtimes[0]?.line
      : topic.kind === 'formatter' ? claims.formatters[0]?.line
      : claims.protectedPaths[0]?.line;
    if (line !== undefined) {
      return { path: claims.path, line };
    }
  }
  return undefined;
}
