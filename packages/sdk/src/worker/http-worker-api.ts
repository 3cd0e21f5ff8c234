import type { BatchProgressResponse, ClaimedJob, HeartbeatResponse, JobResponse } from '../wire.js';
import type { WorkerApi } from './worker-api.js';
import { createWorkerHttp, type WorkerHttpOptions } from './worker-http.js';

/** Options of {@link createWorkerApi}. */
export type WorkerApiOptions = WorkerHttpOptions;

/**
 * A client of the worker API (`/api/worker/…`) for a worker in its own process.
 *
 * @example
 * const api = createWorkerApi({ baseUrl: 'http://127.0.0.1:8787/api', workerKey: process.env.JOBTRACKER_WORKER_KEY! });
 * const claimed = await api.claim({ types: ['report.build'], waitMs: 20_000 });
 * if (claimed) await api.complete(claimed.job.id, claimed.leaseToken, { url: '/reports/1' });
 */
export function createWorkerApi(options: WorkerApiOptions): WorkerApi {
  const { post } = createWorkerHttp(options);
  const jobPath = (id: string, action: string) => `/worker/jobs/${encodeURIComponent(id)}/${action}`;

  const jobOf = (body: unknown) => (body as JobResponse).job;

  return {
    async claim(request, signal) {
      const body = await post(
        '/worker/claim',
        {
          types: request.types,
          workerId: request.workerId,
          leaseMs: request.leaseMs,
          waitMs: request.waitMs,
        },
        signal,
      );
      return body === null ? null : (body as ClaimedJob);
    },
    async heartbeat(id, leaseToken, leaseMs, signal) {
      return (await post(jobPath(id, 'heartbeat'), { leaseToken, leaseMs }, signal)) as HeartbeatResponse;
    },
    async progress(id, leaseToken, update, signal) {
      const { progress, message, leaseMs } = update;
      return jobOf(await post(jobPath(id, 'progress'), { leaseToken, progress, message, leaseMs }, signal));
    },
    async progressMany(updates, signal) {
      const body = updates.map(({ id, leaseToken, progress, message, leaseMs }) => ({
        id,
        leaseToken,
        progress,
        message,
        leaseMs,
      }));
      const answer = (await post('/worker/progress', { updates: body }, signal)) as BatchProgressResponse;
      return answer.results;
    },
    async complete(id, leaseToken, result, signal) {
      return jobOf(await post(jobPath(id, 'complete'), { leaseToken, result: result ?? null }, signal));
    },
    async fail(id, leaseToken, failure, signal) {
      const { message, code, retryable } = failure;
      return jobOf(
        await post(jobPath(id, 'fail'), { leaseToken, error: { message, code, retryable } }, signal),
      );
    },
    async release(id, leaseToken, signal) {
      return jobOf(await post(jobPath(id, 'release'), { leaseToken }, signal));
    },
  };
}
