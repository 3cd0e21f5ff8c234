import type { FailureReport } from '../wire.js';

/** A failure whose message is meant for the job's owner. Other errors are reported and shown generically. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  /** A machine-readable reason, e.g. `file_too_large`. */
  readonly code: string | undefined;
  /** Whether starting the job again may succeed. */
  readonly retryable: boolean | undefined;
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/** What the owner sees of a failure that is not a `JobFailure`: nothing of its details. */
export const GENERIC_FAILURE: FailureReport = {
  message: 'The job failed unexpectedly.',
  code: 'internal_error',
  retryable: true,
};

/** The failure to record for what a handler threw. */
export const failureReportOf = (error: unknown): FailureReport =>
  error instanceof JobFailure
    ? { message: error.message, code: error.code, retryable: error.retryable }
    : GENERIC_FAILURE;
