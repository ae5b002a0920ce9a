// The HTTP attempts of one model call, as the SDK makes them (first try and its own retries).
// The SDK keeps only the last error; when a cancel or the wall-time cap lands while it waits out
// a `retry-after`, the 429 or 529 that caused the wait would be lost. A per-request middleware
// sees every attempt's status line, so the failure can name the cause and its request id.
import type { Middleware } from '@anthropic-ai/sdk';

export interface AttemptRecord {
  readonly status: number;
  /** The response's request-id header. */
  readonly requestId: string | null;
  /** The response's retry-after header, as sent (seconds). */
  readonly retryAfter: string | null;
}

export class AttemptTrail {
  readonly attempts: AttemptRecord[] = [];

  readonly middleware: Middleware = async (request, next) => {
    const response = await next(request);
    this.attempts.push({ status: response.status, requestId: response.headers.get('request-id'), retryAfter: response.headers.get('retry-after') });
    return response;
  };

  /** The newest attempt, if it failed with a status the SDK retries (408, 409, 429, 5xx). */
  get lastRetryable(): AttemptRecord | null {
    const last = this.attempts.at(-1);
    return last && (last.status === 408 || last.status === 409 || last.status === 429 || last.status >= 500) ? last : null;
  }
}
