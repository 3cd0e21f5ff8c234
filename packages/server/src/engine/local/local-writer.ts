import type { BatchProgressUpdate, Job } from '@jobtracker/sdk/wire';
import { busy, notFound } from '../../http/errors.js';
import { isActive, type JobRecord, sharedWireJob } from '../../jobs/job-record.js';
import type { JobCommand } from '../../jobs/state-machine.js';
import type { StoredEvent } from '../../storage/store.js';
import { Mutex } from '../../util/mutex.js';
import { outcomeOf } from '../batch-outcome.js';
import { decideChange, logEntryOf } from '../job-change.js';
import { checkLease, progressCommand, recoveryCommand, startCommand, toClaimedJob } from '../leases.js';
import { coalesceProgress } from '../progress-log.js';
import type { BatchOutcome, ClaimedJob } from '../types.js';
import type { JobWriter, WriterContext } from '../writer.js';
import { ActiveJobs } from './active-jobs.js';
import { CursorClock } from './cursor-clock.js';
import { UnflushedChanges, type UnflushedRow } from './unflushed-changes.js';

/** Tries of a committed change whose row another process moved on meanwhile. */
const COMMIT_TRIES = 3;

/**
 * One process owns the database. Changes are applied one at a time under a lock, on the cached active
 * jobs; each visible change gets the next cursor. Status changes commit before they are published;
 * progress and heartbeats are published at once and committed, with everything else unflushed, in one
 * transaction at most every `progressFlushMs`. Events are published in cursor order, so a client that
 * resumes from any cursor it saw gets every event after it, once; of a job's progress reports, the log
 * keeps the last of each transaction (`coalesceProgress`), which brings a resuming client to the same job.
 */
export class LocalWriter implements JobWriter {
  readonly #context: WriterContext;
  readonly #lock = new Mutex();
  readonly #active = new ActiveJobs();
  readonly #unflushed = new UnflushedChanges();
  readonly #cursors: CursorClock;
  /** Flushes run one after another, outside the lock: changes go on while one is being written. */
  #flushChain: Promise<void> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | null = null;
  /** A flush's transaction is being written: the next is timed from its end, not from now. */
  #flushing = false;

  constructor(context: WriterContext) {
    this.#context = context;
    this.#cursors = new CursorClock(context.now);
  }

