// Modules of the server that the repository's own tests and benchmarks reach into. Exported as
// `@jobtracker/server/internal` under the `jobtracker-source` condition only (plus its types), so a
// published install cannot load it; tests import it through `@jobtracker/test-support/server-internals`.
export { type Changes, type ClaimedJob, type CreateJobInput, JobEngine } from './engine/engine.js';
export { ApiError } from './http/errors.js';
export { listJobsQuery, progressBatchBody, progressBody } from './http/schemas.js';
export { toWireJob } from './jobs/job-record.js';
export { FEED_APPLICATION_NAME } from './storage/pg/pg-feed.js';
export { SqliteStore } from './storage/sqlite/sqlite-store.js';
export type { LiveEvent } from './stream/hub.js';
export { Mutex } from './util/mutex.js';
