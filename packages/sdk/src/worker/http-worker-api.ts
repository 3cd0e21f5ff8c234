import { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
import type { BatchProgressResponse, ClaimedJob, HeartbeatResponse, JobResponse } from '../wire.js';
import type { WorkerApi } from './worker-api.js';

/** Options of {@link createWorkerApi}. */
export interface WorkerApiOptions {
  /** The API base, e.g. `http://127.0.0.1:8787/api`. */
  baseUrl: string;
  /** The server's `JOBTRACKER_WORKER_KEY`, sent as `Authorization: Bearer <key>`. */
  workerKey: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

/**
 * A client of the worker API (`/api/worker/…`) for a worker in its own process.
 *
 * @example
 * const api = createWorkerApi({ baseUrl: 'http://127.0.0.1:8787/api', workerKey: process.env.JOBTRACKER_WORKER_KEY! });
 * const claimed = await api.claim({ types: ['report.build'], waitMs: 20_000 });
 * if (claimed) await api.complete(claimed.job.id, claimed.leaseToken, { url: '/reports/1' });
 */
export function createWorkerApi(options: WorkerApiOptions): WorkerApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const jobPath = (id: string, action: string) => `/worker/jobs/${encodeURIComponent(id)}/${action}`;

  /** POSTs `body` as JSON; answers the parsed body, or `null` for a 204. */
  async function post(path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const rethrow = (error: unknown): never => {
      if (signal?.aborted) throw signal.reason;
      const detail = error instanceof Error ? error.message : String(error);
      throw new JobTrackerNetworkError(`Could not reach the job API (${detail}).`, { cause: error });
    };
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.workerKey}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      return rethrow(error);
    }
    if (!response.ok) throw await JobTrackerHttpError.from(response);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return rethrow(error);
    }
    if (response.status === 204 || text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new JobTrackerError(`The job API answered ${response.status} with a body that is not JSON.`);
    }
  }

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
