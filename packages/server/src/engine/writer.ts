import type { BatchProgressUpdate, Job } from '@jobtracker/sdk/wire';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobCommand } from '../jobs/state-machine.js';
import type { JobStore, StoredEvent } from '../storage/store.js';
import type { Publisher } from './publisher.js';
import type { BatchOutcome, ClaimedJob, EngineSettings } from './types.js';

/** What both writers are given by the engine. */
export interface WriterContext {
  store: JobStore;
  publisher: Publisher;
  settings: EngineSettings;
  now: () => number;
  /** When a lease given now ends: after `leaseMs`, or the default lease. */
  leaseEndsAt: (leaseMs?: number) => number;
  onError: (error: unknown) => void;
}

/**
 * How changes reach the database and the subscribers; the engine holds one, chosen by the store.
 * `LocalWriter`: one process owns the database, keeps its active jobs in memory, publishes progress at
 * once and commits it in batches. `SharedWriter`: several processes share a PostgreSQL database; each
 * change is decided on the row locked in the database, committed at once, and delivered from the log.
 */
export interface JobWriter {
  /**
   * Readies the cache, cursors or change feed, and sets where the publisher starts; `watermark` is the
   * highest cursor ever pruned. Runs before anything else.
   */
  start(watermark: number): Promise<void>;
  /** Stops listening to other instances. Unflushed changes are committed by `flush`. */
  stop(): Promise<void>;

  /** The job as this process knows it newest. */
  load(id: string): Promise<JobRecord | null>;
  /** A row read from the database, or the newer version of it this process holds. */
  newest(row: JobRecord): JobRecord;
  activeJobsOf(ownerId: string): Promise<JobRecord[]>;

  /** Runs a create alone where this process decides; where the database decides, as it comes. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** The active job holding this owner's deduplication key. */
  findActive(ownerId: string, activeKey: string): Promise<JobRecord | null>;
  /** The log entry of a version about to be committed; `progressFrom` when it is a progress report's. */
  logEntry(record: JobRecord, progressFrom?: number | null): StoredEvent;
  /** A job another writer committed, read back from the database. */
  learn(record: JobRecord): void;
  /** Called once a new job and its event are committed; the create answers when it resolves. */
  created(record: JobRecord, event: StoredEvent): Promise<void>;

  /** Cancels the owner's job; cancelling a cancelled job answers it unchanged. */
  cancel(ownerId: string, id: string): Promise<JobRecord>;
  /** Hides the owner's job from the tracker or brings it back; already so, it answers the job unchanged. */
  dismiss(ownerId: string, id: string, dismissed: boolean): Promise<JobRecord>;
  claim(types: readonly string[], workerId: string, leaseMs?: number): Promise<ClaimedJob | null>;
  /** A worker's change, accepted only under its lease (heartbeat, complete, fail, release). */
  changeUnderLease(id: string, leaseToken: string, command: JobCommand): Promise<JobRecord>;
  progress(update: BatchProgressUpdate): Promise<Job>;
  progressMany(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]>;
  recoverExpiredLeases(): Promise<number>;
  /** Commits whatever was published but not yet written. */
  flush(): Promise<void>;

  /** Before a replay from `since`: reads what other instances committed up to it. */
  catchUp(since: number): Promise<void>;
  /** The highest cursor ever pruned, `known` or higher when another instance pruned since. */
  watermark(known: number): Promise<number>;
  /** Whether `cursor` was published before a crash but never committed: its client must reset. */
  isLost(cursor: number): boolean;
  /** An owner's events published but not yet in the log, in cursor order: replays must see them too. */
  unloggedEvents(ownerId: string): readonly StoredEvent[];
}
