import { hostname } from 'node:os';
import { JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
import type { Job, JsonValue } from '../wire.js';
import { type ClaimedJob, createWorkerApi, type FailureReport } from './worker-api.js';

/** What a handler gets besides the job: its input, an abort signal, and a way to report progress. */
export interface JobContext {
  /** The job's input, as its owner created it. */
  input: JsonValue | null;
  /** 1 for the first run; higher when the job was re-queued after a worker was lost. */
  attempt: number;
  /**
   * Aborted when the job is cancelled, its lease is lost or the worker stops; stop work when it fires.
   * Once it is aborted nothing more is written for the job, whatever the handler returns or throws.
   */
  signal: AbortSignal;
  /**
   * Reports progress (0..100, or `null` while indeterminate; leave it `undefined` to keep the current
   * value) and an optional message; also extends the lease. Rejects once `signal` is aborted, and with
   * the API's error otherwise (e.g. a `JobTrackerHttpError` 409 `progress_decreased`).
   */
  progress(progress: number | null | undefined, message?: string): Promise<void>;
}

/**
 * Runs one job. What it returns (JSON, at most 16 KiB) becomes the job's `result`. Throw a
 * {@link JobFailure} to fail the job with a message for its owner; any other error is reported to
 * `onError` and the owner sees only a generic message.
 */
export type JobHandler = (
  job: Job,
  context: JobContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing at all.
) => Promise<JsonValue | undefined | void>;

/** A failure whose message is meant for the job's owner. Other errors are reported and shown generically. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  /** A machine-readable reason, e.g. `file_too_large`. */
  readonly code: string | undefined;
  /** Whether starting the job again may succeed. */
  readonly retryable: boolean | undefined;
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** The API base, e.g. `http://127.0.0.1:8787/api`. */
  baseUrl: string;
  /** The server's `JOBTRACKER_WORKER_KEY`. */
  workerKey: string;
  /** Job types this worker runs (1–50). */
  types: readonly string[];
  /** Runs each claimed job. */
  handler: JobHandler;
  /** Handlers running at once. Default 1. */
  concurrency?: number;
  /** Lease asked for each job, in ms (1,000–3,600,000); a heartbeat goes every third of it. Default 30,000. */
  leaseMs?: number;
  /** How long one claim request waits for a job (long poll), in ms (0–30,000). Default 20,000. */
  waitMs?: number;
  /** Names this worker in the jobs it claims. Default `<hostname>:<pid>`. */
  workerId?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /**
   * Told of every problem: claim failures (network, HTTP; the worker backs off and keeps trying),
   * heartbeat failures other than a lost lease, errors thrown by the handler other than `JobFailure`,
   * and final writes that could not be made. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** A worker claiming and running jobs through the worker API; see {@link createWorker}. */
export interface Worker {
  /** Starts claiming jobs. Calling it while started does nothing. */
  start(): void;
  /**
   * Stops claiming (aborting a claim request in flight), aborts the signals of running handlers and
   * resolves once every handler has settled. Nothing is written for the aborted jobs: the server gives
   * them to another worker when their leases expire.
   */
  stop(): Promise<void>;
  /** Handlers running (or finishing their last write) now. */
  readonly running: number;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** A 204 faster than this (e.g. with `waitMs: 0`) waits out the rest before the next claim. */
const MIN_CLAIM_INTERVAL_MS = 1000;
/** A claim request without an answer this long after `waitMs` is abandoned as a network failure. */
const CLAIM_GRACE_MS = 15_000;

const GENERIC_FAILURE: FailureReport = {
  message: 'The job failed unexpectedly.',
  code: 'internal_error',
  retryable: true,
};

/** Exponential backoff with full jitter: a random delay up to 250 ms × 2^failures, at most 10 s. */
const backoff = (failures: number) =>
  Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 16));

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The job is no longer this worker's: cancelled, its lease lost, or gone. */
const isGone = (error: unknown) =>
  error instanceof JobTrackerHttpError &&
  (error.status === 404 ||
    (error.status === 409 && (error.code === 'lease_lost' || error.code === 'job_cancelled')));

