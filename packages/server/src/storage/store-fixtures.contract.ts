import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore, StoredEvent } from './store.js';

/** A job record for store tests: a pending job of type `t` owned by alice, with `overrides`. */
export const testJob = (id: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id,
  ownerId: 'alice',
  type: 't',
  scope: null,
  title: null,
  status: 'pending',
  progress: null,
  message: null,
  input: { nested: [1, 'two', null] },
  result: null,
  error: null,
  attempt: 0,
  maxAttempts: 3,
  retryOf: null,
  activeKey: 't|',
  leaseToken: null,
  leaseExpiresAt: null,
  workerId: null,
  externalId: null,
  reportToken: null,
  staleAfterMs: null,
  version: 1,
  createdAt: 1,
  startedAt: null,
  updatedAt: 1,
  completedAt: null,
  ...overrides,
});

/**
 * An event for store tests. `cursor` is what a store without a feed keeps; a store with one assigns its
 * own, so tests read cursors back rather than expect these.
 */
export const testEvent = (
  cursor: number,
  ownerId: string,
  createdAt: number,
  overrides: Partial<StoredEvent> = {},
): StoredEvent => ({
  cursor,
  ownerId,
  jobId: `job-of-${ownerId}`,
  version: 1,
  data: JSON.stringify({ ownerId, createdAt }),
  createdAt,
  progressFrom: null,
  coalescedFrom: null,
  ...overrides,
});

/** Declares one contract test: `body` gets a migrated store on an empty database of its own. */
export type StoreTest = (title: string, body: (store: JobStore) => Promise<void>) => void;
