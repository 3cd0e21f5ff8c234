import { ACTIVE_STATUSES, type BatchProgressUpdate, type Job } from '@jobtracker/sdk/wire';
import { busy, notFound } from '../../http/errors.js';
import { type JobRecord, toWireJob } from '../../jobs/job-record.js';
import type { JobCommand } from '../../jobs/state-machine.js';
import type { StoredEvent, StoreTransaction } from '../../storage/store.js';
import { outcomeOf } from '../batch-outcome.js';
import { decideChange, logEntryOf } from '../job-change.js';
import { checkLease, progressCommand, recoveryCommand, startCommand, toClaimedJob } from '../leases.js';
import { coalesceProgress } from '../progress-log.js';
import type { BatchOutcome, ClaimedJob } from '../types.js';
import type { JobWriter, WriterContext } from '../writer.js';
import { FeedReader } from './feed-reader.js';
import { ProgressBatcher } from './progress-batcher.js';

const ACTIVE_SNAPSHOT_LIMIT = 10_000;
/** Expired leases recovered per check at most. */
const RECOVERY_BATCH = 100;

/** The change to make, chosen on the row as locked in the database; null changes nothing. */
type CommandForLockedRow = (locked: JobRecord) => JobCommand | null;

/**
 * Several instances share a PostgreSQL database (the store has a `feed`). Every change is decided on
 * the row locked in the database and committed at once, the store gives its event a cursor in commit
 * order, and every instance delivers every event, its own included, by reading the log after that
 * cursor. Nothing is cached or published before it is committed, so any instance can resume any client
 * from any cursor; a command answers once this instance has delivered what it committed.
 */
export class SharedWriter implements JobWriter {
  readonly #context: WriterContext;
  readonly #feed: FeedReader;
  readonly #progress: ProgressBatcher<BatchProgressUpdate>;

