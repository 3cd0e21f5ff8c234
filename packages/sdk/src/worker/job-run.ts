import type { ClaimedJob, FailureReport, JsonValue } from '../wire.js';
import { backoff, sleep } from './backoff.js';
import { failureReportOf, GENERIC_FAILURE, JobFailure } from './job-failure.js';
import type { JobContext, JobHandler } from './job-handler.js';
import { heartbeatIntervalMs } from './lease.js';
import { isGone, isRefusedResult, isTransient } from './refusals.js';
import type { WorkerApi } from './worker-api.js';

/** What a job run needs besides the job and its handler. */
export interface JobRunDeps {
  api: WorkerApi;
  /** The lease each heartbeat and progress report asks for, in ms. */
  leaseMs: number;
  /** Told of every problem; must not throw. */
  report: (error: unknown) => void;
}

/** One claimed job, running under its handler until it is written back or aborted. */
export interface JobRun {
  /** Settles (never rejects) once the handler has settled and the result or failure is written. */
  readonly done: Promise<void>;
  /** Aborts the handler's signal; nothing more is written for the job. */
  abort(reason: unknown): void;
  /** Gives the job back: pending again, the attempt not spent. */
  release(): Promise<unknown>;
}

/**
 * Runs `handler` on a claimed job: keeps its lease alive with a heartbeat every third of the lease,
 * aborts the handler's signal once the job is no longer this worker's (a 409 `lease_lost` or
 * `job_cancelled`, a 404, or the API's `watch`), and completes or fails the job with what the handler
 * returns or throws.
 */
export function startJobRun(claim: ClaimedJob, handler: JobHandler, deps: JobRunDeps): JobRun {
  const { api, leaseMs, report } = deps;
  const { job, leaseToken } = claim;
  const controller = new AbortController();
  const { signal } = controller;
  const abort = (reason: unknown) => {
    if (!signal.aborted) controller.abort(reason);
  };
  const abortIfGone = (error: unknown) => {
    if (isGone(error)) abort(error);
  };
  /** When the lease runs out as far as this process knows (its own clock). */
  let leaseUntil = Date.now() + leaseMs;
  const extendedFrom = (sentAt: number) => {
    leaseUntil = Math.max(leaseUntil, sentAt + leaseMs);
  };
  const unwatch = api.watch?.(job.id, abort);

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
          if (isGone(error)) abort(error);
          else report(error);
        },
      )
      .finally(() => {
        beating = null;
      });
  };
  const heartbeat = setInterval(beat, heartbeatIntervalMs(leaseMs));
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
      // Cancelled or stopped while reporting: this is the handler's next chance to notice.
      signal.throwIfAborted();
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
        if (!fallback || !isRefusedResult(error)) return;
        write = fallback;
        fallback = null;
        failures = -1;
      }
    }
  }

  const failWith = (failure: FailureReport) => () => api.fail(job.id, leaseToken, failure);
  const done = (async () => {
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
        write = failWith(failureReportOf(error));
      }
      // No heartbeat may cross the result on the wire: the server would refuse it (409) once the job ended.
      stopBeating();
      await beating;
      await finish(write, fallback);
    } finally {
      stopBeating();
      signal.removeEventListener('abort', stopBeating);
      unwatch?.();
      await beating;
    }
  })().catch(report);

  return { done, abort, release: () => api.release(job.id, leaseToken) };
}
