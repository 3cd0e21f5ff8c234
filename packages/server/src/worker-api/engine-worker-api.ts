import type { BatchProgressResult, ClaimRequest } from '@jobtracker/sdk/wire';
import type { WorkerApi } from '@jobtracker/sdk/worker';
import type { JobChange, JobEngine } from '../engine/engine.js';

const JOB_ID = /^[0-9a-z]{26}$/;

const isoTime = (epochMs: number) => new Date(epochMs).toISOString();

/** Waits until a job of one of `types` may be pending, or `ms` pass, or `signal` aborts. */
function pendingJob(engine: JobEngine, types: readonly string[], ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const wanted = new Set(types);
    const done = () => {
      clearTimeout(timer);
      stop();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const stop = engine.onChange((job) => {
      if (job.status === 'pending' && wanted.has(job.type)) done();
    });
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The worker API in the server's own process, over its engine: what the HTTP worker routes serve and
 * what the in-process runner claims through. Refusals reject with the engine's `ApiError`. A claim waits
 * up to `waitMs` for a pending job; aborting its signal before a job is claimed rejects with the reason.
 * `watch` learns at once, from the engine's changes, that a claimed job stopped running.
 */
export function createEngineWorkerApi(engine: JobEngine): WorkerApi {
  const watchers = new Map<string, (change: JobChange) => void>();
  let unsubscribe: (() => void) | null = null;

  return {
    async claim(request: ClaimRequest, signal?: AbortSignal) {
      const options = {
        types: request.types,
        workerId: request.workerId ?? 'worker',
        leaseMs: request.leaseMs,
      };
      const deadline = Date.now() + (request.waitMs ?? 0);
      for (;;) {
        signal?.throwIfAborted();
        const claim = await engine.claim(options);
        if (claim) return { ...claim, leaseExpiresAt: isoTime(claim.leaseExpiresAt) };
        const left = deadline - Date.now();
        if (left <= 0) return null;
        await pendingJob(engine, request.types, left, signal);
      }
    },
    async heartbeat(id, leaseToken, leaseMs) {
      const { leaseExpiresAt } = await engine.heartbeat(id, leaseToken, leaseMs);
      return { leaseExpiresAt: isoTime(leaseExpiresAt) };
    },
    progress: (id, leaseToken, update) => engine.progress(id, leaseToken, update),
    async progressMany(updates) {
      // An id that cannot name a job is refused like an unknown one, without a look in the store.
      const outcomes = await engine.progressMany(
        updates.map((update) => ({ ...update, id: JOB_ID.test(update.id) ? update.id : '' })),
      );
      return outcomes.map((outcome, index): BatchProgressResult => {
        const id = updates[index]?.id ?? '';
        if ('job' in outcome) return { id, version: outcome.job.version };
        const { status, code, message } = outcome.error;
        return { id, error: { status, code, message } };
      });
    },
    complete: (id, leaseToken, result) => engine.complete(id, leaseToken, result ?? null),
    fail: (id, leaseToken, failure) => engine.fail(id, leaseToken, failure),
    release: (id, leaseToken) => engine.release(id, leaseToken),
    watch(id, onLost) {
      const watcher = (change: JobChange) => {
        if (change.status !== 'running') onLost(new Error(`The job is ${change.status}.`));
      };
      watchers.set(id, watcher);
      unsubscribe ??= engine.onChange((change) => watchers.get(change.id)?.(change));
      return () => {
        // A job re-queued and claimed again may have a newer watcher under its id: leave that one.
        if (watchers.get(id) === watcher) watchers.delete(id);
        if (watchers.size === 0 && unsubscribe) {
          unsubscribe();
          unsubscribe = null;
        }
      };
    },
  };
}
