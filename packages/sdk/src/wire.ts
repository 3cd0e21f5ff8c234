/**
 * `@jobtracker/sdk/wire`: the job API's contract, the one source of every type and constant that crosses
 * the wire (jobs, request and response bodies, stream events, statuses, lease limits). Types and
 * constants only: the server checks its validation schemas against these types at compile time.
 *
 * @module
 */

const ACTIVE = ['pending', 'running'] as const;
const TERMINAL = ['completed', 'failed', 'cancelled'] as const;

/** Every status of a job, in lifecycle order. */
export const JOB_STATUSES = [...ACTIVE, ...TERMINAL] as const;

/** Lifecycle of a job: `pending → running → completed | failed | cancelled`. Terminal states never change. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A status a job never leaves. */
export type TerminalStatus = (typeof TERMINAL)[number];

/** The statuses from which a job can still change. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ACTIVE;

/** The statuses a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = TERMINAL;

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
  /**
   * Present when the job declared one (`staleAfterMs` of its create): a `running` job whose `updatedAt`
   * is older than this many ms counts as stalled ("No update for 3 min"); its next update clears that
   * (docs/api.md, "Stalls"). Absent: the job never counts as stalled.
   */
  staleAfterMs?: number;
  /** Rises with every accepted change; keep the highest one seen. */
  version: number;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
  /**
   * When the owner hid the job from the tracker (ISO-8601), or null while it is shown. Stored per user
   * on the server, so a dismissal holds in every browser and on every device; set and cleared by
   * `POST /api/jobs/:id/dismiss`. It never changes the job's status: a dismissed running job keeps
   * running. Like any change it raises `version` and reaches the owner's streams as a `job` event.
   */
  dismissedAt: string | null;
}

/** `POST /api/jobs`: a job to start. */
export interface CreateJobRequest {
  type: string;
  scope?: string | null;
  title?: string | null;
  input?: JsonValue | null;
  /** Attempts the job gets when its worker is lost (1–20); the server's default applies when omitted. */
  maxAttempts?: number;
  /** False lets a second job of the same type and scope run beside the first. Default true. */
  dedupe?: boolean;
  /** The job counts as stalled when running with no update for this long (1,000–86,400,000 ms). */
  staleAfterMs?: number;
}

/**
 * What a progress report changed in one job: the body of a `progress` stream event, and an entry of a
 * `since` poll's `progress` list. It applies only on top of the job at version `from` (on the stream
 * always `version - 1`, so `from` is left out there); a client holding any other version must not build
 * a job from it and asks the server for the job instead.
 */
export interface JobProgressDelta {
  id: string;
  /** The version this delta applies on top of. Absent on the stream, where it is `version - 1`. */
  from?: number;
  /** The job's version once applied. */
  version: number;
  progress: number | null;
  message: string | null;
  updatedAt: string;
}

/**
 * `GET /api/jobs`: a page of jobs, or with `since` the jobs changed after that cursor. With `since`, a job
 * whose only changes after the cursor are progress reports comes in `progress` as one delta, not in `jobs`.
 * `wait` (ms, 0–30,000) makes a `since` poll a long poll: the server holds it until something changes.
 * Without `since`, `before` (the `next` of the page before) asks for the next page.
 */
export interface JobListResponse {
  jobs: Job[];
  /** With `since`: jobs whose only changes after the cursor were progress reports. */
  progress?: JobProgressDelta[];
  /** Pass back as `since` (polling) or `Last-Event-ID` (SSE) to resume from here. */
  cursor: string;
  /** True when `since` was older than the event log keeps: `jobs` is then a fresh snapshot. */
  reset?: boolean;
  /**
   * Without `since` (a page of the list): an opaque token to send as `before` for the next, older page
   * of the same filters; null when no older job matches. Pages follow the list's newest-first order by
   * position, so jobs that start meanwhile never shift or repeat a later page.
   */
  next?: string | null;
}

/** `POST /api/jobs` and `POST /api/jobs/:id/retry`. */
export interface CreateJobResponse {
  job: Job;
  /** False when an existing job was returned instead of a new one. */
  created: boolean;
  /** Why no new job was made: a job of the same type and scope is still active, or the idempotency key was seen before. */
  reason?: 'active_duplicate' | 'idempotency_key';
}

