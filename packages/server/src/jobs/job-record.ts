import { ACTIVE_STATUSES, type Job, type JobStatus, type JsonValue } from '@jobtracker/sdk/wire';

type JobTimes = 'createdAt' | 'startedAt' | 'updatedAt' | 'completedAt';

/** A job as the server keeps it: the wire fields plus owner, input and lease. Times are epoch milliseconds. */
export interface JobRecord extends Omit<Job, JobTimes> {
  ownerId: string;
  input: JsonValue | null;
  /** `type` + scope while the job is active and deduplicated, else null; unique per owner. */
  activeKey: string | null;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  workerId: string | null;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  completedAt: number | null;
}

export const isActive = (status: JobStatus) => ACTIVE_STATUSES.includes(status);

export const activeKeyOf = (type: string, scope: string | null) => `${type}|${scope ?? ''}`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const wireJobs = new WeakMap<JobRecord, Job>();

/**
 * `toWireJob`, built once per version of a record: a progress update's log entry and its answer to the
 * worker share it. Records are never changed once made, so the wire view stays true; do not change it.
 */
export function sharedWireJob(record: JobRecord): Job {
  let wire = wireJobs.get(record);
  if (!wire) {
    wire = toWireJob(record);
    wireJobs.set(record, wire);
  }
  return wire;
}

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
    version: record.version,
    createdAt: new Date(record.createdAt).toISOString(),
    startedAt: iso(record.startedAt),
    updatedAt: new Date(record.updatedAt).toISOString(),
    completedAt: iso(record.completedAt),
  };
}
