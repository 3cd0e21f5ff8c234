import { createHash } from 'node:crypto';
import type { CreateJobResponse, Job, JobError, JobStatus, JsonValue } from '@jobtracker/sdk';
import type { BatchProgressUpdate, ProgressUpdate } from '@jobtracker/sdk/worker';
import { ApiError, conflict, notFound } from '../http/errors.js';
import { createId, createSecretToken } from '../ids/ids.js';
import { activeKeyOf, isActive, type JobRecord, toWireJob } from '../jobs/job-record.js';
import { type JobCommand, transition } from '../jobs/state-machine.js';
import type { JobFilter, JobStore, StoredEvent, StoreTransaction } from '../storage/store.js';
import { EventHub, type LiveEvent } from '../stream/hub.js';
import { Mutex } from '../util/mutex.js';

export interface JobEngineOptions {
  store: JobStore;
  /** Clock in epoch milliseconds; tests pass their own. */
  now?: () => number;
  /** Progress is committed at most this often per job; status changes are committed at once. */
  progressFlushMs?: number;
  /** Lease given to a worker that claims a job without asking for a length. */
  defaultLeaseMs?: number;
  /** Attempts a job gets when its worker is lost, unless it was created with its own number. */
  defaultMaxAttempts?: number;
  /** How long the change log keeps events; a client whose cursor is older gets `reset`. */
  eventRetentionMs?: number;
  /** How long an `Idempotency-Key` is remembered. */
  idempotencyRetentionMs?: number;
  /** How often expired leases are looked for. */
  leaseCheckIntervalMs?: number;
  /** Finished jobs included in a snapshot, newest first. */
  snapshotFinishedLimit?: number;
  /** A replay longer than this becomes a `reset` with a fresh snapshot. */
  replayLimit?: number;
  onError?: (error: unknown) => void;
}

export interface CreateJobInput {
  type: string;
  scope?: string | null;
  title?: string | null;
  input?: JsonValue | null;
  maxAttempts?: number;
  /** When false, a second job of the same type and scope may run beside the first. Default true. */
  dedupe?: boolean;
}

/** One answer of `progressMany`: the job as it now is, or why this update was refused. */
export type BatchOutcome = { job: Job } | { error: ApiError };

export interface ClaimOptions {
  types: readonly string[];
  workerId: string;
  leaseMs?: number;
}

/** A job handed to a worker, with the lease that fences its writes. */
export interface ClaimedJob {
  job: Job;
  ownerId: string;
  input: JsonValue | null;
  leaseToken: string;
  leaseExpiresAt: number;
}

/** What changed since a cursor: the jobs' latest states, or a fresh snapshot when `reset`. */
export interface Changes {
  events: LiveEvent[];
  cursor: number;
  reset: boolean;
}

export interface Snapshot {
  jobs: Job[];
  cursor: number;
}

/** What a change listener learns: enough to wake a waiting claim or stop a cancelled job's handler. */
export type JobChange = Pick<JobRecord, 'id' | 'type' | 'status'>;

export type JobChangeListener = (change: JobChange) => void;

/** How a change is decided in shared mode, on the row as locked in the database: null changes nothing. */
type Decide = (current: JobRecord) => JobCommand | null;
type Amend = (next: JobRecord, current: JobRecord) => JobRecord;

/** A job row changed in memory but not yet in the database. */
interface UnflushedRow {
  record: JobRecord;
  /** The version of the row in the database. */
  storedVersion: number;
}

const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const ACTIVE: readonly JobStatus[] = ['pending', 'running'];
const FEED_BATCH = 1000;
/** Progress reports committed together at most (shared mode's group commit). */
const PROGRESS_BATCH_MAX = 500;
/** Each instance reads the log this often even without notifications (a silently broken listener). */
const FEED_SAFETY_READ_MS = 5000;
const ACTIVE_SNAPSHOT_LIMIT = 10_000;

/** An idempotency key taken by a concurrent create between our read and our insert. */
class IdempotencyKeyTaken extends Error {}

/**
 * The job engine: owns every change to a job. Changes are applied one at a time through the state
 * machine, each visible change gets the next cursor and one event in the log. Status changes commit
 * before they are published; progress is published at once and committed with everything else
 * unflushed in one transaction at most every `progressFlushMs`. Events are published in cursor order,
 * so a client that resumes from any cursor it saw gets every event after it, once.
 *
 * When the store has a `feed` (several instances share a PostgreSQL database) the engine runs in
 * shared mode: every change is decided on the row locked in the database and committed at once, the
 * store gives its event a cursor in commit order, and every instance delivers every event, its own
 * included, by reading the log after that cursor when the feed says it grew. Nothing is cached or
 * published before it is committed, so any instance can resume any client from any cursor.
 */