  async start(watermark: number): Promise<void> {
    const { store, publisher } = this.#context;
    for (const job of await store.listActiveJobs()) this.#active.remember(job);
    publisher.startAt(this.#cursors.start(Math.max(await store.maxCursor(), watermark)));
  }

  async stop(): Promise<void> {}

  async load(id: string): Promise<JobRecord | null> {
    return this.#active.get(id) ?? (await this.#context.store.getJob(id));
  }

  newest(row: JobRecord): JobRecord {
    return this.#active.newest(row);
  }

  async activeJobsOf(ownerId: string): Promise<JobRecord[]> {
    return this.#active.ownedBy(ownerId);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#lock.run(work);
  }

  async findActive(ownerId: string, activeKey: string): Promise<JobRecord | null> {
    return (
      this.#active.withKey(ownerId, activeKey) ??
      (await this.#context.store.findActiveByKey(ownerId, activeKey))
    );
  }

  logEntry(record: JobRecord, progressFrom: number | null = null): StoredEvent {
    return logEntryOf(record, this.#cursors.next(), this.#context.now(), progressFrom);
  }

  learn(record: JobRecord): void {
    this.#active.remember(record);
  }

  async created(record: JobRecord, event: StoredEvent): Promise<void> {
    this.#active.remember(record);
    this.#announce(record, event);
  }

  async cancel(ownerId: string, id: string): Promise<JobRecord> {
    const record = await this.load(id);
    if (!record || record.ownerId !== ownerId) throw notFound();
    // A cancel of a cancelled job answers it unchanged, also when two cancels race (a double click):
    // decided under the lock, after the first one has committed.
    return this.#lock.run(async () => {
      const current = await this.load(id);
      if (current?.status === 'cancelled') return current;
      return this.#changeLocked(id, { kind: 'cancel' });
    });
  }

  claim(types: readonly string[], workerId: string, leaseMs?: number): Promise<ClaimedJob | null> {
    const wanted = new Set(types);
    return this.#lock.run(async () => {
      for (const candidate of this.#active.values()) {
        if (candidate.status !== 'pending' || !wanted.has(candidate.type)) continue;
        if (candidate.reportToken !== null) continue; // its host runs it
        const start = startCommand(workerId, this.#context.leaseEndsAt(leaseMs));
        return toClaimedJob(await this.#changeLocked(candidate.id, start), start);
      }
      return null;
    });
  }

  changeUnderLease(id: string, leaseToken: string, command: JobCommand): Promise<JobRecord> {
    return this.#lock.run(async () => {
      const job = await this.load(id);
      if (!job) throw notFound();
      checkLease(job, leaseToken);
      return this.#changeLocked(id, command);
    });
  }

  async progress(update: BatchProgressUpdate): Promise<Job> {
    const command = progressCommand(update, this.#context.leaseEndsAt(update.leaseMs));
    return sharedWireJob(await this.changeUnderLease(update.id, update.leaseToken, command));
  }

  progressMany(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    return Promise.all(updates.map((update) => outcomeOf(() => this.progress(update))));
  }

  async recoverExpiredLeases(): Promise<number> {
    const { now } = this.#context;
    const checkedAt = now();
    const expired = [...this.#active.values()].filter((job) => recoveryCommand(job, checkedAt));
    let recovered = 0;
    for (const stale of expired) {
      await this.#lock.run(async () => {
        const job = this.#active.get(stale.id);
        const command = job && recoveryCommand(job, now());
        if (!command) return;
        await this.#changeLocked(stale.id, command);
        recovered++;
      });
    }
    return recovered;
  }

  /**
   * Commits unflushed progress and leases: one transaction for all of them. The lock is held only to
   * take them, so changes and their live events go on while the transaction is written (a flush of
   * thousands of rows would otherwise hold every worker call and delivery behind it).
   */
  flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const run = this.#flushChain.then(() => this.#writeUnflushed());
    this.#flushChain = run.catch(() => {});
    return run;
  }

  async catchUp(): Promise<void> {}

  async watermark(known: number): Promise<number> {
    return known;
  }

  isLost(cursor: number): boolean {
    return this.#cursors.isLost(cursor);
  }

  unloggedEvents(ownerId: string): readonly StoredEvent[] {
    return this.#unflushed.unlogged(ownerId);
  }

  // ---- under the lock ---------------------------------------------------------------------------

  /**
   * Progress and heartbeats are committed by the next flush; every other change before it is published,
   * as is the progress report that starts a pending reported job (a status change).
   */
  #changeLocked(id: string, command: JobCommand): Promise<JobRecord> {
    const deferred =
      command.kind === 'heartbeat' ||
      (command.kind === 'progress' && this.#active.get(id)?.status === 'running');
    return deferred ? this.#deferChange(id, command) : this.#commitChange(id, command);
  }

  async #decide(id: string, command: JobCommand): Promise<UnflushedRow & { event: StoredEvent | null }> {
    const current = await this.load(id);
    if (!current) throw notFound();
    const { next, event } = decideChange(current, command, this.#context.now(), (job, progressFrom) =>
      this.logEntry(job, progressFrom),
    );
    const storedVersion = this.#unflushed.storedVersionOf(id) ?? current.version;
    return { record: next, storedVersion, event };
  }

  async #deferChange(id: string, command: JobCommand): Promise<JobRecord> {
    const { event, ...row } = await this.#decide(id, command);
    this.#active.remember(row.record);
    this.#unflushed.add(row, event);
    if (event) this.#context.publisher.publish(event);
    this.#context.publisher.notify(row.record);
    this.#scheduleFlush();
    return row.record;
  }

  async #commitChange(id: string, command: JobCommand): Promise<JobRecord> {
    for (let tries = 0; tries < COMMIT_TRIES; tries++) {
      const change = await this.#decide(id, command);
      if (!(await this.#commitWithUnflushed(change))) {
        // Changed by another writer since we cached it: forget what we knew and decide again.
        this.#active.forget(id);
        const fresh = await this.#context.store.getJob(id);
        if (fresh && isActive(fresh.status)) this.#active.remember(fresh);
        continue;
      }
      this.#active.remember(change.record);
      this.#announce(change.record, change.event);
      return change.record;
    }
    throw busy();
  }

  /**
   * Commits every unflushed row and event, and `change`, in one transaction. Returns false when
   * `change`'s row had moved on in the database (another writer); the rest commits regardless.
   */
  async #commitWithUnflushed(change: UnflushedRow & { event: StoredEvent | null }): Promise<boolean> {
    const { rows, events } = this.#unflushed.pending(change.record.id);
    let moved: string[] = [];
    let changed = true;
    await this.#context.store.transaction(async (tx) => {
      if (rows.length > 0) moved = await tx.updateJobs(rows.map(toVersionedUpdate));
      changed = await tx.updateJob(change.record, change.storedVersion);
      const logged = coalesceProgress(change.event && changed ? [...events, change.event] : events, true);
      if (logged.length > 0) await tx.appendEvents(logged);
    });
    this.#unflushed.clear();
    await this.#reloadMoved(moved);
    return changed;
  }

  async #writeUnflushed(): Promise<void> {
    const taken = await this.#lock.run(async () => this.#unflushed.take());
    if (!taken) return;
    let moved: string[] = [];
    this.#flushing = true;
    try {
      await this.#context.store.transaction(async (tx) => {
        if (taken.rows.length > 0) moved = await tx.updateJobs(taken.rows.map(toVersionedUpdate));
        if (taken.events.length > 0) await tx.appendEvents(coalesceProgress(taken.events, true));
      });
    } catch (error) {
      await this.#lock.run(async () => {
        this.#flushing = false;
        this.#unflushed.putBack(taken);
        this.#scheduleFlush();
      });
      throw error;
    }
    await this.#lock.run(async () => {
      this.#flushing = false;
      this.#unflushed.flushed();
      await this.#reloadMoved(moved);
      if (!this.#unflushed.isEmpty) this.#scheduleFlush();
    });
  }

  async #reloadMoved(moved: readonly string[]): Promise<void> {
    for (const id of moved) {
      this.#context.onError(
        new Error(`Job ${id} was changed by another writer; its unflushed progress is dropped.`),
      );
      this.#active.forget(id);
      const fresh = await this.#context.store.getJob(id);
      if (fresh) this.#active.remember(fresh);
    }
  }

  // A period after the last flush's commit, so one job's progress commits at most once a period
  // however long a flush takes (timed from a flush's start, a slow one followed by a quick one did not).
  #scheduleFlush(): void {
    if (this.#flushTimer || this.#flushing) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush().catch(this.#context.onError);
    }, this.#context.settings.progressFlushMs);
    this.#flushTimer.unref();
  }

  #announce(record: JobRecord, event: StoredEvent | null): void {
    if (event) this.#context.publisher.publish(event);
    this.#context.publisher.notify(record);
  }
}

const toVersionedUpdate = (row: UnflushedRow) => ({ job: row.record, expectedVersion: row.storedVersion });