/**
 * `POST /api/jobs/:id/dismiss`: hides the job from the owner's tracker on every device, or brings it
 * back with `dismissed: false`. The body is optional (no body dismisses). Answered with `JobResponse`.
 */
export interface DismissJobRequest {
  /** Default true; false brings a dismissed job back. */
  dismissed?: boolean;
}

/** `POST /api/jobs/:id/cancel`, `/dismiss` and every worker route that changes one job. */
export interface JobResponse {
  job: Job;
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
 * replay as `job` events, then `ready` (`{ cursor }`: caught up), then live events: `job` (the whole job,
 * after any change of status, attempt, result or error) or `progress` (a `JobProgressDelta`, after a
 * progress report).
 */
export type StreamEventName = 'snapshot' | 'reset' | 'job' | 'progress' | 'ready';

/**
 * How often, at most, an idle stream gets a heartbeat comment, in ms (a stream written to recently is
 * skipped, so one may go 1.5 × this long without a byte). Below the 60 s idle timeout of common proxies and
 * load balancers; as long as that allows, since on a real link each heartbeat costs ~150 bytes.
 */
export const STREAM_HEARTBEAT_MS = 25_000;

/** The longest a `since` poll may be held (`wait`), in ms. */
export const MAX_POLL_WAIT_MS = 30_000;

/** The lease a claim gets unless it asks otherwise, in ms: the server's, the in-process runner's and `createWorker`'s. */
export const DEFAULT_LEASE_MS = 15_000;
/** The shortest lease the job API grants, in ms. */
export const MIN_LEASE_MS = 1000;
/** The longest lease the job API grants, in ms (an hour). */
export const MAX_LEASE_MS = 3_600_000;
/** The longest one claim may wait for a pending job (a long poll), in ms. */
export const MAX_CLAIM_WAIT_MS = 30_000;

/** `POST /api/worker/claim`: what a worker asks for. */
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

/** The lease token every write of a claimed job carries. */
export interface LeaseFence {
  leaseToken: string;
}

/** `POST /api/worker/jobs/:id/heartbeat`. */
export interface HeartbeatRequest extends LeaseFence {
  /** Extends the lease by this long from now. */
  leaseMs?: number;
}

/** The answer of a heartbeat. */
export interface HeartbeatResponse {
  leaseExpiresAt: string;
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

/** `POST /api/worker/jobs/:id/progress`. */
export interface ProgressRequest extends LeaseFence, ProgressUpdate {}

/** One job's part of `progressMany`. */
export interface BatchProgressUpdate extends ProgressRequest {
  id: string;
}

/** `POST /api/worker/progress`: the progress of many jobs (at most 1,000 updates). */
export interface BatchProgressRequest {
  updates: BatchProgressUpdate[];
}

/** What became of one update of `progressMany`: the job's new version, or why it was refused. */
export type BatchProgressResult =
  | { id: string; version: number }
  | { id: string; error: { status: number; code: string; message: string } };

/** The answer of `POST /api/worker/progress`, one result per update, in order. */
export interface BatchProgressResponse {
  results: BatchProgressResult[];
}

/** `POST /api/worker/jobs/:id/complete`. */
export interface CompleteRequest extends LeaseFence {
  /** JSON, at most 16 KiB. */
  result?: JsonValue | null;
}

/** How a job failed, as its owner will see it. */
export interface FailureReport {
  /** Shown to the job's owner: never put internal details here. */
  message: string;
  code?: string;
  /** Whether starting the job again may succeed. */
  retryable?: boolean;
}

/** `POST /api/worker/jobs/:id/fail`. */
export interface FailRequest extends LeaseFence {
  error: FailureReport;
}

/** `POST /api/worker/jobs/:id/release`: gives the job back, pending again. */
export type ReleaseRequest = LeaseFence;

/**
 * `POST /api/worker/jobs/:id/requeue`, for a reported job only (report token as `leaseToken`): its host
 * ended this attempt and will run another (e.g. a BullMQ retry). The job, still the same one, is pending
 * again with `message` (e.g. "Retrying (attempt 2 of 3)") and no progress, its attempt kept; the next
 * write with the report token starts the next attempt (`attempt` + 1, `startedAt` then). A job already
 * pending answers unchanged, so a request sent again is harmless. When the host runs more attempts than
 * `maxAttempts` said, `maxAttempts` rises to the next attempt: the host owns its retries.
 */
export interface RequeueRequest extends LeaseFence {
  /** Shown while the job waits for its next attempt (at most 1,000 characters); none when omitted or null. */
  message?: string | null;
}

// ---- The report API: jobs a host runs itself, tracked for its users ----------------------------

/** The longest `externalId` a reported job may carry. */
export const MAX_EXTERNAL_ID_LENGTH = 200;

/**
 * `POST /api/worker/jobs` (worker key): creates a job on behalf of the user `owner`, for a host that
 * runs the work itself (BullMQ, Celery, a cron…) and reports on it. The same dedupe rules as
 * `POST /api/jobs` apply per owner. A reported job is never handed to a worker by `claim`, and never
 * re-queued by the lease sweep: the host's runner owns its liveness.
 */
export interface ReportJobRequest {
  /** The user the job belongs to: what their tokens carry as `sub` (1–200 characters). */
  owner: string;
  type: string;
  scope?: string | null;
  title?: string | null;
  input?: JsonValue | null;
  /**
   * The host's own id of the work (e.g. the BullMQ job id), 1–200 characters. The same `externalId`
   * for the same owner answers the same job (`created: false`), also once it finished and also when
   * requests race: a host may send the create again whenever it is unsure it arrived.
   */
  externalId?: string;
  /**
   * `running` starts the job at once (attempt 1, `startedAt` now). `pending` (the default) leaves it
   * waiting until the first write with its report token (progress, complete or fail), which starts it.
   */
  status?: 'pending' | 'running';
  /** Shown as the job's attempts (1–20); the server's default applies when omitted. */
  maxAttempts?: number;
  /** False lets a second job of the same type and scope run beside the first. Default true. */
  dedupe?: boolean;
  /**
   * The job counts as stalled when running with no update for this long (1,000–86,400,000 ms): report
   * (progress, or a heartbeat) at least every half of it while the work is alive.
   */
  staleAfterMs?: number;
}

/** The answer of `POST /api/worker/jobs`. */
export interface ReportJobResponse {
  job: Job;
  /** False when an earlier job is the answer: the same `externalId`, or an active duplicate. */
  created: boolean;
  /** Why no job was created: `external_id` (that job) or `active_duplicate` (the owner's active job of the type and scope). */
  reason?: 'active_duplicate' | 'external_id';
  /**
   * Send it as `leaseToken` with every progress, complete and fail of this job (the worker routes and
   * the batch route). It fences writes like a lease token but never expires. Null when the answer is a
   * job this host does not report (an active duplicate the user started, run by a worker).
   */
  reportToken: string | null;
}

/**
 * The data of a `cancel` event of `GET /api/worker/events`: the user cancelled a job their host reports
 * (one created through `POST /api/worker/jobs`). The host stops the work; its next write to the job
 * would answer 409 `job_cancelled` anyway.
 */
export interface WorkerCancelEvent {
  /** The job's id. */
  id: string;
  /** The `externalId` the host created it with, or null. */
  externalId: string | null;
  /** The user who owns (and cancelled) it. */
  owner: string;
}

/**
 * The events of `GET /api/worker/events` (worker key), each with `id: <cursor>`: `cancel`
 * (`WorkerCancelEvent`), `ready` (`{ cursor }`: the replay after `Last-Event-ID` or `?since=` is done,
 * what follows is live) and `reset` (`{ cursor }`: the cursor sent is older than the log keeps, or not
 * from this server; cancels before it may have been missed, so check the jobs you are running).
 */
export type WorkerStreamEventName = 'cancel' | 'ready' | 'reset';

/** The shortest `staleAfterMs` a job may declare. */
export const MIN_STALE_AFTER_MS = 1000;
/** The longest `staleAfterMs` a job may declare (24 h). */
export const MAX_STALE_AFTER_MS = 86_400_000;
