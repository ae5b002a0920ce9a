import { ResponseError } from 'vscode-languageserver/node';
import { CompactionErrorCode } from '../shared/compactionProtocol';

// The parameter checks the compaction and memory-panel requests share: a bad parameter is an
// `invalid` response error naming it, never a throw from deeper in.

export function invalid(message: string): ResponseError<void> {
  return new ResponseError(CompactionErrorCode.invalid, message);
}

export function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${name} expects an object`);
  }
  return value as Record<string, unknown>;
}

export function sessionIdOf(params: Record<string, unknown>): string {
  if (typeof params.sessionId !== 'string' || params.sessionId.length === 0 || params.sessionId.length > 200) {
    throw invalid('"sessionId" must be a non-empty string of at most 200 characters');
  }
  return params.sessionId;
}