/** Worth trying again: the API could not be reached or had a fault. */
const isTransient = (error: unknown) =>
  error instanceof JobTrackerNetworkError || (error instanceof JobTrackerHttpError && error.status >= 500);

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}.`);
  }
  return value;
}

interface Session {
  controller: AbortController;
  loop: Promise<void>;
  /** Wakes the claim loop waiting for a free slot. */
  wake: (() => void) | null;
}

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
  /** Gives the job back to the server (on stop). */
  release: () => Promise<unknown>;
}

/**
 * A worker for a process of its own (a host's backend): claims jobs of `types` through the worker API
 * with long polls, runs up to `concurrency` handlers at once, keeps their leases alive with a heartbeat
 * every `leaseMs / 3`, and completes or fails each job with what its handler returns or throws.
 *
 * A 409 (`lease_lost`, `job_cancelled`) or 404 on a heartbeat or progress report aborts the handler's
 * signal; nothing more is written for that job. When the API cannot be reached the claim loop backs off
 * (250 ms doubling to 10 s, full jitter) and keeps trying until stopped. Nothing happens before
 * `start()`.
 *
 * @example
 * const worker = createWorker({
 *   baseUrl: 'http://127.0.0.1:8787/api',
 *   workerKey: process.env.JOBTRACKER_WORKER_KEY!,
 *   types: ['report.build'],
 *   async handler(job, { input, signal, progress }) {
 *     await progress(10, 'Reading the data');
 *     const url = await buildReport(input, signal);
 *     return { url };
 *   },
 * });
 * worker.start();
 * process.once('SIGTERM', () => void worker.stop());
 */
export function createWorker(options: WorkerOptions): Worker {
  if (options.types.length === 0) throw new RangeError('types must name at least one job type.');
  const concurrency = integerOption('concurrency', options.concurrency ?? 1, 1, 10_000);
  const leaseMs = integerOption('leaseMs', options.leaseMs ?? 30_000, 1000, 3_600_000);
  const waitMs = integerOption('waitMs', options.waitMs ?? 20_000, 0, 30_000);
  const types = [...options.types];
  const workerId = options.workerId ?? `${hostname()}:${process.pid}`;
  const handler = options.handler;
  const api = createWorkerApi({
    baseUrl: options.baseUrl,
    workerKey: options.workerKey,
    fetch: options.fetch,
  });
  const onError = options.onError ?? ((error: unknown) => console.error('[jobtracker worker]', error));
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // a failing onError must not stop the worker
    }
  };

  const inFlight = new Set<RunningJob>();
  let session: Session | null = null;

  /** One long-poll claim, abandoned when the worker stops or the server does not answer in time. */
  async function claimOnce(stopping: AbortSignal): Promise<ClaimedJob | null> {
    const controller = new AbortController();
    const onStop = () => controller.abort(stopping.reason);
    stopping.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(
      () =>
        controller.abort(
          new JobTrackerNetworkError(`The claim request got no answer within ${waitMs + CLAIM_GRACE_MS} ms.`),
        ),
      waitMs + CLAIM_GRACE_MS,
    );
    try {
      return await api.claim({ types, workerId, leaseMs, waitMs }, controller.signal);
    } finally {
      clearTimeout(timer);
      stopping.removeEventListener('abort', onStop);
    }
  }

  async function claimLoop(current: Session): Promise<void> {
    const stopping = current.controller.signal;
    let failures = 0;
    while (!stopping.aborted) {
      if (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          current.wake = resolve;
        });
        current.wake = null;
        continue;
      }
      const askedAt = Date.now();
      let claimed: ClaimedJob | null;
      try {
        claimed = await claimOnce(stopping);
      } catch (error) {
        if (stopping.aborted) break;
        report(error);
        await sleep(backoff(failures++), stopping);
        continue;
      }
      failures = 0;
      // A job claimed just as the worker stopped is left to its lease: the server re-queues it.
      if (stopping.aborted) break;
      if (claimed) run(claimed);
      else {
        const early = MIN_CLAIM_INTERVAL_MS - (Date.now() - askedAt);
        if (early > 0) await sleep(early, stopping);
      }
    }
  }

  function run(claim: ClaimedJob): void {
    const { job, leaseToken } = claim;
    const controller = new AbortController();
    const { signal } = controller;
    /** When the lease runs out as far as this process knows (its own clock). */
    let leaseUntil = Date.now() + leaseMs;
    const extendedFrom = (sentAt: number) => {
      leaseUntil = Math.max(leaseUntil, sentAt + leaseMs);
    };
    const abortIfGone = (error: unknown) => {
      if (isGone(error) && !signal.aborted) controller.abort(error);
    };

    let beating: Promise<void> | null = null;
    const beat = () => {
      if (beating || signal.aborted) return;
      const sentAt = Date.now();
      beating = api
        .heartbeat(job.id, leaseToken, leaseMs, signal)
        .then(
          () => extendedFrom(sentAt),
          (error: unknown) => {
            if (signal.aborted) return;
            if (isGone(error)) abortIfGone(error);
            else report(error);
          },
        )
        .finally(() => {
          beating = null;
        });
    };
    const heartbeat = setInterval(beat, Math.max(250, Math.floor(leaseMs / 3)));
    const stopBeating = () => clearInterval(heartbeat);
    signal.addEventListener('abort', stopBeating, { once: true });

    const context: JobContext = {
      input: claim.input,
      attempt: job.attempt,
      signal,
      async progress(progress, message) {
        signal.throwIfAborted();
        const sentAt = Date.now();
        try {
          await api.progress(job.id, leaseToken, { progress, message, leaseMs }, signal);
          extendedFrom(sentAt);
        } catch (error) {
          abortIfGone(error);
          signal.throwIfAborted();
          throw error;
        }
      },
    };

    /** Completes or fails the job, trying again through outages while the lease lasts. */
    async function finish(write: () => Promise<unknown>, fallback: (() => Promise<unknown>) | null) {
      for (let failures = 0; ; failures++) {
        if (signal.aborted) return;
        try {
          await write();
          return;
        } catch (error) {
          if (signal.aborted) return;
          if (isGone(error)) return abortIfGone(error);
          const delay = backoff(failures);
          if (isTransient(error) && Date.now() + delay < leaseUntil) {
            await sleep(delay, signal);
            continue;
          }
          report(error);
          // The API refused the result (too large, not JSON): fail the job rather than leave it running.
          const refused =
            error instanceof JobTrackerHttpError && (error.status === 413 || error.status === 422);
          if (!fallback || !refused) return;
          write = fallback;
          fallback = null;
          failures = -1;
        }
      }
    }

    const failWith = (failure: FailureReport) => () => api.fail(job.id, leaseToken, failure);
    const running: RunningJob = {
      controller,
      done: Promise.resolve(),
      release: () => api.release(job.id, leaseToken),
    };
    running.done = (async () => {
      try {
        let write: () => Promise<unknown>;
        let fallback: (() => Promise<unknown>) | null = null;
        try {
          const result = await handler(job, context);
          write = () => api.complete(job.id, leaseToken, (result ?? null) as JsonValue | null);
          fallback = failWith(GENERIC_FAILURE);
        } catch (error) {
          if (signal.aborted) return;
          if (!(error instanceof JobFailure)) report(error);
          write = failWith(
            error instanceof JobFailure
              ? { message: error.message, code: error.code, retryable: error.retryable }
              : GENERIC_FAILURE,
          );
        }
        // No heartbeat may cross the result on the wire: the server would refuse it (409) once the job ended.
        stopBeating();
        await beating;
        await finish(write, fallback);
      } finally {
        stopBeating();
        signal.removeEventListener('abort', stopBeating);
        await beating;
      }
    })()
      .catch(report)
      .finally(() => {
        inFlight.delete(running);
        session?.wake?.();
      });
    inFlight.add(running);
  }

  return {
    start() {
      if (session) return;
      const current: Session = { controller: new AbortController(), loop: Promise.resolve(), wake: null };
      session = current;
      current.loop = claimLoop(current).catch(report);
    },
    async stop() {
      const current = session;
      session = null;
      const reason = new Error('The worker is stopping.');
      if (current) {
        current.controller.abort(reason);
        current.wake?.();
      }
      const stopped = [...inFlight];
      for (const { controller } of stopped) controller.abort(reason);
      await current?.loop;
      await Promise.all(stopped.map(({ done }) => done));
      // Give the jobs back: another worker (or this one after a restart) runs them without waiting for
      // the lease to expire, and the attempt is not spent. A job that finished meanwhile answers 409.
      await Promise.all(stopped.map(({ release }) => release().catch(() => {})));
    },
    get running() {
      return inFlight.size;
    },
  };
}
