/**
 * `@jobtracker/sdk/worker`: run jobs in a Node process of your own through the job API's worker routes.
 *
 * @module
 */
export { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
export type { Job, JobError, JsonValue } from '../wire.js';
export {
  createWorker,
  type JobContext,
  JobFailure,
  type JobHandler,
  type Worker,
  type WorkerOptions,
} from './worker.js';
export {
  type BatchProgressResult,
  type BatchProgressUpdate,
  type ClaimedJob,
  type ClaimRequest,
  createWorkerApi,
  type FailureReport,
  type ProgressUpdate,
  type WorkerApi,
  type WorkerApiOptions,
} from './worker-api.js';
