import { JobTrackerError, JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';

/** How a client of the worker routes reaches the API: its base, the worker key, and a `fetch`. */
export interface WorkerHttpOptions {
  /** The API base, e.g. `http://127.0.0.1:8787/api`. */
  baseUrl: string;
  /** The server's `JOBTRACKER_WORKER_KEY`, sent as `Authorization: Bearer <key>`. */
  workerKey: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

/** The worker key's requests to the worker routes, with the SDK's typed errors. */
export interface WorkerHttp {
  /**
   * POSTs `body` as JSON to `path` (under the base); answers the parsed body, or `null` for a 204.
   * Rejects with a `JobTrackerHttpError` for an error status, a `JobTrackerNetworkError` when the API
   * cannot be reached, and the signal's reason once `signal` aborts.
   */
  post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  /**
   * GETs `path` as a stream (e.g. server-sent events) and answers the response once its status is OK;
   * rejects as {@link WorkerHttp.post} does.
   */
  stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>;
}

/** The one place the worker routes are requested from: {@link createWorkerApi} and the reporter share it. */
export function createWorkerHttp(options: WorkerHttpOptions): WorkerHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const rethrow = (error: unknown, signal: AbortSignal | undefined): never => {
    if (signal?.aborted) throw signal.reason;
    const detail = error instanceof Error ? error.message : String(error);
    throw new JobTrackerNetworkError(`Could not reach the job API (${detail}).`, { cause: error });
  };
  async function send(path: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${options.workerKey}`, ...init.headers },
        signal,
      });
    } catch (error) {
      return rethrow(error, signal);
    }
    if (!response.ok) throw await JobTrackerHttpError.from(response);
    return response;
  }
  return {
    async post(path, body, signal) {
      const response = await send(
        path,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        },
        signal,
      );
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        return rethrow(error, signal);
      }
      if (response.status === 204 || text === '') return null;
      try {
        return JSON.parse(text);
      } catch {
        throw new JobTrackerError(`The job API answered ${response.status} with a body that is not JSON.`);
      }
    },
    stream: (path, headers, signal) => send(path, { method: 'GET', headers }, signal),
  };
}
