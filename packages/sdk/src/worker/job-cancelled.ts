import { JobTrackerHttpError } from '../errors/errors.js';

/**
 * The job's owner cancelled it: stop the work. A reporter's `signal` aborts with it, whether it learned
 * of the cancel from the worker event stream or from a write the API refused with 409 `job_cancelled`
 * (that refusal is its `cause`). It is the API's refusal in every way (`status` 409, `code`
 * `job_cancelled`), so code that checks a `JobTrackerHttpError`'s code handles both alike.
 */
export class JobCancelledError extends JobTrackerHttpError {
  override name = 'JobCancelledError';
  /** The cancelled job's id. */
  declare readonly jobId: string;
  /** `cause`: the API's 409 `job_cancelled` refusal, when that is how the cancel was learned. */
  constructor(jobId: string, options: { cause?: unknown } = {}) {
    super(409, 'job_cancelled', `The job ${jobId} was cancelled by its owner; stop working on it.`);
    Object.defineProperty(this, 'jobId', { value: jobId, enumerable: true });
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, configurable: true, writable: true });
    }
  }
}
