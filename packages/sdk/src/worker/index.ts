/**
 * `@jobtracker/sdk/worker`: run jobs in a Node process of your own through the job API's worker routes
 * (`createWorker`), or report on jobs your own runner runs (`createReporter`). The same core runs jobs
 * inside the server (`tracker.runner`), so `JobFailure`, `JobContext` and `JobHandler` are one and the
 * same there.
 *
 * @module
 */
export { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
export {
  type BatchProgressResult,
  type BatchProgressUpdate,
  type ClaimedJob,
  type ClaimRequest,
  DEFAULT_LEASE_MS,
  type FailureReport,
  type Job,
  type JobError,
  type JsonValue,
  MAX_CLAIM_WAIT_MS,
  MAX_LEASE_MS,
  MIN_LEASE_MS,
  type ProgressUpdate,
  type ReportJobRequest,
  type ReportJobResponse,
  type WorkerCancelEvent,
} from '../wire.js';
export { createWorkerApi, type WorkerApiOptions } from './http-worker-api.js';
export { JobCancelledError } from './job-cancelled.js';
export { JobFailure } from './job-failure.js';
export type { JobContext, JobHandler } from './job-handler.js';
export {
  createJobRunner,
  DEFAULT_CLAIM_WAIT_MS,
  type HandleOptions,
  type JobRunner,
  type JobRunnerOptions,
} from './job-runner.js';
export {
  type CloseOptions,
  createReporter,
  type ReportedFailure,
  type Reporter,
  type ReporterOptions,
  type TrackedJob,
  type TrackRequest,
} from './reporter.js';
export { createWorker, type Worker, type WorkerOptions } from './worker.js';
export type { WorkerApi } from './worker-api.js';
