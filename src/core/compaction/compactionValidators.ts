import { isCompactionTier } from './compactionTypes';

// Body checks of the compaction events, at the log boundary (events.ts calls them), so no reader
// meets a malformed compaction: a body that fails here is stored as `foreign` and ignored.

type Validator = (body: Record<string, unknown>) => string | undefined;

const maxSummary = 1024 * 1024;
const maxTrailItems = 20_000;
const maxItemText = 10_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const shortText = (value: unknown, max = 200): boolean => typeof value === 'string' && value.length > 0 && value.length <= max;
const seq = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 1;
const count = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

function rangeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) {
    return '"range" must be an object';
  }
  if (!seq(value.firstSeq) || !seq(value.lastSeq) || (value.lastSeq as number) < (value.firstSeq as number)) {
    return '"range" needs firstSeq ≤ lastSeq, both positive whole numbers';
  }
  if (!shortText(value.firstEventId) || !shortText(value.lastEventId)) {
    return '"range" needs firstEventId and lastEventId';
  }
  if (!seq(value.firstTurn) || !seq(value.lastTurn) || (value.lastTurn as number) < (value.firstTurn as number)) {
    return '"range" needs firstTurn ≤ lastTurn, both positive whole numbers';
  }
  return undefined;
}

function listOf(value: unknown, name: string, item: (entry: Record<string, unknown>) => boolean, shape: string): string | undefined {
  if (!Array.isArray(value) || value.length > maxTrailItems) {
    return `"trail.${name}" must be a list of at most ${maxTrailItems} items`;
  }
  return value.every((entry) => isRecord(entry) && item(entry)) ? undefined : `"trail.${name}" items must be ${shape}`;
}

function trailProblem(value: unknown): string | undefined {
  if (!isRecord(value)) {
    return '"trail" must be an object';
  }
  const note = (entry: Record<string, unknown>) => shortText(entry.text, maxItemText) && shortText(entry.eventId);
  return (
    listOf(value.files, 'files', (entry) => shortText(entry.path, 4096) && ['read', 'written', 'created', 'listed', 'searched'].includes(entry.action as string) && Array.isArray(entry.toolUseIds) && entry.toolUseIds.every((id) => shortText(id)), '{ path, action, toolUseIds }') ??
    listOf(value.commands, 'commands', (entry) => shortText(entry.command, maxItemText) && shortText(entry.toolUseId) && (entry.exitStatus === null || Number.isSafeInteger(entry.exitStatus)) && typeof entry.failed === 'boolean', '{ command, toolUseId, exitStatus, failed }') ??
    listOf(value.errors, 'errors', (entry) => (entry.source === 'tool' || entry.source === 'turn') && shortText(entry.ref) && shortText(entry.message, maxItemText), '{ source, ref, message }') ??
    listOf(value.decisions, 'decisions', note, '{ text, eventId }') ??
    listOf(value.openQuestions, 'openQuestions', note, '{ text, eventId }')
  );
}

export const compactionCommittedValidators: readonly Validator[] = [
  (body) => (typeof body.summary === 'string' && body.summary.trim().length > 0 && body.summary.length <= maxSummary ? undefined : `"summary" must be a non-empty string of at most ${maxSummary} characters`),
  (body) => rangeProblem(body.range),
  (body) => (body.tier === 'balanced' || body.tier === 'aggressive' ? undefined : '"tier" must be "balanced" or "aggressive" (full never compacts)'),
  (body) => (shortText(body.model) ? undefined : '"model" must name the model, or be "offline"'),
  (body) => (body.promptVersion === null || shortText(body.promptVersion) ? undefined : '"promptVersion" must be a string or null'),
  (body) => (typeof body.sourceDigest === 'string' && /^[0-9a-f]{64}$/.test(body.sourceDigest) ? undefined : '"sourceDigest" must be a SHA-256 in hex'),
  (body) => trailProblem(body.trail),
  (body) => (count(body.sessionVersion) ? undefined : '"sessionVersion" must be a whole number'),
  (body) => (count(body.sourceTokens) && count(body.summaryTokens) ? undefined : '"sourceTokens" and "summaryTokens" must be whole numbers'),
  (body) => (body.automatic === undefined || body.automatic === true ? undefined : '"automatic" must be true when present'),
];

export const compactionUndoneValidators: readonly Validator[] = [(body) => (shortText(body.compactionId) ? undefined : '"compactionId" must name a compaction.committed event')];

export const sessionTierSetValidators: readonly Validator[] = [(body) => (isCompactionTier(body.tier) ? undefined : '"tier" must be "full", "balanced" or "aggressive"')];
