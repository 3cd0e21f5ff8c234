import { JOB_STATUSES } from '@jobtracker/sdk/wire';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { Check, SameShape } from '../../util/type-equality.js';
import type { JobRow } from '../job-row.js';
import type { IdempotencyRecord, StoredEvent } from '../store.js';

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    type: text('type').notNull(),
    scope: text('scope'),
    title: text('title'),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    progress: real('progress'),
    message: text('message'),
    input: text('input'),
    result: text('result'),
    error: text('error'),
    attempt: integer('attempt').notNull(),
    maxAttempts: integer('max_attempts').notNull(),
    retryOf: text('retry_of'),
    activeKey: text('active_key'),
    leaseToken: text('lease_token'),
    leaseExpiresAt: integer('lease_expires_at'),
    workerId: text('worker_id'),
    externalId: text('external_id'),
    reportToken: text('report_token'),
    staleAfterMs: integer('stale_after_ms'),
    version: integer('version').notNull(),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    updatedAt: integer('updated_at').notNull(),
    completedAt: integer('completed_at'),
  },
  (t) => [
    uniqueIndex('jobs_owner_active_key').on(t.ownerId, t.activeKey),
    uniqueIndex('jobs_owner_external_id').on(t.ownerId, t.externalId),
    index('jobs_owner_created').on(t.ownerId, t.createdAt),
    index('jobs_status').on(t.status),
  ],
);

export const jobEvents = sqliteTable(
  'job_events',
  {
    cursor: integer('cursor').primaryKey(),
    ownerId: text('owner_id').notNull(),
    jobId: text('job_id').notNull(),
    version: integer('version').notNull(),
    data: text('data').notNull(),
    createdAt: integer('created_at').notNull(),
    progressFrom: integer('progress_from'),
    coalescedFrom: integer('coalesced_from'),
  },
  (t) => [
    index('job_events_owner_cursor').on(t.ownerId, t.cursor),
    index('job_events_created').on(t.createdAt),
  ],
);

export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    ownerId: text('owner_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    jobId: text('job_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.key] }), index('idempotency_created').on(t.createdAt)],
);

export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/** Fails `tsc -b` when a table and the record type the store reads from it drift apart. */
export type RowsMatchRecords = [
  Check<SameShape<typeof jobs.$inferSelect, JobRow>>,
  Check<SameShape<typeof jobEvents.$inferSelect, StoredEvent>>,
  Check<SameShape<typeof idempotencyKeys.$inferSelect, IdempotencyRecord>>,
];
