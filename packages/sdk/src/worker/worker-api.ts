import { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
import type { Job, JsonValue } from '../wire.js';

/** A job handed to this worker by `claim`, with the lease that fences every later write. */
export interface ClaimedJob {
  /** The job as it is now: `running`, with `attempt` already counting this run. */
  job: Job;
  /** The user the job belongs to. */
  ownerId: string;
  /** The job's input, as its owner created it. */
  input: JsonValue | null;
  /** Send it with every write; a write with a stale token answers 409 `lease_lost`. */
  leaseToken: string;
  /** When the lease runs out unless a heartbeat or progress extends it (ISO-8601, as the API sends it). */
  leaseExpiresAt: string;
}

/** Options of {@link createWorkerApi}. */
export interface WorkerApiOptions {
  /** The API base, e.g. `http://127.0.0.1:8787/api`. */
  baseUrl: string;
  /** The server's `JOBTRACKER_WORKER_KEY`, sent as `Authorization: Bearer <key>`. */
  workerKey: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

/** What `claim` asks for. */
export interface ClaimRequest {
  /** Job types this worker runs (1–50). */
  types: readonly string[];
  /** Names this worker in the job's record; the server defaults to `worker`. */
  workerId?: string;
  /** Lease length in ms (1,000–3,600,000); the server's default applies when omitted. */
  leaseMs?: number;
  /** Wait up to this long (0–30,000 ms) for a job when none is pending: a long poll. */
  waitMs?: number;
}

/** A progress report: any of the fields may be left out. */
export interface ProgressUpdate {
  /** 0..100, or `null` while indeterminate; never lower than the current value within an attempt. */
  progress?: number | null;
  /** The latest progress message, plain text for the job's owner. */
  message?: string | null;
  /** Extends the lease by this long from now. */
  leaseMs?: number;
}

/** One job's part of `progressMany`. */
export interface BatchProgressUpdate extends ProgressUpdate {
  id: string;
  leaseToken: string;
}

/** What became of one update of `progressMany`: the job's new version, or why it was refused. */
export type BatchProgressResult =
  | { id: string; version: number }
  | { id: string; error: { status: number; code: string; message: string } };

/** How a job failed, as its owner will see it. */
export interface FailureReport {
  /** Shown to the job's owner: never put internal details here. */
  message: string;
  code?: string;
  /** Whether starting the job again may succeed. */
  retryable?: boolean;
}

/**
 * The worker API over HTTP, one method per route. Every method throws a `JobTrackerHttpError` when the
 * API answers an error status (e.g. 409 `lease_lost` or `job_cancelled`: stop working on that job) and
 * a `JobTrackerNetworkError` when it cannot be reached. Aborting `signal` rejects with its reason.
 */
export interface WorkerApi {
  /** Claims the oldest pending job of `types`, or answers `null` when none is pending after `waitMs`. */
  claim(request: ClaimRequest, signal?: AbortSignal): Promise<ClaimedJob | null>;
  /** Extends the lease by `leaseMs` (or the server's default) from now. */
  heartbeat(
    id: string,
    leaseToken: string,
    leaseMs?: number,
    signal?: AbortSignal,
  ): Promise<{ leaseExpiresAt: string }>;
  /** Reports progress and extends the lease; answers the job as it is now. */
  progress(id: string, leaseToken: string, update: ProgressUpdate, signal?: AbortSignal): Promise<Job>;
  /**
   * Reports the progress of many jobs in one request (at most 1,000 updates): for a pool of workers that
   * report thousands of updates a second. Each update stands alone; one refused (e.g. `lease_lost`) is
   * answered in its result and does not stop the others. Updates of one job apply in the order given.
   */
  progressMany(updates: readonly BatchProgressUpdate[], signal?: AbortSignal): Promise<BatchProgressResult[]>;
  /** Completes the job with `result` (JSON, at most 16 KiB); answers the completed job. */
  complete(id: string, leaseToken: string, result?: JsonValue | null, signal?: AbortSignal): Promise<Job>;
  /** Fails the job; answers the failed job. */
  fail(id: string, leaseToken: string, failure: FailureReport, signal?: AbortSignal): Promise<Job>;
  /** Gives the job back (e.g. on shutdown): it is pending again and the attempt is not spent. */
  release(id: string, leaseToken: string, signal?: AbortSignal): Promise<Job>;
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

  const jobOf = (body: unknown) => (body as { job: Job }).job;

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
      return (await post(jobPath(id, 'heartbeat'), { leaseToken, leaseMs }, signal)) as {
        leaseExpiresAt: string;
      };
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
      const answer = (await post('/worker/progress', { updates: body }, signal)) as {
        results: BatchProgressResult[];
      };
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
