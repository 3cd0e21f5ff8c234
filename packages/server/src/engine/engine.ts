import {
  type BatchProgressUpdate,
  type CreateJobResponse,
  type Job,
  type JobError,
  type JsonValue,
  type ProgressUpdate,
  type ReportJobRequest,
  type ReportJobResponse,
  TERMINAL_STATUSES,
} from '@jobtracker/sdk/wire';
import { conflict, notFound } from '../http/errors.js';
import { createIdSequence } from '../ids/ids.js';
import { type JobRecord, toWireJob } from '../jobs/job-record.js';
import type { JobFilter, JobStore } from '../storage/store.js';
import type { EventHub } from '../stream/hub.js';
import { every } from '../util/every.js';
import { ChangeReplay } from './change-replay.js';
import { type CreationContext, createJob, createReportedJob } from './job-creation.js';
import { LocalWriter } from './local/local-writer.js';
import { Publisher } from './publisher.js';
import { SharedWriter } from './shared/shared-writer.js';
import {
  type BatchOutcome,
  type Changes,
  type ClaimedJob,
  type ClaimOptions,
  type CreateJobInput,
  type EngineSettings,
  type JobChangeListener,
  type JobEngineOptions,
  type Snapshot,
  settingsOf,
} from './types.js';
import type { JobWriter, WriterContext } from './writer.js';

export type {
  BatchOutcome,
  Changes,
  ClaimedJob,
  ClaimOptions,
  CreateJobInput,
  JobChange,
  JobChangeListener,
  JobEngineOptions,
  Snapshot,
} from './types.js';

const PRUNE_INTERVAL_MS = 60_000;

/**
 * The job engine: owns every change to a job. Changes are applied through the state machine; each
 * visible change gets the next cursor and one event in the log, and events are published in cursor
 * order, so a client that resumes from any cursor it saw gets every event after it, once.
 *
 * How changes are committed depends on the store. On its own database the engine keeps the active jobs
 * in memory: status changes commit before they are published; progress is published at once and
 * committed with everything else unflushed in one transaction at most every `progressFlushMs`. When the
 * store has a `feed` (several instances share a PostgreSQL database) every change is decided on the
 * row locked in the database and committed at once, and every instance delivers every event, its own
 * included, from the log: any instance can resume any client from any cursor.
 */
export class JobEngine {
  readonly hub: EventHub;
  readonly store: JobStore;
  readonly #now: () => number;
  readonly #settings: EngineSettings;
  readonly #onError: (error: unknown) => void;
  readonly #publisher: Publisher;
  readonly #writer: JobWriter;
  readonly #leaseEndsAt: (leaseMs?: number) => number;
  readonly #creation: CreationContext;
  readonly #replay: ChangeReplay;
  #stopTimers: (() => void)[] = [];
  #started = false;

