import { JobTrackerNetworkError } from '../errors/errors.js';
import { type ClaimedJob, DEFAULT_LEASE_MS, MAX_LEASE_MS, MIN_LEASE_MS } from '../wire.js';
import { backoff, sleep } from './backoff.js';
import type { JobHandler } from './job-handler.js';
import { type JobRun, startJobRun } from './job-run.js';
import { wholeNumberOption } from './lease.js';
import type { WorkerApi } from './worker-api.js';

/** How long one claim waits for a job unless told otherwise, in ms. */
export const DEFAULT_CLAIM_WAIT_MS = 20_000;
/** The longest claim wait a runner takes (the HTTP API allows 30 s; the in-process one any). */
const MAX_WAIT_MS = 3_600_000;
/** A claim answered empty faster than this (e.g. with `waitMs: 0`) waits out the rest before the next. */
const MIN_CLAIM_INTERVAL_MS = 1000;
/** A claim without an answer this long after `waitMs` is abandoned as a network failure. */
const CLAIM_GRACE_MS = 15_000;

/** Options of {@link createJobRunner}. */
export interface JobRunnerOptions {
  /** How jobs are claimed and written back: {@link createWorkerApi} over HTTP, or the server's own. */
  api: WorkerApi;
  /** Names this runner in the jobs it claims. */
  workerId: string;
  /** Lease asked for each job, in ms (1,000–3,600,000); a heartbeat goes every third of it. Default 15,000. */
  leaseMs?: number;
  /** How long one claim waits for a pending job (a long poll), in ms (0–3,600,000). Default 20,000. */
  waitMs?: number;
  /**
   * Told of every problem: claim failures (the runner backs off and keeps trying), heartbeat failures
   * other than a lost lease, errors thrown by a handler other than `JobFailure`, and final writes that
   * could not be made. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** Options of {@link JobRunner.handle}. */
export interface HandleOptions {
  /** Jobs of these types run at most this many at a time in this runner. Default 4. */
  concurrency?: number;
}

/** Claims jobs through a {@link WorkerApi} and runs them; see {@link createJobRunner}. */
export interface JobRunner {
  /**
   * Runs jobs of `types` (one type or several sharing `concurrency`) with `handler`. Handling the same
   * types again replaces the handler for the jobs claimed from then on.
   */
  handle(types: string | readonly string[], handler: JobHandler, options?: HandleOptions): void;
  /** Starts claiming jobs. Calling it while started does nothing. */
  start(): void;
  /**
   * Stops claiming, aborts the signals of running handlers, resolves once every handler has settled and
   * gives their jobs back: pending again, the attempt not spent, so they run again without waiting for
   * their leases to expire.
   */
  stop(): Promise<void>;
  /** Handlers running (or finishing their last write) now. */
  readonly running: number;
}

/** The jobs of one `handle` call: their claim loop and how many of them run. */
interface Lane {
  types: readonly string[];
  handler: JobHandler;
  concurrency: number;
  running: number;
  /** Wakes the claim loop waiting for a free slot. */
  wake: (() => void) | null;
}

interface Session {
  controller: AbortController;
  loops: Promise<void>[];
}

/**
 * The one job-running core: claims jobs through `api` (a long poll of `waitMs`), runs each type's
 * handler up to its concurrency, keeps leases alive with heartbeats, and completes or fails each job
 * with what its handler returns or throws. `createWorker` is this core over HTTP; the server's
 * in-process runner is this core over its engine. When claiming fails the runner backs off (250 ms
 * doubling to 10 s, full jitter) and keeps trying until stopped. Nothing happens before `start()`.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { api, workerId } = options;
  const leaseMs = wholeNumberOption(
    'leaseMs',
    options.leaseMs ?? DEFAULT_LEASE_MS,
    MIN_LEASE_MS,
    MAX_LEASE_MS,
  );
  const waitMs = wholeNumberOption('waitMs', options.waitMs ?? DEFAULT_CLAIM_WAIT_MS, 0, MAX_WAIT_MS);
  const onError = options.onError ?? ((error: unknown) => console.error('[jobtracker worker]', error));
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // a failing onError must not stop the runner
    }
  };
  const lanes = new Map<string, Lane>();
  const inFlight = new Set<JobRun>();
  let session: Session | null = null;

  /** One long-poll claim, abandoned when the runner stops or the API does not answer in time. */
  async function claimOnce(lane: Lane, stopping: AbortSignal): Promise<ClaimedJob | null> {
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
      return await api.claim({ types: lane.types, workerId, leaseMs, waitMs }, controller.signal);
    } finally {
      clearTimeout(timer);
      stopping.removeEventListener('abort', onStop);
    }
  }

  async function claimLoop(lane: Lane, stopping: AbortSignal): Promise<void> {
    let failures = 0;
    while (!stopping.aborted) {
      if (lane.running >= lane.concurrency) {
        await new Promise<void>((resolve) => {
          lane.wake = resolve;
        });
        lane.wake = null;
        continue;
      }
      const askedAt = Date.now();
      let claimed: ClaimedJob | null;
      try {
        claimed = await claimOnce(lane, stopping);
      } catch (error) {
        if (stopping.aborted) break;
        report(error);
        await sleep(backoff(failures++), stopping);
        continue;
      }
      failures = 0;
      if (stopping.aborted) {
        // Claimed just as the runner stopped: give it back rather than leave it to its lease.
        if (claimed) await api.release(claimed.job.id, claimed.leaseToken).catch(() => {});
        break;
      }
      if (claimed) run(lane, claimed);
      else {
        const early = MIN_CLAIM_INTERVAL_MS - (Date.now() - askedAt);
        if (early > 0) await sleep(early, stopping);
      }
    }
  }

  function run(lane: Lane, claimed: ClaimedJob): void {
    const job = startJobRun(claimed, lane.handler, { api, leaseMs, report });
    inFlight.add(job);
    lane.running++;
    void job.done.finally(() => {
      inFlight.delete(job);
      lane.running--;
      lane.wake?.();
    });
  }

  return {
    handle(types, handler, handleOptions = {}) {
      const list = typeof types === 'string' ? [types] : [...types];
      if (list.length === 0) throw new RangeError('types must name at least one job type.');
      const concurrency = wholeNumberOption('concurrency', handleOptions.concurrency ?? 4, 1, 10_000);
      const key = list.join('\n');
      const known = lanes.get(key);
      if (known) {
        known.handler = handler;
        known.concurrency = concurrency;
        known.wake?.();
        return;
      }
      const lane: Lane = { types: list, handler, concurrency, running: 0, wake: null };
      lanes.set(key, lane);
      session?.loops.push(claimLoop(lane, session.controller.signal).catch(report));
    },
    start() {
      if (session) return;
      const current: Session = { controller: new AbortController(), loops: [] };
      session = current;
      for (const lane of lanes.values()) {
        current.loops.push(claimLoop(lane, current.controller.signal).catch(report));
      }
    },
    async stop() {
      const current = session;
      session = null;
      const reason = new Error('The worker is stopping.');
      current?.controller.abort(reason);
      for (const lane of lanes.values()) lane.wake?.();
      const stopped = [...inFlight];
      for (const job of stopped) job.abort(reason);
      await Promise.all(current?.loops ?? []);
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
