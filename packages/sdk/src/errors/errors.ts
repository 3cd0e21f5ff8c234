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
  declare readonly status: number;
  declare readonly code: string;
  declare readonly details?: unknown;
  declare readonly retryAfterMs: number | null;
  constructor(
    status: number,
    code: string,
    message: string,
    details?: unknown,
    retryAfterMs: number | null = null,
  ) {
    super(message);
    Object.assign(this, { status, code, details, retryAfterMs });
  }

  /** Builds the error from a failed response, whatever its body. */
  static async from(response: Response): Promise<JobTrackerHttpError> {
    const { status, headers } = response;
    const error = await response.json().then(
      (body: Partial<ErrorBody> | null) => body?.error,
      () => undefined, // not JSON: keep the status
    );
    const text = (value: unknown, otherwise: string) => (typeof value === 'string' ? value : otherwise);
    // Retry-After: a number of seconds or an HTTP date; null when absent or unreadable.
    const after = headers.get('retry-after');
    const ms = after?.trim()
      ? Number.isFinite(+after)
        ? +after * 1000
        : Math.max(0, Date.parse(after) - Date.now())
      : Number.NaN;
    return new JobTrackerHttpError(
      status,
      text(error?.code, `http_${status}`),
      text(error?.message, `The job API answered ${status}.`),
      error?.details,
      ms >= 0 ? ms : null,
    );
  }
}

/** The API could not be reached (offline, DNS, connection refused or reset, aborted). */
export class JobTrackerNetworkError extends JobTrackerError {
  override name = 'JobTrackerNetworkError';
}