  constructor(options: JobEngineOptions) {
    this.store = options.store;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((error) => console.error('[jobtracker]', error));
    this.#settings = settingsOf(options);
    this.#publisher = new Publisher((ownerId) => this.store.ownerMaxCursor(ownerId), this.#onError);
    this.hub = this.#publisher.hub;
    this.#leaseEndsAt = (leaseMs) => this.#now() + (leaseMs ?? this.#settings.defaultLeaseMs);
    const context: WriterContext = {
      store: this.store,
      publisher: this.#publisher,
      settings: this.#settings,
      now: this.#now,
      leaseEndsAt: this.#leaseEndsAt,
      onError: this.#onError,
    };
    this.#writer = this.store.feed ? new SharedWriter(context) : new LocalWriter(context);
    this.#creation = {
      store: this.store,
      writer: this.#writer,
      now: this.#now,
      nextId: createIdSequence(),
      defaultMaxAttempts: this.#settings.defaultMaxAttempts,
    };
    this.#replay = new ChangeReplay({
      store: this.store,
      writer: this.#writer,
      publisher: this.#publisher,
      replayLimit: this.#settings.replayLimit,
    });
  }

  /** Loads the active jobs, recovers expired leases and starts the background timers. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#writer.start(await this.#replay.start());
    await this.recoverExpiredLeases();
    this.#stopTimers = [
      every(this.#settings.leaseCheckIntervalMs, () => this.recoverExpiredLeases(), this.#onError),
      every(PRUNE_INTERVAL_MS, () => this.prune(), this.#onError),
    ];
  }

  /** Stops the timers and commits unflushed progress. The store stays open. */
  async stop(): Promise<void> {
    if (this.#started) await this.#writer.stop();
    for (const stop of this.#stopTimers) stop();
    this.#stopTimers = [];
    await this.flush();
    this.#started = false;
  }

  /** The cursor of the newest published event: everything at or below it can be replayed. */
  get cursor(): number {
    return this.#publisher.publishedCursor;
  }

  /** Called after every change to a job, visible or not, once it is committed or published. */
  onChange(listener: JobChangeListener): () => void {
    return this.#publisher.onChange(listener);
  }

  // ---- reads ----------------------------------------------------------------------------------

  async get(ownerId: string, id: string): Promise<Job> {
    return toWireJob(await this.#owned(ownerId, id));
  }

  /** A job's full record, for workers and the in-process runner. */
  async getRecord(id: string): Promise<JobRecord | null> {
    return this.#writer.load(id);
  }

  async list(ownerId: string, filter: JobFilter): Promise<Job[]> {
    const rows = await this.store.listJobs(ownerId, filter);
    return rows.map((row) => toWireJob(this.#writer.newest(row)));
  }

  /** The highest cursor of any event of this owner: equal cursors mean nothing changed for them. */
  ownerCursor(ownerId: string): Promise<number> {
    return this.#publisher.ownerCursor(ownerId);
  }

  /** The owner's active jobs and most recently finished ones, newest first, and the cursor they are current at. */
  async snapshot(ownerId: string): Promise<Snapshot> {
    const cursor = this.#publisher.publishedCursor;
    const finished = await this.store.listJobs(ownerId, {
      statuses: TERMINAL_STATUSES,
      limit: this.#settings.snapshotFinishedLimit,
    });
    const active = await this.#writer.activeJobsOf(ownerId);
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
  changesSince(ownerId: string, since: number): Promise<Changes> {
    return this.#replay.changesSince(ownerId, since);
  }

  /**
   * Resolves when this owner has a change after `since`: at once when it has one (or `since` is a
   * cursor to reset from), else at the owner's next published event, after `ms`, or when `signal`
   * aborts, whichever comes first. Nothing of it is left behind once it resolves.
   */
  waitForChange(ownerId: string, since: number, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // Waiting starts before the owner's cursor is read: an event published in between wakes it.
      const stopWaiting = this.hub.waitForEvent(ownerId, () => settle());
      const timer = setTimeout(() => settle(), ms);
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        stopWaiting();
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => settle();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return settle();
      this.#replay.isCurrent(ownerId, since).then((current) => {
        if (!current) settle();
      }, settle);
    });
  }

  // ---- commands from the job's owner ----------------------------------------------------------

  create(ownerId: string, input: CreateJobInput, idempotencyKey?: string): Promise<CreateJobResponse> {
    return createJob(this.#creation, { ownerId, input, idempotencyKey });
  }

  /** Cancels a pending or running job. Cancelling a cancelled job answers it unchanged. */
  async cancel(ownerId: string, id: string): Promise<Job> {
    return toWireJob(await this.#writer.cancel(ownerId, id));
  }

  /**
   * Hides the owner's job from the tracker on every device (`dismissed`), or brings it back. Any status;
   * the status never changes. Asking for what already is answers the job unchanged (no new version).
   */
  async dismiss(ownerId: string, id: string, dismissed = true): Promise<Job> {
    return toWireJob(await this.#writer.dismiss(ownerId, id, dismissed));
  }

  /** Starts a failed or cancelled job again as a new job linked to it by `retryOf`. */
  async retry(ownerId: string, id: string): Promise<CreateJobResponse> {
    const record = await this.#owned(ownerId, id);
    if (record.status !== 'failed' && record.status !== 'cancelled') {
      throw conflict(
        'invalid_transition',
        `Only a failed or cancelled job can be retried; this one is ${record.status}.`,
      );
    }
    if (record.reportToken !== null) {
      // Its host runs it: a retry is the host's to start (with a new report), not a worker's.
      throw conflict('invalid_transition', 'This job is run by its host; it cannot be retried here.');
    }
    const { type, scope, title, input, maxAttempts, staleAfterMs } = record;
    return createJob(this.#creation, {
      ownerId,
      input: { type, scope, title, input, maxAttempts, ...(staleAfterMs === null ? {} : { staleAfterMs }) },
      retryOf: record.id,
    });
  }

  // ---- commands from workers -------------------------------------------------------------------

  /**
   * Creates a job on behalf of `request.owner` for a host that runs it itself, with the report token
   * that fences its writes (`POST /api/worker/jobs`); the same `externalId` answers the same job.
   */
  report(request: ReportJobRequest): Promise<ReportJobResponse> {
    return createReportedJob(this.#creation, request);
  }

  /** Hands the oldest pending job of the given types to a worker, or null when there is none. */
  claim(options: ClaimOptions): Promise<ClaimedJob | null> {
    return this.#writer.claim(options.types, options.workerId, options.leaseMs);
  }

  async heartbeat(id: string, leaseToken: string, leaseMs?: number): Promise<{ leaseExpiresAt: number }> {
    const leaseExpiresAt = this.#leaseEndsAt(leaseMs);
    await this.#writer.changeUnderLease(id, leaseToken, { kind: 'heartbeat', leaseExpiresAt });
    return { leaseExpiresAt };
  }

  /**
   * Records progress and extends the lease. It is published at once and committed within
   * `progressFlushMs`; in shared mode it is committed, then published.
   */
  progress(id: string, leaseToken: string, update: ProgressUpdate): Promise<Job> {
    return this.#writer.progress({ ...update, id, leaseToken });
  }

  /**
   * Progress of many jobs. Each update stands alone: a refused one (lease lost, job cancelled…) is
   * answered with its error and the others go on. In shared mode one transaction carries them all.
   */
  progressMany(updates: readonly BatchProgressUpdate[]): Promise<BatchOutcome[]> {
    return this.#writer.progressMany(updates);
  }

  async complete(id: string, leaseToken: string, result: JsonValue | null): Promise<Job> {
    return toWireJob(await this.#writer.changeUnderLease(id, leaseToken, { kind: 'complete', result }));
  }

  async fail(id: string, leaseToken: string, error: JobError): Promise<Job> {
    return toWireJob(await this.#writer.changeUnderLease(id, leaseToken, { kind: 'fail', error }));
  }

  /** Gives a claimed job back (e.g. the worker is shutting down): pending again, the attempt not spent. */
  async release(id: string, leaseToken: string): Promise<Job> {
    return toWireJob(await this.#writer.changeUnderLease(id, leaseToken, { kind: 'release' }));
  }

  /**
   * A reported job's host ended this attempt and runs another (`POST /api/worker/jobs/:id/requeue`): the
   * same job, pending again with `message`; the next write with its report token starts the next attempt.
   */
  async requeue(id: string, reportToken: string, message: string | null): Promise<Job> {
    return toWireJob(await this.#writer.changeUnderLease(id, reportToken, { kind: 'nextAttempt', message }));
  }

  // ---- maintenance -----------------------------------------------------------------------------

  /** Re-queues (while attempts remain) or fails every running job whose lease has expired. */
  recoverExpiredLeases(): Promise<number> {
    return this.#writer.recoverExpiredLeases();
  }

  /** Commits unflushed progress and leases, in one transaction. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Drops log events older than the retention and idempotency keys past theirs. */
  async prune(): Promise<void> {
    const now = this.#now();
    await this.#replay.prune(now - this.#settings.eventRetentionMs);
    await this.store.deleteIdempotencyKeys(now - this.#settings.idempotencyRetentionMs);
  }

  async #owned(ownerId: string, id: string): Promise<JobRecord> {
    const record = await this.#writer.load(id);
    if (!record || record.ownerId !== ownerId) throw notFound();
    return record;
  }
}
