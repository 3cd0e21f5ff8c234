import type { JobRecord } from '../jobs/job-record.js';

/** A pending job of `alice`, as the engine would create it, with `overrides` on top. */
export function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job-1',
    ownerId: 'alice',
    type: 'gen',
    scope: null,
    title: null,
    status: 'pending',
    progress: null,
    message: null,
    input: null,
    result: null,
    error: null,
    attempt: 0,
    maxAttempts: 3,
    retryOf: null,
    activeKey: 'gen|',
    leaseToken: null,
    leaseExpiresAt: null,
    workerId: null,
    externalId: null,
    reportToken: null,
    staleAfterMs: null,
    version: 1,
    createdAt: 1000,
    startedAt: null,
    updatedAt: 1000,
    completedAt: null,
    ...overrides,
  };
}

/** A job running under `leaseToken` until `leaseExpiresAt`. */
export const runningJob = (overrides: Partial<JobRecord> = {}): JobRecord =>
  jobRecord({
    status: 'running',
    attempt: 1,
    leaseToken: 'lease',
    leaseExpiresAt: 5000,
    workerId: 'w',
    version: 2,
    startedAt: 1000,
    ...overrides,
  });
