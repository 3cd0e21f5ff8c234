import type { Job } from '@jobtracker/sdk';

/**
 * A job as a client caches it, for seeding a client's storage before it connects: `fields` over a
 * running first attempt of three that has not started, created and updated now.
 */
export function storedJob(fields: Partial<Job> & Pick<Job, 'id' | 'type' | 'title'>): Job {
  const now = new Date().toISOString();
  return {
    scope: null,
    status: 'running',
    progress: null,
    message: null,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 3,
    retryOf: null,
    version: 1,
    createdAt: now,
    startedAt: null,
    updatedAt: now,
    completedAt: null,
    dismissedAt: null,
    ...fields,
  };
}
