/** Lifecycle of a job: `pending → running → completed | failed | cancelled`. Terminal states never change. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The statuses from which a job can still change. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['pending', 'running'];

/** The statuses a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** Any value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Why a job failed. */
export interface JobError {
  message: string;
  code?: string;
  /** Whether starting the job again may succeed. */
  retryable?: boolean;
}

/** A job as the API returns it. Times are ISO-8601 strings. */
export interface Job {
  /** Opaque, URL-safe, sortable by creation time. */
  id: string;
  type: string;
  /** Groups jobs of one context; with `type` it is the dedupe key. */
  scope: string | null;
  title: string | null;
  status: JobStatus;
  /** 0..100, or `null` while indeterminate. Never decreases within one attempt. */
  progress: number | null;
  message: string | null;
  /** Set on completion, e.g. `{ "url": "/programs/42", "summary": "…" }`. */
  result: JsonValue | null;
  error: JobError | null;
  /** 1 for the first run; rises when a job is re-queued after its worker was lost. 0 while never started. */
  attempt: number;
  maxAttempts: number;
  /** The failed or cancelled job this one retries, if any. */
  retryOf: string | null;
  /** Rises with every accepted change; keep the highest one seen. */
  version: number;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
}

/** `GET /api/jobs`: a page of jobs, or with `since` the jobs changed after that cursor. */
export interface JobListResponse {
  jobs: Job[];
  /** Pass back as `since` (polling) or `Last-Event-ID` (SSE) to resume from here. */
  cursor: string;
  /** True when `since` was older than the event log keeps: `jobs` is then a fresh snapshot. */
  reset?: boolean;
}

/** `POST /api/jobs` and `POST /api/jobs/:id/retry`. */
export interface CreateJobResponse {
  job: Job;
  /** False when an existing job was returned instead of a new one. */
  created: boolean;
  /** Why no new job was made: a job of the same type and scope is still active, or the idempotency key was seen before. */
  reason?: 'active_duplicate' | 'idempotency_key';
}

/** Body of `event: snapshot` and `event: reset` on the stream. */
export interface StreamSnapshot {
  jobs: Job[];
  cursor: string;
}

/** Every 4xx/5xx answer of the API. */
export interface ErrorBody {
  error: { code: string; message: string; details?: JsonValue };
}

/**
 * SSE event names sent by `GET /api/jobs/stream`: `snapshot` or `reset` (a `StreamSnapshot`), or the
 * replay as `job` events, then `ready` (`{ cursor }`: caught up), then live `job` events.
 */
export type StreamEventName = 'snapshot' | 'reset' | 'job' | 'ready';
