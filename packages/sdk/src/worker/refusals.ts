import { JobTrackerNetworkError } from '../errors/errors.js';

/**
 * The status and code of a refusal by the job API. Read from the error's fields rather than its class:
 * over HTTP it is a `JobTrackerHttpError`, in the server's own process the server's `ApiError`.
 */
function refusalOf(error: unknown): { status: number; code: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { status, code } = error as { status?: unknown; code?: unknown };
  return typeof status === 'number' && typeof code === 'string' ? { status, code } : null;
}

/** The job is no longer this worker's: cancelled, its lease lost, or gone. */
export function isGone(error: unknown): boolean {
  const refusal = refusalOf(error);
  if (!refusal) return false;
  const { status, code } = refusal;
  return status === 404 || (status === 409 && (code === 'lease_lost' || code === 'job_cancelled'));
}

/** Worth trying again: the API could not be reached or had a fault. */
export const isTransient = (error: unknown) =>
  error instanceof JobTrackerNetworkError || (refusalOf(error)?.status ?? 0) >= 500;

/** The API refused a handler's result (too large, not JSON). */
export function isRefusedResult(error: unknown): boolean {
  const status = refusalOf(error)?.status;
  return status === 413 || status === 422;
}
