import { JobTrackerError, JobTrackerHttpError } from '../errors/errors.js';
import type {
  BatchProgressResult,
  FailureReport,
  Job,
  JobError,
  JsonValue,
  ProgressUpdate,
  ReportJobRequest,
  ReportJobResponse,
} from '../wire.js';
import { backoff, sleep } from './backoff.js';
import { createCancelEvents } from './cancel-events.js';
import { createWorkerApi } from './http-worker-api.js';
import { JobCancelledError } from './job-cancelled.js';
import { failureReportOf } from './job-failure.js';
import { isGone, isTransient } from './refusals.js';
import { createWorkerHttp, type WorkerHttpOptions } from './worker-http.js';

/** The most updates one batch request carries (the batch route's limit). */
const MAX_BATCH = 1000;

/** Options of {@link createReporter}. */
export interface ReporterOptions extends WorkerHttpOptions {
  /**
   * How long progress reports are gathered before they go out in one batch request, in ms; of the
   * reports of one job within that time only the latest is sent. Default 250.
   */
  flushIntervalMs?: number;
  /** The longest wait between two tries of a write or a reconnect of the event stream, in ms. Default 10,000. */
  maxBackoffMs?: number;
  /**
   * The event stream is taken for dead, and connected again, when nothing (not even a heartbeat comment,
   * sent at least every 37.5 s) arrived for this long, in ms. Default 60,000.
   */
  streamWatchdogMs?: number;
  /**
   * A connection of the event stream that is not ready this long after it was made is broken (e.g. a
   * proxy that buffers it): it is connected again, and `track` waits for it no longer. In ms; default 10,000.
   */
  streamFirstEventMs?: number;
  /**
   * Told of every problem that rejects no promise of yours: a progress report the API refused (other than
   * a cancel or a lost job, which abort the job's `signal`), requests that failed and are being tried
   * again, and event stream failures. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** What {@link Reporter.track} creates: the job's owner, type and the rest, as `POST /api/worker/jobs` takes them. */
export type TrackRequest = ReportJobRequest;

/** How a job failed, for {@link TrackedJob.fail}. */
export type ReportedFailure = string | Error | JobError;

/** A job the reporter tracks for its owner; see {@link Reporter.track}. */
export interface TrackedJob {
  /** The job's id. */
  readonly id: string;
  /**
   * The job as last known: the API's answer to the create, to its own progress, complete or fail, with
   * the progress, message and version of accepted batch reports applied.
   */
  readonly job: Job;
  /** False when an earlier job was the answer: the same `externalId`, or the owner's active duplicate. */
  readonly created: boolean;
  /**
   * Aborted when the work should stop: with a {@link JobCancelledError} once the owner cancels the job
   * (learned from the worker event stream at once, or from a write the API refused), with the API's
   * `JobTrackerHttpError` when the job is no longer this reporter's (409 `lease_lost`: finished or
   * reported with another token; 404), or with a `JobTrackerError` when the reporter closes first.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress (0..100, or `null` while indeterminate; `undefined` keeps the current value) and an
   * optional message. Reports are coalesced (within `flushIntervalMs`, only the latest per job is sent)
   * and batched with other jobs' through `POST /api/worker/progress`; when the API cannot be reached they
   * are tried again, the latest one winning. Resolves once this report was sent (or replaced by a later
   * one that was), and never rejects: a refusal is told to `onError`, or aborts `signal`. Does nothing
   * once `signal` is aborted or the job is being completed or failed.
   *
   * @throws RangeError when `progress` is a number outside 0..100.
   */
  progress(progress: number | null | undefined, message?: string): Promise<void>;
  /**
   * Completes the job with `result` (JSON, at most 16 KiB). Progress not yet sent is sent first, then the
   * completion on its own route, tried again through network failures, 5xx and 429 answers until the API
   * accepts or refuses it. Rejects with the refusal (a `JobTrackerHttpError`; the job stays open, so it
   * can still be failed), with the abort reason of `signal` when the job was cancelled or lost, or with a
   * `JobTrackerError` when the reporter was closed before it landed.
   */
  complete(result?: JsonValue | null): Promise<Job>;
  /**
   * Fails the job, as {@link TrackedJob.complete} completes it. A string or a `JobError` is shown to the
   * job's owner as it is; of an `Error` only a `JobFailure`'s message is (other errors may hold internal
   * details: the owner sees a generic message, as for a worker's handler).
   */
  fail(error: ReportedFailure): Promise<Job>;
  /**
   * Ends this attempt of the job: the host will run it again (e.g. a BullMQ retry). The same job (one card
   * for its owner) waits for its next attempt with `message` (e.g. "Retrying (attempt 2 of 3)"), no
   * progress, through `POST /api/worker/jobs/:id/requeue`; the next {@link TrackedJob.progress} (or
   * `complete`, `fail`) starts the next attempt, with `attempt` + 1 and a new `startedAt`. Progress of the
   * ended attempt not yet sent is sent first (it may be what started that attempt); progress reported
   * while this is under way waits for it and belongs to the next attempt. Tried again through network failures, 5xx and 429 answers (a request sent
   * again is harmless). Answers the pending job; rejects as {@link TrackedJob.complete} does.
   */
  retrying(message?: string): Promise<Job>;
}

/** Options of {@link Reporter.close}. */
export interface CloseOptions {
  /** How long to wait for outstanding writes before they are abandoned, in ms. Default 30,000. */
  timeoutMs?: number;
}

/** Reports on jobs a host runs itself; see {@link createReporter}. */
export interface Reporter {
  /**
   * Creates a job for `owner` through `POST /api/worker/jobs` and answers its handle. With an
   * `externalId` the create is idempotent (the same `externalId` answers the same job), so it is also tried
   * again through network failures, 5xx and 429 answers; without one it is sent once. Rejects with the API's
   * refusal (`JobTrackerHttpError`), a `JobTrackerNetworkError`, or a `JobTrackerError` when the answer is
   * an active job of the owner that a worker runs (not this reporter's to report) or the reporter is closed.
   */
  track(request: TrackRequest): Promise<TrackedJob>;
  /**
   * Stops taking new jobs, sends the progress still pending, waits for every complete and fail under way,
   * closes the event stream and aborts the signals of jobs still open. Resolves once everything
   * outstanding has settled; rejects with a `JobTrackerError` when that took longer than `timeoutMs`
   * (what was still outstanding is then abandoned, and its promises reject).
   */
  close(options?: CloseOptions): Promise<void>;
}

/** One `track` answer: a job, its token and what is waiting to be sent for it. */
interface Entry {
  id: string;
  token: string;
  job: Job;
  controller: AbortController;
  /** The latest progress not yet sent, and the calls waiting for it. */
  pending: { update: ProgressUpdate; waiters: (() => void)[] } | null;
  /** The batch request carrying this job's progress now, if any (never rejects). */
  sending: Promise<void> | null;
  /** `complete` or `fail` was called (and has not been refused). */
  finishing: boolean;
  /** The job is finished, cancelled or lost: the event stream need not be kept for it. */
  closed: boolean;
  /** Raised by `retrying`: a report taken under an older attempt is never sent into a newer one. */
  attempt: number;
  /** The ended attempt's progress not yet sent: the requeue sends it first. */
  ended: Entry['pending'];
  /** The requeue under way (never rejects): progress waits for it, and so do complete and fail. */
  requeue: Promise<void> | null;
}

/**
 * A reporter for jobs a host runs itself (BullMQ, a cron, a serverless function…): it creates a tracked
 * job for a user and reports its progress, completion or failure through the report API, and tells of
 * the user's cancel through each job's `signal`. One worker event stream (`GET /api/worker/events`)
 * serves every job of the reporter: opened while any job is open, resumed from its cursor after a drop
 * (the cancels missed meanwhile are replayed), closed when none is. Progress is coalesced and batched;
 * the final state is never lost to a network failure or a server restart (it is tried again, with
 * backoff, until the API answers).
 *
 * @example
 * const reporter = createReporter({ baseUrl: 'http://127.0.0.1:8787/api', workerKey: process.env.JOBTRACKER_WORKER_KEY! });
 * const tracked = await reporter.track({ owner: userId, type: 'video.render', title: 'Render intro.mp4', externalId: queueJob.id });
 * for (const frame of frames) {
 *   tracked.signal.throwIfAborted(); // the user cancelled
 *   await render(frame);
 *   void tracked.progress((100 * frame.index) / frames.length, `Frame ${frame.index}`);
 * }
 * await tracked.complete({ url: '/videos/42' });
 * process.once('SIGTERM', () => void reporter.close());
 */
export function createReporter(options: ReporterOptions): Reporter {
  const http = createWorkerHttp(options);
  const api = createWorkerApi(options);
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // a failing onError must not stop the reporter
    }
  };

  /** Aborted when `close` gives up: everything still outstanding is abandoned. */
  const lifetime = new AbortController();
  let closing = false;
  const entries = new Map<string, Set<Entry>>();
  /** Creates under way: they keep the event stream open as open jobs do. */
  let creating = 0;
  const outstanding = new Set<Promise<unknown>>();

  /** Worth trying again: the API could not be reached, had a fault, or asked to slow down (429). */
  const retryable = (error: unknown) =>
    isTransient(error) || (error instanceof JobTrackerHttpError && error.status === 429);
  const delayAfter = (error: unknown, failures: number) => {
    const asked = error instanceof JobTrackerHttpError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(backoff(failures, maxBackoffMs), Math.min(asked, maxBackoffMs));
  };
  const closedError = () => new JobTrackerError('The reporter was closed before this write landed.');
  const checkLifetime = () => {
    if (lifetime.signal.aborted) throw closedError();
  };

  const events = createCancelEvents({
    http,
    maxBackoffMs,
    watchdogMs: options.streamWatchdogMs ?? 60_000,
    firstEventMs: options.streamFirstEventMs ?? 10_000,
    report,
    onCancel(event) {
      for (const entry of entries.get(event.id) ?? []) end(entry, new JobCancelledError(event.id));
    },
    onReset() {
      // Cancels may have been missed: ask after each open job. A heartbeat changes nothing the user sees
      // (bar refreshing a stall-watched job) and answers 409 job_cancelled for a cancelled one.
      for (const set of entries.values()) {
        for (const entry of set) {
          if (entry.closed || entry.finishing) continue;
          api.heartbeat(entry.id, entry.token, undefined, lifetime.signal).catch((error: unknown) => {
            if (isGone(error)) end(entry, error);
            // Anything else (a pending job's 409 invalid_transition, an outage): the next write tells.
          });
        }
      }
    },
  });
  function keepStream() {
    let open = creating > 0;
    for (const set of entries.values()) for (const entry of set) open ||= !entry.closed;
    if (open && !closing) events.open();
    else if (!open) events.close();
  }

  function forget(entry: Entry) {
    entry.closed = true;
    const set = entries.get(entry.id);
    set?.delete(entry);
    if (set?.size === 0) entries.delete(entry.id);
    keepStream();
  }

  /** Ends the job's handle: its signal aborts with `error`, nothing more is sent for it. */
  function end(entry: Entry, error: unknown) {
    if (entry.controller.signal.aborted) return;
    const reason =
      error instanceof JobTrackerHttpError &&
      error.code === 'job_cancelled' &&
      !(error instanceof JobCancelledError)
        ? new JobCancelledError(entry.id, { cause: error })
        : error;
    const dropped = mergePending(entry.ended, entry.pending);
    entry.pending = null;
    entry.ended = null;
    pending.delete(entry);
    for (const resolve of dropped?.waiters ?? []) resolve();
    entry.controller.abort(reason);
    forget(entry);
  }

  // ---- progress: coalesced per job, batched across jobs ----

  const pending = new Set<Entry>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: Promise<void> | null = null;
  let failures = 0;
  let retryDelay = 0;
  /** Woken whenever a batch settles (for `close`). */
  const batchWaiters: (() => void)[] = [];
  const wakeBatchWaiters = () => {
    for (const wake of batchWaiters.splice(0)) wake();
  };
  lifetime.signal.addEventListener('abort', wakeBatchWaiters, { once: true });

  function schedule(delay: number) {
    if (timer || inFlight || pending.size === 0 || lifetime.signal.aborted) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, delay);
  }

  function flush(): Promise<void> {
    if (inFlight) return inFlight;
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = [...pending].slice(0, MAX_BATCH).map((entry) => {
      pending.delete(entry);
      const taken = entry.pending as NonNullable<Entry['pending']>;
      entry.pending = null;
      return { entry, attempt: entry.attempt, ...taken };
    });
    if (batch.length === 0) return Promise.resolve();
    const sent = (async () => {
      let results: BatchProgressResult[];
      try {
        results = await api.progressMany(
          batch.map(({ entry, update }) => ({ id: entry.id, leaseToken: entry.token, ...update })),
          lifetime.signal,
        );
        failures = 0;
      } catch (error) {
        if (lifetime.signal.aborted) {
          for (const { waiters } of batch) for (const resolve of waiters) resolve();
          return;
        }
        report(error);
        if (retryable(error)) {
          // Put them back under whatever came meanwhile: the later report wins, none is lost.
          // A job being completed or failed takes its report back in `finish`, before the final state.
          for (const { entry, attempt, update, waiters } of batch) {
            if (entry.controller.signal.aborted) {
              for (const resolve of waiters) resolve();
              continue;
            }
            if (entry.attempt !== attempt) {
              // The attempt ended meanwhile: the requeue sends it first, never the next attempt.
              entry.ended = mergePending({ update, waiters }, entry.ended);
              continue;
            }
            const newer = entry.pending;
            entry.pending = {
              update: mergeUpdates(update, newer?.update),
              waiters: [...waiters, ...(newer?.waiters ?? [])],
            };
            if (!entry.finishing && !entry.requeue) pending.add(entry);
          }
          retryDelay = delayAfter(error, failures++);
        } else for (const { waiters } of batch) for (const resolve of waiters) resolve();
        return;
      }
      results.forEach((result, index) => {
        const item = batch[index];
        if (!item) return;
        const { entry, attempt, update, waiters } = item;
        if (entry.attempt !== attempt) {
          // Sent before the attempt ended (a requeue crossing it); what the requeue answered stands.
        } else if ('error' in result) {
          const { status, code, message } = result.error;
          const error = new JobTrackerHttpError(status, code, message);
          if (isGone(error)) end(entry, error);
          else report(error);
        } else {
          const job = { ...entry.job, version: result.version };
          if (update.progress !== undefined) job.progress = update.progress;
          if (update.message !== undefined) job.message = update.message;
          if (job.status === 'pending') {
            // This report started the job's next attempt.
            job.status = 'running';
            job.attempt += 1;
          }
          entry.job = job;
        }
        for (const resolve of waiters) resolve();
      });
    })().finally(() => {
      inFlight = null;
      for (const { entry } of batch) if (entry.sending === sent) entry.sending = null;
      const delay = failures > 0 ? retryDelay : flushIntervalMs;
      wakeBatchWaiters();
      schedule(closing && failures === 0 ? 0 : delay);
    });
    inFlight = sent;
    for (const { entry } of batch) entry.sending = sent;
    return sent;
  }

  /** Sends every pending report, trying again through outages; resolves when none is left (or the reporter gives up). */
  async function drainProgress() {
    while ((pending.size > 0 || inFlight) && !lifetime.signal.aborted) {
      const settled = new Promise<void>((resolve) => batchWaiters.push(resolve));
      if (!inFlight && !timer) void flush();
      else if (timer && failures === 0) void flush();
      await settled;
    }
  }

  // ---- complete and fail ----

  function finish(entry: Entry, write: (signal: AbortSignal) => Promise<Job>): Promise<Job> {
    if (entry.controller.signal.aborted) return Promise.reject(entry.controller.signal.reason);
    if (entry.finishing) {
      return Promise.reject(
        new JobTrackerError(`complete() or fail() was already called for job ${entry.id}.`),
      );
    }
    entry.finishing = true;
    // The job's progress not yet sent goes first, on its own, so no report can cross the final state.
    let last = entry.pending;
    entry.pending = null;
    pending.delete(entry);
    const task = (async () => {
      while (entry.requeue) await entry.requeue;
      for (let tries = 0; ; tries++) {
        if (entry.controller.signal.aborted) throw entry.controller.signal.reason;
        checkLifetime();
        try {
          while (entry.sending) await entry.sending;
          // A report whose batch failed meanwhile came back: it is older than the one taken above.
          const back = entry.pending;
          entry.pending = null;
          if (back) {
            last = {
              update: mergeUpdates(back.update, last?.update),
              waiters: [...back.waiters, ...(last?.waiters ?? [])],
            };
          }
          if (last) {
            try {
              entry.job = await api.progress(entry.id, entry.token, last.update, lifetime.signal);
            } catch (error) {
              if (retryable(error) || isGone(error)) throw error;
              report(error); // refused (e.g. progress_decreased): the final state still goes
            }
            for (const resolve of last.waiters) resolve();
            last = null;
          }
          const job = await write(lifetime.signal);
          entry.job = job;
          forget(entry);
          return job;
        } catch (error) {
          if (lifetime.signal.aborted) throw closedError();
          if (isGone(error)) {
            end(entry, error);
            throw entry.controller.signal.reason;
          }
          if (retryable(error)) {
            report(error);
            await sleep(delayAfter(error, tries), lifetime.signal);
            continue;
          }
          entry.finishing = false;
          throw error;
        }
      }
    })().finally(() => {
      for (const resolve of last?.waiters ?? []) resolve();
    });
    outstanding.add(task);
    const settled = () => outstanding.delete(task);
    task.then(settled, settled);
    return task;
  }

  // ---- retrying: the host runs the job again ----

  function requeue(entry: Entry, message: string | undefined): Promise<Job> {
    if (entry.controller.signal.aborted) return Promise.reject(entry.controller.signal.reason);
    if (entry.finishing) {
      return Promise.reject(
        new JobTrackerError(`complete() or fail() was already called for job ${entry.id}.`),
      );
    }
    // The ended attempt's progress not yet sent goes before the requeue (it may be the report that
    // started that attempt), and so does one whose batch fails meanwhile; none goes after it.
    entry.attempt++;
    entry.ended = mergePending(entry.ended, entry.pending);
    entry.pending = null;
    pending.delete(entry);
    const previous = entry.requeue;
    const path = `/worker/jobs/${encodeURIComponent(entry.id)}/requeue`;
    const task = (async () => {
      if (previous) await previous;
      for (let tries = 0; ; tries++) {
        if (entry.controller.signal.aborted) throw entry.controller.signal.reason;
        checkLifetime();
        try {
          // A batch under way with the ended attempt's progress lands (or fails) before the requeue.
          while (entry.sending) await entry.sending;
          const last = entry.ended;
          entry.ended = null;
          if (last) {
            try {
              entry.job = await api.progress(entry.id, entry.token, last.update, lifetime.signal);
            } catch (error) {
              if (retryable(error)) entry.ended = mergePending(last, entry.ended);
              if (retryable(error) || isGone(error)) throw error;
              report(error); // refused (e.g. progress_decreased): the requeue still goes
            }
            for (const resolve of last.waiters) resolve();
          }
          const answer = await http.post(
            path,
            { leaseToken: entry.token, message: message ?? null },
            lifetime.signal,
          );
          entry.job = (answer as { job: Job }).job;
          return entry.job;
        } catch (error) {
          if (lifetime.signal.aborted) throw closedError();
          if (isGone(error)) {
            end(entry, error);
            throw entry.controller.signal.reason;
          }
          if (retryable(error)) {
            report(error);
            await sleep(delayAfter(error, tries), lifetime.signal);
            continue;
          }
          throw error;
        }
      }
    })();
    const settled: Promise<void> = task.then(
      () => {},
      () => {
        // Given up (closed, cancelled, refused): what the ended attempt still had is not sent.
        for (const resolve of entry.ended?.waiters ?? []) resolve();
        entry.ended = null;
      },
    );
    entry.requeue = settled;
    void settled.then(() => {
      if (entry.requeue !== settled) return;
      entry.requeue = null;
      // Progress reported meanwhile belongs to the next attempt: it goes now.
      if (entry.pending && !entry.finishing && !entry.controller.signal.aborted) {
        pending.add(entry);
        schedule(failures > 0 ? retryDelay : flushIntervalMs);
      }
    });
    outstanding.add(task);
    const forgetTask = () => outstanding.delete(task);
    task.then(forgetTask, forgetTask);
    return task;
  }

  // ---- track ----

  async function create(request: TrackRequest): Promise<ReportJobResponse> {
    for (let tries = 0; ; tries++) {
      checkLifetime();
      try {
        return (await http.post('/worker/jobs', request, lifetime.signal)) as ReportJobResponse;
      } catch (error) {
        if (lifetime.signal.aborted) throw closedError();
        if (request.externalId === undefined || !retryable(error)) throw error;
        report(error);
        await sleep(delayAfter(error, tries), lifetime.signal);
      }
    }
  }

  function handleOf(entry: Entry, created: boolean): TrackedJob {
    return {
      id: entry.id,
      created,
      signal: entry.controller.signal,
      get job() {
        return entry.job;
      },
      progress(progress, message) {
        if (typeof progress === 'number' && !(progress >= 0 && progress <= 100)) {
          throw new RangeError(`progress must be from 0 to 100, or null, not ${progress}.`);
        }
        if (entry.controller.signal.aborted || entry.finishing || lifetime.signal.aborted) {
          return Promise.resolve();
        }
        const update: ProgressUpdate = {};
        if (progress !== undefined) update.progress = progress;
        if (message !== undefined) update.message = message;
        return new Promise<void>((resolve) => {
          const before = entry.pending;
          entry.pending = {
            update: mergeUpdates(before?.update, update),
            waiters: [...(before?.waiters ?? []), resolve],
          };
          if (entry.requeue) return; // sent once the requeue landed
          pending.add(entry);
          if (pending.size >= MAX_BATCH && !inFlight) void flush();
          else schedule(failures > 0 ? retryDelay : flushIntervalMs);
        });
      },
      complete(result) {
        return finish(entry, (signal) => api.complete(entry.id, entry.token, result ?? null, signal));
      },
      fail(error) {
        return finish(entry, (signal) => api.fail(entry.id, entry.token, failureOf(error), signal));
      },
      retrying(message) {
        return requeue(entry, message);
      },
    };
  }

  return {
    async track(request) {
      if (closing) throw new JobTrackerError('The reporter is closed: it tracks no more jobs.');
      creating++;
      keepStream();
      const creation = (async () => {
        // With a cursor (or a ready stream) before the job exists, no cancel of it can be missed.
        await events.settled();
        return create(request);
      })();
      outstanding.add(creation);
      let answer: ReportJobResponse;
      try {
        answer = await creation;
      } catch (error) {
        creating--;
        keepStream();
        throw error;
      } finally {
        outstanding.delete(creation);
      }
      creating--;
      const { job, created, reportToken } = answer;
      if (reportToken === null) {
        keepStream();
        throw new JobTrackerError(
          `The owner's active job ${job.id} of this type and scope is run by a worker: it is not this reporter's to report.`,
        );
      }
      const entry: Entry = {
        id: job.id,
        token: reportToken,
        job,
        controller: new AbortController(),
        pending: null,
        sending: null,
        finishing: false,
        closed: false,
        attempt: 0,
        ended: null,
        requeue: null,
      };
      const set = entries.get(job.id) ?? new Set();
      set.add(entry);
      entries.set(job.id, set);
      if (job.status === 'cancelled') end(entry, new JobCancelledError(job.id));
      else if (job.status === 'completed' || job.status === 'failed') forget(entry);
      else keepStream();
      return handleOf(entry, created);
    },

    async close({ timeoutMs = 30_000 } = {}) {
      closing = true;
      const drained = (async () => {
        do {
          await drainProgress();
          while (outstanding.size > 0) await Promise.allSettled([...outstanding]);
          // A requeue that settled may have let the next attempt's progress go: drain that too.
        } while ((pending.size > 0 || inFlight) && !lifetime.signal.aborted);
      })();
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        drained.then(() => true),
        new Promise<boolean>((resolve) => {
          timeout = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timeout);
      if (!inTime) lifetime.abort(closedError());
      if (timer) clearTimeout(timer);
      timer = null;
      const closedReason = new JobTrackerError('The reporter was closed.');
      for (const set of [...entries.values()]) for (const entry of [...set]) end(entry, closedReason);
      events.close();
      if (!inTime) {
        throw new JobTrackerError(
          `The reporter closed with writes still outstanding after ${timeoutMs} ms; they were abandoned.`,
        );
      }
    },
  };
}

/** Two reports waiting to be sent as one: `later`'s fields over `earlier`'s, every waiter kept. */
function mergePending(
  earlier: { update: ProgressUpdate; waiters: (() => void)[] } | null,
  later: { update: ProgressUpdate; waiters: (() => void)[] } | null,
): { update: ProgressUpdate; waiters: (() => void)[] } | null {
  if (!earlier || !later) return earlier ?? later;
  return {
    update: mergeUpdates(earlier.update, later.update),
    waiters: [...earlier.waiters, ...later.waiters],
  };
}

/** `later` over `earlier`: a field `later` leaves out keeps the earlier value. */
function mergeUpdates(
  earlier: ProgressUpdate | undefined,
  later: ProgressUpdate | undefined,
): ProgressUpdate {
  return { ...earlier, ...later };
}

/** The failure the owner sees for what `fail` was given. */
function failureOf(error: ReportedFailure): FailureReport {
  if (typeof error === 'string') return { message: error };
  if (error instanceof Error) return failureReportOf(error);
  const { message, code, retryable } = error;
  return { message, code, retryable };
}
