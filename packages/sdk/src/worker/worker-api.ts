import type {
  BatchProgressResult,
  BatchProgressUpdate,
  ClaimedJob,
  ClaimRequest,
  FailureReport,
  HeartbeatResponse,
  Job,
  JsonValue,
  ProgressUpdate,
} from '../wire.js';

/**
 * The worker API, one method per route: over HTTP from {@link createWorkerApi}, in the server's own
 * process from its engine. A refusal rejects with an error carrying the HTTP `status` and the API's
 * `code` (e.g. 409 `lease_lost` or `job_cancelled`: stop working on that job): a `JobTrackerHttpError`
 * over HTTP, which also throws a `JobTrackerNetworkError` when the API cannot be reached. Aborting
 * `signal` rejects with its reason.
 */
export interface WorkerApi {
  /** Claims the oldest pending job of `types`, or answers `null` when none is pending after `waitMs`. */
  claim(request: ClaimRequest, signal?: AbortSignal): Promise<ClaimedJob | null>;
  /** Extends the lease by `leaseMs` (or the server's default) from now. */
  heartbeat(
    id: string,
    leaseToken: string,
    leaseMs?: number,
    signal?: AbortSignal,
  ): Promise<HeartbeatResponse>;
  /** Reports progress and extends the lease; answers the job as it is now. */
  progress(id: string, leaseToken: string, update: ProgressUpdate, signal?: AbortSignal): Promise<Job>;
  /**
   * Reports the progress of many jobs in one request (at most 1,000 updates): for a pool of workers that
   * report thousands of updates a second. Each update stands alone; one refused (e.g. `lease_lost`) is
   * answered in its result and does not stop the others. Updates of one job apply in the order given.
   */
  progressMany(updates: readonly BatchProgressUpdate[], signal?: AbortSignal): Promise<BatchProgressResult[]>;
  /** Completes the job with `result` (JSON, at most 16 KiB); answers the completed job. */
  complete(id: string, leaseToken: string, result?: JsonValue | null, signal?: AbortSignal): Promise<Job>;
  /** Fails the job; answers the failed job. */
  fail(id: string, leaseToken: string, failure: FailureReport, signal?: AbortSignal): Promise<Job>;
  /** Gives the job back (e.g. on shutdown): it is pending again and the attempt is not spent. */
  release(id: string, leaseToken: string, signal?: AbortSignal): Promise<Job>;
  /**
   * Calls `onLost` as soon as a claimed job stops running (cancelled, re-queued, finished), for an API
   * that learns it at once, as the server's in-process one does; answers a function that stops watching.
   * Without it a worker learns at the job's next heartbeat or progress report.
   */
  watch?(id: string, onLost: (reason: Error) => void): () => void;
}
