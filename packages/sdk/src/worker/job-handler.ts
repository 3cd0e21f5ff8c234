import type { Job, JsonValue } from '../wire.js';

/** What a handler gets besides the job: its input, an abort signal, and a way to report progress. */
export interface JobContext {
  /** The job's input, as its owner created it. */
  input: JsonValue | null;
  /** 1 for the first run; higher when the job was re-queued after a worker was lost. */
  attempt: number;
  /**
   * Aborted when the job is cancelled, its lease is lost or the worker stops; stop work when it fires.
   * Once it is aborted nothing more is written for the job, whatever the handler returns or throws.
   */
  signal: AbortSignal;
  /**
   * Reports progress (0..100, or `null` while indeterminate; leave it `undefined` to keep the current
   * value) and an optional message; also extends the lease. Rejects once `signal` is aborted, and with
   * the API's error otherwise (e.g. 409 `progress_decreased`: a `JobTrackerHttpError` in a worker over
   * HTTP, the server's `ApiError` in its in-process runner).
   */
  progress(progress: number | null | undefined, message?: string): Promise<void>;
}

/**
 * Runs one job. What it returns (JSON, at most 16 KiB) becomes the job's `result`. Throw a
 * {@link JobFailure} to fail the job with a message for its owner; any other error is reported to
 * `onError` and the owner sees only a generic message.
 */
export type JobHandler = (
  job: Job,
  context: JobContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing at all.
) => Promise<JsonValue | undefined | void>;
