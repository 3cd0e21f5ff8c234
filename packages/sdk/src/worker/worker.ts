import { hostname } from 'node:os';
import { MAX_CLAIM_WAIT_MS } from '../wire.js';
import { createWorkerApi } from './http-worker-api.js';
import type { JobHandler } from './job-handler.js';
import { createJobRunner, DEFAULT_CLAIM_WAIT_MS } from './job-runner.js';
import { wholeNumberOption } from './lease.js';

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
  /** Lease asked for each job, in ms (1,000–3,600,000); a heartbeat goes every third of it. Default 15,000. */
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
   * Stops claiming (aborting a claim request in flight), aborts the signals of running handlers,
   * resolves once every handler has settled and gives their jobs back: pending again, the attempt not
   * spent, so another worker runs them without waiting for their leases to expire.
   */
  stop(): Promise<void>;
  /** Handlers running (or finishing their last write) now. */
  readonly running: number;
}

/**
 * A worker for a process of its own (a host's backend): claims jobs of `types` through the worker API
 * with long polls, runs up to `concurrency` handlers at once, keeps their leases alive with a heartbeat
 * every `leaseMs / 3`, and completes or fails each job with what its handler returns or throws.
 *
 * A 409 (`lease_lost`, `job_cancelled`) or 404 on a heartbeat or progress report aborts the handler's
 * signal; nothing more is written for that job. When the API cannot be reached the claim loop backs off
 * (250 ms doubling to 10 s, full jitter) and keeps trying until stopped. Nothing happens before
 * `start()`. It is {@link createJobRunner} over {@link createWorkerApi}.
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
  const runner = createJobRunner({
    api: createWorkerApi({ baseUrl: options.baseUrl, workerKey: options.workerKey, fetch: options.fetch }),
    workerId: options.workerId ?? `${hostname()}:${process.pid}`,
    leaseMs: options.leaseMs,
    waitMs: wholeNumberOption('waitMs', options.waitMs ?? DEFAULT_CLAIM_WAIT_MS, 0, MAX_CLAIM_WAIT_MS),
    onError: options.onError,
  });
  runner.handle(options.types, options.handler, { concurrency: options.concurrency ?? 1 });
  return {
    start: () => runner.start(),
    stop: () => runner.stop(),
    get running() {
      return runner.running;
    },
  };
}
