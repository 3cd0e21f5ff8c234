/** A job claimed through the worker API, as `@jobtracker/sdk/wire` types it (one type for the SDK and the server). */
export type { ClaimedJob } from '@jobtracker/sdk/wire';
export { type AppOptions, createApp, createJobApi, type JobApp, VERSION } from './app/app.js';
export { JobTrackerConfigError } from './app/dev-mode.js';
export type { ErrorContext, LogLevel } from './app/log.js';
export { type RunningServer, type ServerOptions, startServer } from './app/server.js';
export {
  createJobTracker,
  DEFAULT_DB,
  type JobTracker,
  type JobTrackerOptions,
  openStore,
  redactDbUrl,
} from './app/tracker.js';
export { type Authenticate, DEV_OWNER } from './auth/auth.js';
export { signToken, TokenError, verifyToken } from './auth/jwt.js';
export { readConfig, USAGE } from './config/config.js';
export { registerDemoJobs } from './demo/demo-jobs.js';
export { type CreateJobInput, JobEngine, type JobEngineOptions } from './engine/engine.js';
export { ApiError } from './http/errors.js';
export type { JobRecord } from './jobs/job-record.js';
export {
  createRunner,
  type HandleOptions,
  type JobContext,
  JobFailure,
  type JobHandler,
  type JobRunner,
  type RunnerOptions,
} from './runner/runner.js';
export type { PgStoreOptions } from './storage/pg/pg-store.js';
export { SqliteStore } from './storage/sqlite/sqlite-store.js';
export type { ChangeFeed, JobStore, StoredEvent, StoreTransaction } from './storage/store.js';
export { withNodeStreams } from './stream/node-streams.js';
