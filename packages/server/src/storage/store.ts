import type { JobStatus } from '@jobtracker/sdk';
import type { JobRecord } from '../jobs/job-record.js';

/** One entry of the append-only change log. `data` is the job's wire JSON at `version`. */
export interface StoredEvent {
  cursor: number;
  ownerId: string;
  jobId: string;
  version: number;
  data: string;
  createdAt: number;
}

export interface IdempotencyRecord {
  ownerId: string;
  key: string;
  requestHash: string;
  jobId: string;
  createdAt: number;
}

export interface JobFilter {
  statuses?: readonly JobStatus[];
  type?: string;
  scope?: string;
  limit: number;
}

/** Writes that commit together. Implementations run them in one database transaction. */
export interface StoreTransaction {
  /** Inserts a job; returns false (and writes nothing) when an active job holds the same owner + active key. */
  insertJob(job: JobRecord): Promise<boolean>;
  /** Writes `job` over the row whose version is `expectedVersion`; returns false when the row moved on. */
  updateJob(job: JobRecord, expectedVersion: number): Promise<boolean>;
  /**
   * `updateJob` for many rows at once (the progress flush): returns the ids whose row had moved on, which
   * were left as they were.
   */
  updateJobs(updates: readonly { job: JobRecord; expectedVersion: number }[]): Promise<string[]>;
  /** Appends events, in the order given. */
  appendEvents(events: readonly StoredEvent[]): Promise<void>;
  insertIdempotencyKey(record: IdempotencyRecord): Promise<boolean>;
}

/**
 * The storage a job engine needs. Routes never see it; a dialect (SQLite today, PostgreSQL later)
 * implements it and passes the shared storage test suite.
 */
export interface JobStore {
  readonly dialect: string;
  migrate(): Promise<void>;
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  getJob(id: string): Promise<JobRecord | null>;
  findActiveByKey(ownerId: string, activeKey: string): Promise<JobRecord | null>;
  listActiveJobs(): Promise<JobRecord[]>;
  listJobs(ownerId: string, filter: JobFilter): Promise<JobRecord[]>;
  getIdempotencyKey(ownerId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Events of one owner with `after < cursor <= upTo`, oldest first, at most `limit`. */
  eventsAfter(ownerId: string, after: number, upTo: number, limit: number): Promise<StoredEvent[]>;
  maxCursor(): Promise<number>;
  ownerMaxCursor(ownerId: string): Promise<number>;
  /**
   * Deletes events created before `before` and raises the watermark (the highest cursor ever deleted)
   * in the same transaction; returns the watermark.
   */
  pruneEvents(before: number): Promise<number>;
  /** The highest cursor ever pruned: a client holding an older cursor must take a fresh snapshot. */
  pruneWatermark(): Promise<number>;
  deleteIdempotencyKeys(before: number): Promise<void>;
  close(): Promise<void>;
}
