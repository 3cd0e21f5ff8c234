import type { JobStatus } from '@jobtracker/sdk/wire';
import type { JobRecord } from '../jobs/job-record.js';

/** One entry of the append-only change log. `data` is the job's wire JSON at `version`. */
export interface StoredEvent {
  cursor: number;
  ownerId: string;
  jobId: string;
  version: number;
  data: string;
  createdAt: number;
  /**
   * Set when every change from version `progressFrom` to `version` was a progress report (only progress,
   * message and `updatedAt` changed, the job running): a client holding that version can take this event
   * as a delta. Null for every other change.
   */
  progressFrom: number | null;
  /**
   * Set when the log keeps this event in place of progress reports published before it under lower
   * cursors (it stands for them all): the cursor of the first. A client whose cursor is at or above it
   * holds a version in between, on which the delta does not apply. Null when it stands for itself only.
   */
  coalescedFrom: number | null;
}

export interface IdempotencyRecord {
  ownerId: string;
  key: string;
  requestHash: string;
  jobId: string;
  createdAt: number;
}

/** A reported job its user cancelled, and the cursor of the cancel's event. */
export interface ReportedCancel {
  cursor: number;
  id: string;
  ownerId: string;
  externalId: string | null;
}

export interface JobFilter {
  statuses?: readonly JobStatus[];
  type?: string;
  scope?: string;
  limit: number;
  /** Only jobs after this one in the newest-first order (older, or as old with a lower id): the next page. */
  before?: JobPosition;
}

/** Where a job stands in the newest-first order of `listJobs`. */
export interface JobPosition {
  createdAt: number;
  id: string;
}

/** Writes that commit together. Implementations run them in one database transaction. */
export interface StoreTransaction {
  /**
   * Inserts a job; returns false (and writes nothing) when an active job holds the same owner + active key,
   * or a job the same owner + external id.
   */
  insertJob(job: JobRecord): Promise<boolean>;
  /** Writes `job` over the row whose version is `expectedVersion`; returns false when the row moved on. */
  updateJob(job: JobRecord, expectedVersion: number): Promise<boolean>;
  /**
   * `updateJob` for many rows at once (the progress flush): returns the ids whose row had moved on, which
   * were left as they were.
   */
  updateJobs(updates: readonly { job: JobRecord; expectedVersion: number }[]): Promise<string[]>;
  /**
   * Appends events, in the order given. A store with a `feed` (several processes share it) assigns the
   * cursors itself, rising in commit order, and ignores those given.
   */
  appendEvents(events: readonly StoredEvent[]): Promise<void>;
  /**
   * Reads a job and keeps other writers off its row until the transaction ends (PostgreSQL: `FOR
   * UPDATE`; SQLite's write transactions take turns anyway).
   */
  lockJob(id: string): Promise<JobRecord | null>;
  /** `lockJob` for many jobs at once, locked in id order (so that two such locks cannot deadlock). */
  lockJobs(ids: readonly string[]): Promise<JobRecord[]>;
  /**
   * The oldest pending job of these types that no other transaction holds, locked like `lockJob`; never a
   * reported job (one with a report token), which its host runs.
   */
  lockNextPending(types: readonly string[]): Promise<JobRecord | null>;
  insertIdempotencyKey(record: IdempotencyRecord): Promise<boolean>;
}

/**
 * Tells a process that other processes appended to the event log. Notifications may be late, merged or
 * lost (a dropped connection): they only say when to read the log, which stays the truth.
 */
export interface ChangeFeed {
  /**
   * Starts listening. `onChange` gets the highest cursor a notification carried, or null when some may
   * have been missed (the listener reconnected): the caller then reads whatever the log holds.
   */
  start(onChange: (cursor: number | null) => void): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The storage a job engine needs. Routes never see it; a dialect (SQLite today, PostgreSQL later)
 * implements it and passes the shared storage test suite.
 */
export interface JobStore {
  readonly dialect: string;
  /**
   * Present when several API processes share this database: each engine then delivers every change,
   * its own included, from the log in cursor order, and decides each change on the locked row.
   */
  readonly feed?: ChangeFeed;
  migrate(): Promise<void>;
  /**
   * Whether `error` says the database cannot be reached or serve right now (a refused or dropped
   * connection, a server shutting down, a lock held too long): the request may be tried again.
   */
  isUnavailable(error: unknown): boolean;
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  getJob(id: string): Promise<JobRecord | null>;
  findActiveByKey(ownerId: string, activeKey: string): Promise<JobRecord | null>;
  /** The owner's job with this `externalId` (a reported job), whatever its status. */
  findByExternalId(ownerId: string, externalId: string): Promise<JobRecord | null>;
  listActiveJobs(): Promise<JobRecord[]>;
  listJobs(ownerId: string, filter: JobFilter): Promise<JobRecord[]>;
  getIdempotencyKey(ownerId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Events of one owner with `after < cursor <= upTo`, oldest first, at most `limit`. */
  eventsAfter(ownerId: string, after: number, upTo: number, limit: number): Promise<StoredEvent[]>;
  /** Events of every owner with `cursor > after`, oldest first, at most `limit`: what a feed reader delivers. */
  eventsAfterAll(after: number, limit: number): Promise<StoredEvent[]>;
  /**
   * Cancels of reported jobs (ones with a report token) whose event has `cursor > after`, oldest first, at
   * most `limit`: what the worker event stream carries.
   */
  reportedCancelsAfter(after: number, limit: number): Promise<ReportedCancel[]>;
  /** Running jobs whose lease expired at or before `now`, oldest first, at most `limit`. */
  listExpiredLeases(now: number, limit: number): Promise<JobRecord[]>;
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
