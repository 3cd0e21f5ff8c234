import { type CreateJobRequest, DEFAULT_LEASE_MS, type Job, type JsonValue } from '@jobtracker/sdk/wire';
import type { ApiError } from '../http/errors.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore } from '../storage/store.js';
import type { LiveEvent } from '../stream/hub.js';

export interface JobEngineOptions {
  store: JobStore;
  /** Clock in epoch milliseconds; tests pass their own. */
  now?: () => number;
  /** Progress is committed at most this often per job; status changes are committed at once. */
  progressFlushMs?: number;
  /** Lease given to a worker that claims a job (or heartbeats) without asking for a length. Default `DEFAULT_LEASE_MS` (15 s). */
  defaultLeaseMs?: number;
  /** Attempts a job gets when its worker is lost, unless it was created with its own number. */
  defaultMaxAttempts?: number;
  /** How long the change log keeps events; a client whose cursor is older gets `reset`. */
  eventRetentionMs?: number;
  /** How long an `Idempotency-Key` is remembered. */
  idempotencyRetentionMs?: number;
  /** How often expired leases are looked for. */
  leaseCheckIntervalMs?: number;
  /** Finished jobs included in a snapshot, newest first. */
  snapshotFinishedLimit?: number;
  /** A replay longer than this becomes a `reset` with a fresh snapshot. */
  replayLimit?: number;
  onError?: (error: unknown) => void;
}

/** The options with their defaults filled in. */
export type EngineSettings = Required<Omit<JobEngineOptions, 'store' | 'now' | 'onError'>>;

export function settingsOf(options: JobEngineOptions): EngineSettings {
  return {
    progressFlushMs: options.progressFlushMs ?? 1000,
    defaultLeaseMs: options.defaultLeaseMs ?? DEFAULT_LEASE_MS,
    defaultMaxAttempts: options.defaultMaxAttempts ?? 3,
    eventRetentionMs: options.eventRetentionMs ?? 24 * 60 * 60 * 1000,
    idempotencyRetentionMs: options.idempotencyRetentionMs ?? 24 * 60 * 60 * 1000,
    leaseCheckIntervalMs: options.leaseCheckIntervalMs ?? 1000,
    snapshotFinishedLimit: options.snapshotFinishedLimit ?? 50,
    replayLimit: options.replayLimit ?? 10_000,
  };
}

/** A job to create: the body of `POST /api/jobs`. */
export type CreateJobInput = CreateJobRequest;

/** One answer of `progressMany`: the job as it now is, or why this update was refused. */
export type BatchOutcome = { job: Job } | { error: ApiError };

export interface ClaimOptions {
  types: readonly string[];
  workerId: string;
  leaseMs?: number;
}

/** A job handed to a worker, with the lease that fences its writes. */
export interface ClaimedJob {
  job: Job;
  ownerId: string;
  input: JsonValue | null;
  leaseToken: string;
  leaseExpiresAt: number;
}

/** What changed since a cursor: the jobs' latest states, or a fresh snapshot when `reset`. */
export interface Changes {
  events: LiveEvent[];
  cursor: number;
  reset: boolean;
}

export interface Snapshot {
  jobs: Job[];
  cursor: number;
}

/** What a change listener learns: enough to wake a waiting claim or stop a cancelled job's handler. */
export type JobChange = Pick<JobRecord, 'id' | 'type' | 'status'>;

export type JobChangeListener = (change: JobChange) => void;
