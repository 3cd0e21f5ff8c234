import { ACTIVE_STATUSES, type Job, type JobStatus, type JsonValue } from '@jobtracker/sdk/wire';
import { oncePerObject } from '../util/once-per-object.js';

type JobTimes = 'createdAt' | 'startedAt' | 'updatedAt' | 'completedAt';

/** A job as the server keeps it: the wire fields plus owner, input and lease. Times are epoch milliseconds. */
export interface JobRecord extends Omit<Job, JobTimes | 'staleAfterMs'> {
  /** A running job with no visible change for this long counts as stalled; null: never. */
  staleAfterMs: number | null;
  ownerId: string;
  input: JsonValue | null;
  /** `type` + scope while the job is active and deduplicated, else null; unique per owner. */
  activeKey: string | null;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  workerId: string | null;
  /** The host's own id of a reported job (`POST /api/worker/jobs`); unique per owner. */
  externalId: string | null;
  /**
   * Set on a job a host reports on (`POST /api/worker/jobs`), for good: such a job is never claimed,
   * its lease never expires (`leaseToken` is this token while it is active, `leaseExpiresAt` null).
   */
  reportToken: string | null;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  completedAt: number | null;
}

export const isActive = (status: JobStatus) => ACTIVE_STATUSES.includes(status);

export const activeKeyOf = (type: string, scope: string | null) => `${type}|${scope ?? ''}`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `toWireJob`, built once per version of a record: a progress update's log entry and its answer to the
 * worker share it. Records are never changed once made, so the wire view stays true; do not change it.
 */
export const sharedWireJob = oncePerObject(toWireJob);

/** The public view of a job: no owner, input or lease. */
export function toWireJob(record: JobRecord): Job {
  return {
    id: record.id,
    type: record.type,
    scope: record.scope,
    title: record.title,
    status: record.status,
    progress: record.progress,
    message: record.message,
    result: record.result,
    error: record.error,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    retryOf: record.retryOf,
    ...(record.staleAfterMs === null ? {} : { staleAfterMs: record.staleAfterMs }),
    version: record.version,
    createdAt: new Date(record.createdAt).toISOString(),
    startedAt: iso(record.startedAt),
    updatedAt: new Date(record.updatedAt).toISOString(),
    completedAt: iso(record.completedAt),
  };
}