export class JobEngine {
  readonly hub = new EventHub();
  readonly store: JobStore;
  readonly #now: () => number;
  readonly #options: Required<Omit<JobEngineOptions, 'store' | 'now' | 'onError'>>;
  readonly #onError: (error: unknown) => void;
  readonly #lock = new Mutex();
  readonly #active = new Map<string, JobRecord>();
  readonly #activeByKey = new Map<string, string>();
  readonly #unflushedRows = new Map<string, UnflushedRow>();
  /** Published events not yet in the log, in cursor order. */
  #unflushedEvents: StoredEvent[] = [];
  /** Events a flush took and has not committed yet: replays must still see them. */
  #inFlightEvents: StoredEvent[] = [];
  /** Flushes run one after another, outside the lock: changes go on while one is being written. */
  #flushChain: Promise<void> = Promise.resolve();
  readonly #ownerCursors = new Map<string, number>();
  readonly #listeners = new Set<JobChangeListener>();
  #lastCursor = 0;
  #published = 0;
  #watermark = 0;
  // Cursors in (lostAfter, restartCursor) were published before a crash but never committed: a client
  // holding one may have seen versions the database lost, so it must take a fresh snapshot.
  #lostAfter = 0;
  #restartCursor = 0;
  readonly #shared: boolean;
  readonly #progressQueue: {
    update: BatchProgressUpdate;
    resolve: (job: Job) => void;
    reject: (error: unknown) => void;
  }[] = [];
  #progressWriting = false;
  #feedRead: Promise<void> | null = null;
  #nextFeedRead: Promise<void> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #started = false;

  constructor(options: JobEngineOptions) {
    this.store = options.store;
    this.#shared = options.store.feed !== undefined;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((error) => console.error('[jobtracker]', error));
    this.#options = {
      progressFlushMs: options.progressFlushMs ?? 1000,
      defaultLeaseMs: options.defaultLeaseMs ?? 30_000,
      defaultMaxAttempts: options.defaultMaxAttempts ?? 3,
      eventRetentionMs: options.eventRetentionMs ?? 24 * 60 * 60 * 1000,
      idempotencyRetentionMs: options.idempotencyRetentionMs ?? 24 * 60 * 60 * 1000,
      leaseCheckIntervalMs: options.leaseCheckIntervalMs ?? 1000,
      snapshotFinishedLimit: options.snapshotFinishedLimit ?? 50,
      replayLimit: options.replayLimit ?? 10_000,
    };
  }

  /** Loads the active jobs, recovers expired leases and starts the background timers. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#shared) {
      await this.#startShared();
      return;
    }
    for (const job of await this.store.listActiveJobs()) this.#remember(job);
    this.#watermark = await this.store.pruneWatermark();
    this.#lostAfter = Math.max(await this.store.maxCursor(), this.#watermark);
    this.#lastCursor = Math.max(this.#lostAfter, this.#now() * 1000);
    this.#restartCursor = this.#lastCursor;
    this.#published = this.#lastCursor;
    await this.recoverExpiredLeases();
    this.#every(this.#options.leaseCheckIntervalMs, () => this.recoverExpiredLeases());
    this.#every(60_000, () => this.prune());
  }

  async #startShared(): Promise<void> {
    const feed = this.store.feed;
    if (!feed) return;
    // Listening starts before the log's end is read: a commit in between is then read, not missed.
    await feed.start((cursor) => {
      if (cursor === null || cursor > this.#published) this.#readFeed().catch(this.#onError);
    });
    this.#watermark = await this.store.pruneWatermark();
    this.#published = await this.store.maxCursor();
    await this.recoverExpiredLeases();
    this.#every(this.#options.leaseCheckIntervalMs, () => this.recoverExpiredLeases());
    this.#every(FEED_SAFETY_READ_MS, () => this.#readFeed());
    this.#every(60_000, () => this.prune());
  }

  #every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => task().catch(this.#onError), ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /**
   * Shared mode: delivers every event of the log after the last one delivered, in cursor order. One
   * read at a time: a call during a read is answered by the next one, which starts when it ends, so
   * a caller waits for at most two reads however busy the log is.
   */
  #readFeed(): Promise<void> {
    if (!this.#feedRead) {
      this.#feedRead = this.#readLog().finally(() => {
        this.#feedRead = null;
      });
      return this.#feedRead;
    }
    this.#nextFeedRead ??= this.#feedRead
      .catch(() => {})
      .then(() => {
        this.#nextFeedRead = null;
        return this.#readFeed();
      });
    return this.#nextFeedRead;
  }

  async #readLog(): Promise<void> {
    for (;;) {
      const events = await this.store.eventsAfterAll(this.#published, FEED_BATCH);
      for (const event of events) this.#deliver(event);
      if (events.length < FEED_BATCH) return;
    }
  }

  #deliver(event: StoredEvent): void {
    if (event.cursor <= this.#published) return;
    this.#publish(event);
    if (this.#listeners.size === 0) return;
    const job = JSON.parse(event.data) as { type: string; status: JobStatus };
    this.#notify({ id: event.jobId, type: job.type, status: job.status });
  }

  /** Shared mode: what this instance committed is delivered before the command answers. */
  async #delivered<T>(value: T): Promise<T> {
    await this.#readFeed().catch(this.#onError);
    return value;
  }

  /** Stops the timers and commits unflushed progress. The store stays open. */
  async stop(): Promise<void> {
    if (this.#shared && this.#started) await this.store.feed?.stop();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    await this.flush();
    this.#started = false;
  }

  /** The cursor of the newest published event: everything at or below it can be replayed. */
  get cursor(): number {
    return this.#published;
  }

  /** Called after every change to a job, visible or not, once it is committed or published. */
  onChange(listener: JobChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- reads ----------------------------------------------------------------------------------

  async get(ownerId: string, id: string): Promise<Job> {
    const record = await this.#load(id);
    if (!record || record.ownerId !== ownerId) throw notFound();
    return toWireJob(record);
  }

  /** A job's full record, for workers and the in-process runner. */
  async getRecord(id: string): Promise<JobRecord | null> {
    return this.#load(id);
  }

  async list(ownerId: string, filter: JobFilter): Promise<Job[]> {
    const rows = await this.store.listJobs(ownerId, filter);
    return rows.map((row) => toWireJob(this.#newest(row)));
  }

  /** The highest cursor of any event of this owner: equal cursors mean nothing changed for them. */
  async ownerCursor(ownerId: string): Promise<number> {
    const known = this.#ownerCursors.get(ownerId);
    if (known !== undefined) return known;
    const stored = await this.store.ownerMaxCursor(ownerId);
    const latest = Math.max(stored, this.#ownerCursors.get(ownerId) ?? 0);
    this.#ownerCursors.set(ownerId, latest);
    return latest;
  }

  /** The owner's active jobs and most recently finished ones, newest first, and the cursor they are current at. */
  async snapshot(ownerId: string): Promise<Snapshot> {
    const cursor = this.#published;
    const finished = await this.store.listJobs(ownerId, {
      statuses: FINISHED,
      limit: this.#options.snapshotFinishedLimit,
    });
    const active = this.#shared
      ? await this.store.listJobs(ownerId, { statuses: ACTIVE, limit: ACTIVE_SNAPSHOT_LIMIT })
      : [...this.#active.values()].filter((job) => job.ownerId === ownerId);
    const jobs = [...active, ...finished]
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .map(toWireJob);
    return { jobs, cursor };
  }

  /**
   * Every event of this owner after `since`, in cursor order, without duplicates; `reset` when `since`
   * is 0 (the client has nothing), older than the log keeps, or not from this log: then `events` is
   * empty and the caller sends a snapshot.
   */
  async changesSince(ownerId: string, since: number): Promise<Changes> {
    if (this.#shared) {
      // A cursor from another instance may be ahead of what this one has read; another instance's prune
      // may have raised the watermark.
      if (since > this.#published) await this.#readFeed();
      this.#watermark = Math.max(this.#watermark, await this.store.pruneWatermark());
    }
    const upTo = this.#published;
    const lost = since > this.#lostAfter && since < this.#restartCursor;
    if (since === 0 || lost || since < this.#watermark || since > upTo)
      return { events: [], cursor: upTo, reset: true };
    if ((await this.ownerCursor(ownerId)) <= since) return { events: [], cursor: upTo, reset: false };
    // Unflushed events are read before the log: one flushed in between is then seen twice, never missed.
    const unflushed = [...this.#inFlightEvents, ...this.#unflushedEvents].filter(
      (event) => event.ownerId === ownerId && event.cursor > since && event.cursor <= upTo,
    );
    const limit = this.#options.replayLimit;
    const logged = await this.store.eventsAfter(ownerId, since, upTo, limit + 1);
    if (logged.length > limit) return { events: [], cursor: upTo, reset: true };
    const byCursor = new Map<number, StoredEvent>();
    for (const event of [...logged, ...unflushed]) byCursor.set(event.cursor, event);
    const events = [...byCursor.values()].sort((a, b) => a.cursor - b.cursor).map(toLiveEvent);
    return { events, cursor: upTo, reset: false };
  }

  // ---- commands from the job's owner ----------------------------------------------------------

  create(ownerId: string, input: CreateJobInput, idempotencyKey?: string): Promise<CreateJobResponse> {
    return this.#create(ownerId, input, idempotencyKey, null);
  }

  async #create(
    ownerId: string,
    input: CreateJobInput,
    idempotencyKey: string | undefined,
    retryOf: string | null,
  ): Promise<CreateJobResponse> {
    const requestHash = idempotencyKey === undefined ? '' : hashRequest(input);
    const answerForKey = async (): Promise<CreateJobResponse | null> => {
      if (idempotencyKey === undefined) return null;
      const seen = await this.store.getIdempotencyKey(ownerId, idempotencyKey);
      if (!seen) return null;
      if (seen.requestHash !== requestHash) {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used before with a different request body.',
        );
      }
      const job = await this.#load(seen.jobId);
      return job ? { job: toWireJob(job), created: false, reason: 'idempotency_key' } : null;
    };
    return this.#exclusive(async () => {
      const answered = await answerForKey();
      if (answered) return answered;
      const scope = input.scope ?? null;
      const activeKey = input.dedupe === false ? null : activeKeyOf(input.type, scope);
      const rememberKey = async (jobId: string) => {
        if (idempotencyKey === undefined) return;
        await this.store.transaction((tx) =>
          tx.insertIdempotencyKey({
            ownerId,
            key: idempotencyKey,
            requestHash,
            jobId,
            createdAt: this.#now(),
          }),
        );
      };
      const duplicateOf = async (): Promise<JobRecord | null> => {
        if (activeKey === null) return null;
        if (this.#shared) return this.store.findActiveByKey(ownerId, activeKey);
        const cachedId = this.#activeByKey.get(`${ownerId}\u0000${activeKey}`);
        const cached = cachedId === undefined ? undefined : this.#active.get(cachedId);
        return cached ?? (await this.store.findActiveByKey(ownerId, activeKey));
      };

      const existing = await duplicateOf();
      if (existing) {
        await rememberKey(existing.id);
        return { job: toWireJob(this.#newest(existing)), created: false, reason: 'active_duplicate' };
      }

      const now = this.#now();
      const record: JobRecord = {
        id: createId(now),
        ownerId,
        type: input.type,
        scope,
        title: input.title ?? null,
        status: 'pending',
        progress: null,
        message: null,
        input: input.input ?? null,
        result: null,
        error: null,
        attempt: 0,
        maxAttempts: input.maxAttempts ?? this.#options.defaultMaxAttempts,
        retryOf,
        activeKey,
        leaseToken: null,
        leaseExpiresAt: null,
        workerId: null,
        version: 1,
        createdAt: now,
        startedAt: null,
        updatedAt: now,
        completedAt: null,
      };
      const event = this.#eventFor(record);
      let inserted: boolean;
      try {
        inserted = await this.store.transaction(async (tx) => {
          if (!(await tx.insertJob(record))) return false;
          if (idempotencyKey !== undefined) {
            const keyed = await tx.insertIdempotencyKey({
              ownerId,
              key: idempotencyKey,
              requestHash,
              jobId: record.id,
              createdAt: now,
            });
            if (!keyed) throw new IdempotencyKeyTaken();
          }
          await tx.appendEvents([event]);
          return true;
        });
      } catch (error) {
        if (!(error instanceof IdempotencyKeyTaken)) throw error;
        // A concurrent create with the same key (another instance) committed first: its job is the answer.
        const answered = await answerForKey();
        if (!answered) throw new ApiError(503, 'busy', 'The job could not be created; try again.');
        return answered;
      }
      if (!inserted) {
        // Another writer holds the unique (owner, active key) index: that job is the answer.
        const winner = await duplicateOf();
        if (!winner) throw new ApiError(503, 'busy', 'The job could not be created; try again.');
        this.#remember(winner);
        await rememberKey(winner.id);
        return { job: toWireJob(winner), created: false, reason: 'active_duplicate' };
      }
      if (this.#shared) return this.#delivered<CreateJobResponse>({ job: toWireJob(record), created: true });
      this.#remember(record);
      this.#publish(event);
      this.#notify(record);
      return { job: toWireJob(record), created: true };
    });
  }

  /** Cancels a pending or running job. Cancelling a cancelled job answers it unchanged. */
  async cancel(ownerId: string, id: string): Promise<Job> {
    if (this.#shared) {
      return toWireJob(
        await this.#changeShared(id, (current) => {
          if (current.ownerId !== ownerId) throw notFound();
          return current.status === 'cancelled' ? null : { kind: 'cancel' };
        }),
      );
    }
    const record = await this.#load(id);
    if (!record || record.ownerId !== ownerId) throw notFound();
    // A cancel of a cancelled job answers it unchanged, also when two cancels race (a double click):
    // decided under the lock, after the first one has committed.
    return toWireJob(
      await this.#lock.run(async () => {
        const current = await this.#load(id);
        if (current?.status === 'cancelled') return current;
        return this.#changeLocked(id, { kind: 'cancel' }, true);
      }),
    );
  }

  /** Starts a failed or cancelled job again as a new job linked to it by `retryOf`. */
  async retry(ownerId: string, id: string): Promise<CreateJobResponse> {
    const record = await this.#load(id);
    if (!record || record.ownerId !== ownerId) throw notFound();
    if (record.status !== 'failed' && record.status !== 'cancelled') {
      throw conflict(
        'invalid_transition',
        `Only a failed or cancelled job can be retried; this one is ${record.status}.`,
      );
    }
    const { type, scope, title, input, maxAttempts } = record;
    return this.#create(ownerId, { type, scope, title, input, maxAttempts }, undefined, record.id);
  }

  // ---- commands from workers -------------------------------------------------------------------

  /** Hands the oldest pending job of the given types to a worker, or null when there is none. */
  async claim(options: ClaimOptions): Promise<ClaimedJob | null> {
    const types = new Set(options.types);
    const leaseMs = options.leaseMs ?? this.#options.defaultLeaseMs;
    if (this.#shared) return this.#claimShared(options, leaseMs);
    return this.#lock.run(async () => {
      for (const candidate of this.#active.values()) {
        if (candidate.status !== 'pending' || !types.has(candidate.type)) continue;
        const leaseToken = createSecretToken();
        const leaseExpiresAt = this.#now() + leaseMs;
        const job = await this.#changeLocked(
          candidate.id,
          { kind: 'start', leaseToken, leaseExpiresAt, workerId: options.workerId },
          true,
        );
        return { job: toWireJob(job), ownerId: job.ownerId, input: job.input, leaseToken, leaseExpiresAt };
      }
      return null;
    });
  }

  async heartbeat(id: string, leaseToken: string, leaseMs?: number): Promise<{ leaseExpiresAt: number }> {
    const leaseExpiresAt = this.#now() + (leaseMs ?? this.#options.defaultLeaseMs);
    await this.#workerChange(id, leaseToken, { kind: 'heartbeat', leaseExpiresAt }, false);
    return { leaseExpiresAt };
  }

  /**
   * Records progress and extends the lease. It is published at once and committed within
   * `progressFlushMs`; in shared mode it is committed, then published.
   */
  async progress(id: string, leaseToken: string, update: ProgressUpdate): Promise<Job> {
    if (this.#shared) return this.#combineProgress({ ...update, id, leaseToken });
    return toWireJob(await this.#workerChange(id, leaseToken, this.#progressCommand(update), false));
  }

  /**
   * Progress of many jobs. Each update stands alone: a refused one (lease lost, job cancelled…) is
   * answered with its error and the others go on. In shared mode one transaction carries them all.
   */
  async progressMany(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    if (!this.#shared) {
      return Promise.all(
        updates.map((update) => answer(() => this.progress(update.id, update.leaseToken, update))),
      );
    }
    return this.#delivered(await this.#commitProgress(updates));
  }

  /**
   * Shared mode: progress reports that arrive while a batch is being committed wait and go together in
   * the next one, one transaction for all (group commit). Every commit takes the one event counter, so
   * this is what lets a busy instance keep up.
   */
  #combineProgress(update: BatchProgressUpdate): Promise<Job> {
    return new Promise((resolve, reject) => {
      this.#progressQueue.push({ update, resolve, reject });
      if (!this.#progressWriting) void this.#writeProgressQueue();
    });
  }

  async #writeProgressQueue(): Promise<void> {
    this.#progressWriting = true;
    try {
      while (this.#progressQueue.length > 0) {
        const batch = this.#progressQueue.splice(0, PROGRESS_BATCH_MAX);
        const settle = (outcomes: BatchOutcome[]) => {
          for (const [index, { resolve, reject }] of batch.entries()) {
            const outcome = outcomes[index];
            if (outcome && 'job' in outcome) resolve(outcome.job);
            else reject(outcome?.error ?? new Error('No outcome for a progress update.'));
          }
        };
        // The next batch starts as soon as this one commits; its callers answer once it was read back.
        await this.#commitProgress(batch.map((entry) => entry.update)).then(
          (outcomes) => void this.#delivered(outcomes).then(settle),
          (error: unknown) => {
            for (const { reject } of batch) reject(error);
          },
        );
      }
    } finally {
      this.#progressWriting = false;
    }
  }

  /**
   * One transaction for many progress updates: the rows are locked together (in id order, so that two
   * batches cannot deadlock), each update is decided in arrival order on the row as the ones before it
   * left it, and the rows and events are written with one statement each.
   */
  async #commitProgress(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    const now = this.#now();
    return this.store.transaction(async (tx) => {
      const locked = await tx.lockJobs([...new Set(updates.map((update) => update.id))]);
      const stored = new Map(locked.map((job) => [job.id, job]));
      const latest = new Map(stored);
      const events: StoredEvent[] = [];
      const outcomes: BatchOutcome[] = [];
      for (const update of updates) {
        outcomes.push(
          await answer(async () => {
            const current = latest.get(update.id);
            if (!current) throw notFound();
            checkLease(current, update.leaseToken);
            const { next, event } = this.#decideShared(current, this.#progressCommand(update), now);
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
      if (moved.length > 0)
        throw new ApiError(503, 'busy', 'The jobs are being changed by another writer; try again.');
      if (events.length > 0) await tx.appendEvents(events);
      return outcomes;
    });
  }

  #progressCommand(update: ProgressUpdate): JobCommand {
    const command: JobCommand = { kind: 'progress' };
    if (update.progress !== undefined) command.progress = update.progress;
    if (update.message !== undefined) command.message = update.message;
    command.leaseExpiresAt = this.#now() + (update.leaseMs ?? this.#options.defaultLeaseMs);
    return command;
  }

  async complete(id: string, leaseToken: string, result: JsonValue | null): Promise<Job> {
    return toWireJob(await this.#workerChange(id, leaseToken, { kind: 'complete', result }, true));
  }

  async fail(id: string, leaseToken: string, error: JobError): Promise<Job> {
    return toWireJob(await this.#workerChange(id, leaseToken, { kind: 'fail', error }, true));
  }

  /** Gives a claimed job back (e.g. the worker is shutting down): pending again, the attempt not spent. */
  async release(id: string, leaseToken: string): Promise<Job> {
    return toWireJob(await this.#workerChange(id, leaseToken, { kind: 'release' }, true));
  }

  // ---- maintenance -----------------------------------------------------------------------------

  /** Re-queues (while attempts remain) or fails every running job whose lease has expired. */
  async recoverExpiredLeases(): Promise<number> {
    if (this.#shared) return this.#recoverShared();
    const now = this.#now();
    const expired = [...this.#active.values()].filter(
      (job) => job.status === 'running' && job.leaseExpiresAt !== null && job.leaseExpiresAt <= now,
    );
    let recovered = 0;
    for (const stale of expired) {
      await this.#lock.run(async () => {
        const job = this.#active.get(stale.id);
        if (job?.status !== 'running' || job.leaseExpiresAt === null || job.leaseExpiresAt > this.#now()) {
          return;
        }
        if (job.attempt < job.maxAttempts) {
          await this.#changeLocked(job.id, { kind: 'requeue' }, true, (next) => ({
            ...next,
            message: requeueMessage(job),
          }));
        } else {
          await this.#changeLocked(job.id, lostWorkerFailure(job), true);
        }
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

  /** Drops log events older than the retention and idempotency keys past theirs. */
  async prune(): Promise<void> {
    const now = this.#now();
    this.#watermark = await this.store.pruneEvents(now - this.#options.eventRetentionMs);
    await this.store.deleteIdempotencyKeys(now - this.#options.idempotencyRetentionMs);
  }

  // ---- internals -------------------------------------------------------------------------------

  async #writeUnflushed(): Promise<void> {
    const taken = await this.#lock.run(async () => {
      if (this.#unflushedRows.size === 0 && this.#unflushedEvents.length === 0) return null;
      const rows = [...this.#unflushedRows.values()];
      const events = this.#unflushedEvents;
      this.#unflushedRows.clear();
      this.#unflushedEvents = [];
      this.#inFlightEvents = events;
      return { rows, events };
    });
    if (!taken) return;
    let moved: string[] = [];
    try {
      await this.store.transaction(async (tx) => {
        if (taken.rows.length > 0) {
          moved = await tx.updateJobs(
            taken.rows.map((row) => ({ job: row.record, expectedVersion: row.storedVersion })),
          );
        }
        if (taken.events.length > 0) await tx.appendEvents(taken.events);
      });
    } catch (error) {
      await this.#lock.run(async () => {
        // Nothing was written: what was taken is unflushed again, under whatever changed since.
        for (const row of taken.rows) {
          const later = this.#unflushedRows.get(row.record.id);
          this.#unflushedRows.set(
            row.record.id,
            later ? { record: later.record, storedVersion: row.storedVersion } : row,
          );
        }
        this.#unflushedEvents = [...taken.events, ...this.#unflushedEvents];
        this.#inFlightEvents = [];
        this.#scheduleFlush();
      });
      throw error;
    }
    await this.#lock.run(async () => {
      this.#inFlightEvents = [];
      await this.#reloadMoved(moved);
    });
  }

  async #reloadMoved(moved: readonly string[]): Promise<void> {
    for (const id of moved) {
      this.#onError(new Error(`Job ${id} was changed by another writer; its unflushed progress is dropped.`));
      this.#forget(id);
      const fresh = await this.store.getJob(id);
      if (fresh) this.#remember(fresh);
    }
  }

  /**
   * Commits every unflushed row and event, plus `change` when given, in one transaction. Returns false
   * when `change`'s row had moved on in the database (another writer); the rest commits regardless.
   */
  async #commitLocked(change: (UnflushedRow & { event: StoredEvent | null }) | null): Promise<boolean> {
    const rows = [...this.#unflushedRows.values()].filter((row) => row.record.id !== change?.record.id);
    const events = this.#unflushedEvents;
    if (!change && rows.length === 0 && events.length === 0) return true;
    let moved: string[] = [];
    let changed = true;
    await this.store.transaction(async (tx) => {
      if (rows.length > 0) {
        moved = await tx.updateJobs(
          rows.map((row) => ({ job: row.record, expectedVersion: row.storedVersion })),
        );
      }
      if (change) changed = await tx.updateJob(change.record, change.storedVersion);
      const logged = change?.event && changed ? [...events, change.event] : events;
      if (logged.length > 0) await tx.appendEvents(logged);
    });
    this.#unflushedRows.clear();
    this.#unflushedEvents = [];
    await this.#reloadMoved(moved);
    return changed;
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush().catch(this.#onError);
    }, this.#options.progressFlushMs);
    this.#flushTimer.unref();
  }

  async #workerChange(
    id: string,
    leaseToken: string,
    command: JobCommand,
    durable: boolean,
  ): Promise<JobRecord> {
    if (this.#shared) {
      return this.#changeShared(id, (current) => {
        checkLease(current, leaseToken);
        return command;
      });
    }
    return this.#lock.run(async () => {
      const job = await this.#load(id);
      if (!job) throw notFound();
      checkLease(job, leaseToken);
      return this.#changeLocked(id, command, durable);
    });
  }

  // ---- shared mode -----------------------------------------------------------------------------

  /** Decides a change on the row locked in the database, commits it with its event, and delivers it. */
  async #changeShared(id: string, decide: Decide, amend: Amend = (next) => next): Promise<JobRecord> {
    const now = this.#now();
    const { record, changed } = await this.store.transaction(async (tx) => {
      const current = await tx.lockJob(id);
      if (!current) throw notFound();
      const command = decide(current);
      if (!command) return { record: current, changed: false };
      return { record: await this.#applyShared(tx, current, command, now, amend), changed: true };
    });
    return changed ? this.#delivered(record) : record;
  }

  async #applyShared(
    tx: StoreTransaction,
    current: JobRecord,
    command: JobCommand,
    now: number,
    amend: Amend = (next) => next,
  ): Promise<JobRecord> {
    const { next, event } = this.#decideShared(current, command, now, amend);
    await this.#writeShared(tx, current, next);
    if (event) await tx.appendEvents([event]);
    return next;
  }

  #decideShared(
    current: JobRecord,
    command: JobCommand,
    now: number,
    amend: Amend = (next) => next,
  ): { next: JobRecord; event: StoredEvent | null } {
    const outcome = transition(current, command, now);
    if (!outcome.ok) throw conflict(outcome.code, outcome.message);
    if (!outcome.visible) return { next: outcome.job, event: null };
    const next = amend(outcome.job, current);
    return { next, event: this.#eventFor(next) };
  }

  async #writeShared(tx: StoreTransaction, current: JobRecord, next: JobRecord): Promise<void> {
    // The row is locked: a version that moved means the lock was not held, which is a bug, not a race.
    if (!(await tx.updateJob(next, current.version))) {
      throw new ApiError(503, 'busy', 'The job is being changed by another writer; try again.');
    }
  }

  async #claimShared(options: ClaimOptions, leaseMs: number): Promise<ClaimedJob | null> {
    const leaseToken = createSecretToken();
    const now = this.#now();
    const leaseExpiresAt = now + leaseMs;
    const job = await this.store.transaction(async (tx) => {
      const candidate = await tx.lockNextPending(options.types);
      if (!candidate) return null;
      const command: JobCommand = { kind: 'start', leaseToken, leaseExpiresAt, workerId: options.workerId };
      return this.#applyShared(tx, candidate, command, now);
    });
    if (!job) return null;
    await this.#delivered(null);
    return { job: toWireJob(job), ownerId: job.ownerId, input: job.input, leaseToken, leaseExpiresAt };
  }

  async #recoverShared(): Promise<number> {
    let recovered = 0;
    for (const stale of await this.store.listExpiredLeases(this.#now(), 100)) {
      // Another instance may recover it, or its worker extend the lease, first: decided on the locked row.
      const now = this.#now();
      await this.#changeShared(
        stale.id,
        (job) => {
          if (job.status !== 'running' || job.leaseExpiresAt === null || job.leaseExpiresAt > now)
            return null;
          recovered++;
          return job.attempt < job.maxAttempts ? { kind: 'requeue' } : lostWorkerFailure(job);
        },
        (next, job) => (next.status === 'pending' ? { ...next, message: requeueMessage(job) } : next),
      );
    }
    return recovered;
  }

  /** Runs `work` alone on this instance; in shared mode the database's locks and indexes decide instead. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#shared ? work() : this.#lock.run(work);
  }

  async #changeLocked(
    id: string,
    command: JobCommand,
    durable: boolean,
    amend: (next: JobRecord) => JobRecord = (next) => next,
  ): Promise<JobRecord> {
    for (let tries = 0; tries < 3; tries++) {
      const current = await this.#load(id);
      if (!current) throw notFound();
      const outcome = transition(current, command, this.#now());
      if (!outcome.ok) throw conflict(outcome.code, outcome.message);
      const next = outcome.visible ? amend(outcome.job) : outcome.job;
      const storedVersion = this.#unflushedRows.get(id)?.storedVersion ?? current.version;
      const event = outcome.visible ? this.#eventFor(next) : null;

      if (!durable) {
        this.#remember(next);
        this.#unflushedRows.set(id, { record: next, storedVersion });
        if (event) {
          this.#unflushedEvents.push(event);
          this.#publish(event);
        }
        this.#notify(next);
        this.#scheduleFlush();
        return next;
      }

      if (!(await this.#commitLocked({ record: next, storedVersion, event }))) {
        // Changed by another writer since we cached it: forget what we knew and decide again.
        this.#forget(id);
        const fresh = await this.store.getJob(id);
        if (fresh && isActive(fresh.status)) this.#remember(fresh);
        continue;
      }
      this.#remember(next);
      if (event) this.#publish(event);
      this.#notify(next);
      return next;
    }
    throw new ApiError(503, 'busy', 'The job is being changed by another writer; try again.');
  }

  async #load(id: string): Promise<JobRecord | null> {
    return this.#active.get(id) ?? (await this.store.getJob(id));
  }

  #newest(record: JobRecord): JobRecord {
    const cached = this.#active.get(record.id);
    return cached && cached.version > record.version ? cached : record;
  }

  #remember(record: JobRecord): void {
    if (this.#shared) return;
    if (!isActive(record.status)) {
      this.#forget(record.id);
      return;
    }
    this.#active.set(record.id, record);
    if (record.activeKey !== null)
      this.#activeByKey.set(`${record.ownerId}\u0000${record.activeKey}`, record.id);
  }

  #forget(id: string): void {
    const known = this.#active.get(id);
    if (!known) return;
    this.#active.delete(id);
    const key = `${known.ownerId}\u0000${known.activeKey}`;
    if (known.activeKey !== null && this.#activeByKey.get(key) === id) this.#activeByKey.delete(key);
  }

  #nextCursor(): number {
    // Time-based and strictly rising: a restart after a crash never reuses a cursor a client saw live.
    this.#lastCursor = Math.max(this.#lastCursor + 1, this.#now() * 1000);
    return this.#lastCursor;
  }

  #eventFor(record: JobRecord): StoredEvent {
    return {
      cursor: this.#shared ? 0 : this.#nextCursor(),
      ownerId: record.ownerId,
      jobId: record.id,
      version: record.version,
      data: JSON.stringify(toWireJob(record)),
      createdAt: this.#now(),
    };
  }

  #publish(event: StoredEvent): void {
    this.#published = event.cursor;
    this.#ownerCursors.set(event.ownerId, event.cursor);
    this.hub.publish(toLiveEvent(event));
  }

  #notify(change: JobChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

/** Runs one update of a batch: a refusal becomes its outcome, anything else fails the batch. */
async function answer(work: () => Promise<Job>): Promise<BatchOutcome> {
  try {
    return { job: await work() };
  } catch (error) {
    if (error instanceof ApiError) return { error };
    throw error;
  }
}

function checkLease(job: JobRecord, leaseToken: string): void {
  if (job.status === 'cancelled')
    throw conflict('job_cancelled', 'The job was cancelled; stop working on it.');
  if (job.leaseToken === null || job.leaseToken !== leaseToken) {
    throw conflict(
      'lease_lost',
      'This lease is no longer valid: the job was re-queued, finished or given to another worker.',
    );
  }
}

const requeueMessage = (job: JobRecord) =>
  `The worker stopped responding; the job will start again (attempt ${job.attempt + 1} of ${job.maxAttempts}).`;

const lostWorkerFailure = (job: JobRecord): JobCommand => ({
  kind: 'fail',
  error: {
    code: 'worker_lost',
    message: `The worker stopped responding and all ${job.maxAttempts} attempts are used.`,
    retryable: true,
  },
});

function toLiveEvent(event: StoredEvent): LiveEvent {
  return {
    cursor: event.cursor,
    ownerId: event.ownerId,
    jobId: event.jobId,
    version: event.version,
    data: event.data,
  };
}

function hashRequest(input: CreateJobInput): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
