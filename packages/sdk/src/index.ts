export { jwtClaims, type TokenOption } from './auth/token.js';
export type { TerminalEvent } from './client/announcer.js';
export {
  createJobClient,
  type JobClient,
  type JobClientOptions,
  type JobEvent,
  type JobPage,
  type ListJobsInput,
  type StartJobInput,
} from './client/client.js';
export { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from './errors/errors.js';
export type { Fetch } from './http/http.js';
export type { KeyValueStorage } from './persist/storage.js';
export { isStalled, stalledFor } from './stall/stall.js';
export type { JobMap } from './store/jobs.js';
export type { ConnectionState, ConnectionStatus, Transport } from './transport/connection.js';
export {
  ACTIVE_STATUSES,
  type CreateJobResponse,
  type ErrorBody,
  type Job,
  type JobError,
  type JobListResponse,
  type JobStatus,
  type JsonValue,
  type StreamEventName,
  type StreamSnapshot,
  TERMINAL_STATUSES,
} from './wire.js';
