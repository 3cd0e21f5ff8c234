import type { Job, JsonValue } from '../wire.js';

/** A job handed to this worker by `claim`, with the lease that fences every later write. */
export interface ClaimedJob {
  /** The job as it is now: `running`, with `attempt` already counting this run. */
  job: Job;
  /** The user the job belongs to. */
  ownerId: string;
  /** The job's input, as its owner created it. */
  input: JsonValue | null;
  /** Send it with every write; a write with a stale token answers 409 `lease_lost`. */
  leaseToken: string;
  /** When the lease runs out unless a heartbeat or progress extends it (ISO-8601, as the API sends it). */
  leaseExpiresAt: string;
}

/** What `claim` asks for. */
export interface ClaimRequest {
  /** Job types this worker runs (1–50). */
  types: readonly string[];
  /** Names this worker in the job's record; the server defaults to `worker`. */
  workerId?: string;
  /** Lease length in ms (1,000–3,600,000); the server's default applies when omitted. */
  leaseMs?: number;
  /** Wait up to this long (0–30,000 ms) for a job when none is pending: a long poll. */
  waitMs?: number;
}

/** A progress report: any of the fields may be left out. */
export interface ProgressUpdate {
  /** 0..100, or `null` while indeterminate; never lower than the current value within an attempt. */
  progress?: number | null;
  /** The latest progress message, plain text for the job's owner. */
  message?: string | null;
  /** Extends the lease by this long from now. */
  leaseMs?: number;
}

/** One job's part of `progressMany`. */
export interface BatchProgressUpdate extends ProgressUpdate {
  id: string;
  leaseToken: string;
}

/** What became of one update of `progressMany`: the job's new version, or why it was refused. */
export type BatchProgressResult =
  | { id: string; version: number }
  | { id: string; error: { status: number; code: string; message: string } };

/** How a job failed, as its owner will see it. */
export interface FailureReport {
  /** Shown to the job's owner: never put internal details here. */
  message: string;
  code?: string;
  /** Whether starting the job again may succeed. */
  retryable?: boolean;
}

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
  ): Promise<{ leaseExpiresAt: string }>;
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
