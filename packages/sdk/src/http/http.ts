import type { TokenOption } from '../auth/token.js';
import { createTokenSource } from '../auth/token.js';
import { JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';

export type Fetch = typeof fetch;

export interface HttpOptions {
  /** The API base, e.g. `/api` or `https://jobs.example.com/api`. */
  baseUrl: string;
  token?: TokenOption;
  fetch?: Fetch;
}

export interface HttpRequest {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Fetch against the job API: adds the token, retries once with a fresh token after a 401, types failures. */
export function createHttp(options: HttpOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const token = createTokenSource(options.token);

  async function send(path: string, request: HttpRequest = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...request.headers };
      const bearer = await token(attempt > 0);
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      if (request.body !== undefined) headers['Content-Type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(base + path, {
          method: request.method ?? (request.body === undefined ? 'GET' : 'POST'),
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: request.signal,
        });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        throw new JobTrackerNetworkError('The job API could not be reached.', { cause: error });
      }
      if (response.status !== 401 || attempt > 0 || typeof options.token !== 'function') return response;
      await response.body?.cancel();
    }
  }

  return {
    send,
    /** The token the next request carries: a token function's answer serves until a 401 or its expiry. */
    token: () => token(),
    /** Sends a request and returns its JSON body; a non-2xx answer throws `JobTrackerHttpError`. */
    async json<T>(path: string, request?: HttpRequest): Promise<T> {
      const response = await send(path, request);
      if (!response.ok) throw await JobTrackerHttpError.from(response);
      try {
        return (await response.json()) as T;
      } catch (error) {
        throw new JobTrackerNetworkError('The job API sent an unreadable answer.', { cause: error });
      }
    },
  };
}

export type Http = ReturnType<typeof createHttp>;