  constructor(context: WriterContext) {
    this.#context = context;
    this.#feed = new FeedReader(context.store, context.publisher, context.onError);
    this.#progress = new ProgressBatcher(
      (updates) => this.#commitProgress(updates),
      () => this.#ownCommitsDelivered(),
    );
  }

  start(): Promise<void> {
    return this.#feed.start();
  }

  stop(): Promise<void> {
    return this.#feed.stop();
  }

  load(id: string): Promise<JobRecord | null> {
    return this.#context.store.getJob(id);
  }

  newest(row: JobRecord): JobRecord {
    return row;
  }

  activeJobsOf(ownerId: string): Promise<JobRecord[]> {
    return this.#context.store.listJobs(ownerId, { statuses: ACTIVE_STATUSES, limit: ACTIVE_SNAPSHOT_LIMIT });
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  findActive(ownerId: string, activeKey: string): Promise<JobRecord | null> {
    return this.#context.store.findActiveByKey(ownerId, activeKey);
  }

  logEntry(record: JobRecord, progressFrom: number | null = null): StoredEvent {
    // The store numbers it at commit.
    return logEntryOf(record, 0, this.#context.now(), progressFrom);
  }

  learn(): void {}

  created(): Promise<void> {
    return this.#ownCommitsDelivered();
  }

  cancel(ownerId: string, id: string): Promise<JobRecord> {
    return this.#changeLockedRow(id, (current) => {
      if (current.ownerId !== ownerId) throw notFound();
      return current.status === 'cancelled' ? null : { kind: 'cancel' };
    });
  }

  dismiss(ownerId: string, id: string, dismissed: boolean): Promise<JobRecord> {
    return this.#changeLockedRow(id, (current) => {
      if (current.ownerId !== ownerId) throw notFound();
      return (current.dismissedAt !== null) === dismissed ? null : { kind: 'dismiss', dismissed };
    });
  }

  async claim(types: readonly string[], workerId: string, leaseMs?: number): Promise<ClaimedJob | null> {
    const now = this.#context.now();
    const start = startCommand(workerId, this.#context.leaseEndsAt(leaseMs));
    const job = await this.#context.store.transaction(async (tx) => {
      const candidate = await tx.lockNextPending(types);
      return candidate ? this.#write(tx, candidate, start, now) : null;
    });
    if (!job) return null;
    await this.#ownCommitsDelivered();
    return toClaimedJob(job, start);
  }

  changeUnderLease(id: string, leaseToken: string, command: JobCommand): Promise<JobRecord> {
    return this.#changeLockedRow(id, (current) => {
      checkLease(current, leaseToken);
      return command;
    });
  }

  progress(update: BatchProgressUpdate): Promise<Job> {
    return this.#progress.submit(update);
  }

  async progressMany(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    const outcomes = await this.#commitProgress(updates);
    await this.#ownCommitsDelivered();
    return outcomes;
  }

  async recoverExpiredLeases(): Promise<number> {
    const { store, now } = this.#context;
    let recovered = 0;
    for (const stale of await store.listExpiredLeases(now(), RECOVERY_BATCH)) {
      // Another instance may recover it, or its worker extend the lease, first: decided on the locked row.
      const checkedAt = now();
      await this.#changeLockedRow(stale.id, (job) => {
        const command = recoveryCommand(job, checkedAt);
        if (command) recovered++;
        return command;
      });
    }
    return recovered;
  }

  async flush(): Promise<void> {}

  async catchUp(since: number): Promise<void> {
    // A cursor from another instance may be ahead of what this one has read.
    if (since > this.#context.publisher.publishedCursor) await this.#feed.catchUp();
  }

  async watermark(known: number): Promise<number> {
    return Math.max(known, await this.#context.store.pruneWatermark());
  }

  isLost(): boolean {
    return false;
  }

  unloggedEvents(): readonly StoredEvent[] {
    return [];
  }

  /** Resolves once what this instance committed so far is published here; a failed read is reported. */
  #ownCommitsDelivered(): Promise<void> {
    return this.#feed.catchUp().catch(this.#context.onError);
  }

  /** Decides a change on the row locked in the database, commits it with its event, and delivers it. */
  async #changeLockedRow(id: string, commandFor: CommandForLockedRow): Promise<JobRecord> {
    const now = this.#context.now();
    const { record, changed } = await this.#context.store.transaction(async (tx) => {
      const current = await tx.lockJob(id);
      if (!current) throw notFound();
      const command = commandFor(current);
      if (!command) return { record: current, changed: false };
      return { record: await this.#write(tx, current, command, now), changed: true };
    });
    if (changed) await this.#ownCommitsDelivered();
    return record;
  }

  async #write(
    tx: StoreTransaction,
    current: JobRecord,
    command: JobCommand,
    now: number,
  ): Promise<JobRecord> {
    const { next, event } = decideChange(current, command, now, (job, from) => this.logEntry(job, from));
    // The row is locked: a version that moved means the lock was not held, which is a bug, not a race.
    if (!(await tx.updateJob(next, current.version))) throw busy();
    if (event) await tx.appendEvents([event]);
    return next;
  }

  /**
   * One transaction for many progress updates: the rows are locked together (in id order, so that two
   * batches cannot deadlock), each update is decided in arrival order on the row as the ones before it
   * left it, and the rows and events are written with one statement each.
   */
  async #commitProgress(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    const now = this.#context.now();
    return this.#context.store.transaction(async (tx) => {
      const locked = await tx.lockJobs([...new Set(updates.map((update) => update.id))]);
      const stored = new Map(locked.map((job) => [job.id, job]));
      const latest = new Map(stored);
      const events: StoredEvent[] = [];
      const outcomes: BatchOutcome[] = [];
      for (const update of updates) {
        outcomes.push(
          await outcomeOf(async () => {
            const current = latest.get(update.id);
            if (!current) throw notFound();
            checkLease(current, update.leaseToken);
            const command = progressCommand(update, this.#context.leaseEndsAt(update.leaseMs));
            const { next, event } = decideChange(current, command, now, (job, from) =>
              this.logEntry(job, from),
            );
            latest.set(update.id, next);
            if (event) events.push(event);
            return toWireJob(next);
          }),
        );
      }
      const changed = [...latest.values()].filter((job) => job !== stored.get(job.id));
      const moved = await tx.updateJobs(
        changed.map((job) => ({ job, expectedVersion: stored.get(job.id)?.version ?? 0 })),
      );
      // The rows are locked: a version that moved means the lock was not held, a bug rather than a race.
      if (moved.length > 0) throw busy('The jobs are being changed by another writer; try again.');
      // Reports of one job in one batch leave one row: the ones before it were never published.
      if (events.length > 0) await tx.appendEvents(coalesceProgress(events, false));
      return outcomes;
    });
  }
}
