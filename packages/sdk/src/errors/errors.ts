import type { ErrorBody } from '../wire.js';

/** Base class of every error the SDK throws. */
export class JobTrackerError extends Error {
  override name = 'JobTrackerError';
}

/**
 * The API answered with an error status. `code` is the API's error code (e.g. `not_found`,
 * `lease_lost`); `retryAfterMs` is how long the API asked to wait before trying again (a 429, or a 503
 * while its database is out of reach), when it said.
 */
export class JobTrackerHttpError extends JobTrackerError {
  override name = 'JobTrackerHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }

  /** Builds the error from a failed response, whatever its body. */
  static async from(response: Response): Promise<JobTrackerHttpError> {
    let body: Partial<ErrorBody> | null = null;
    try {
      body = (await response.json()) as Partial<ErrorBody>;
    } catch {
      // not JSON: keep the status
    }
    const error = body?.error;
    return new JobTrackerHttpError(
      response.status,
      typeof error?.code === 'string' ? error.code : `http_${response.status}`,
      typeof error?.message === 'string' ? error.message : `The job API answered ${response.status}.`,
      error?.details,
      retryAfterMsOf(response.headers.get('retry-after')),
    );
  }
}

/** `Retry-After` as milliseconds: a number of seconds or an HTTP date; null when absent or unreadable. */
function retryAfterMsOf(header: string | null): number | null {
  if (!header?.trim()) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** The API could not be reached (offline, DNS, connection refused or reset, aborted). */
export class JobTrackerNetworkError extends JobTrackerError {
  override name = 'JobTrackerNetworkError';
}
