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
  const refreshes = typeof options.token === 'function';

  async function send(path: string, { method, body, headers, signal }: HttpRequest = {}): Promise<Response> {
    const json = body !== undefined;
    for (let retried = false; ; retried = true) {
      const bearer = await token(retried);
      let response: Response;
      try {
        response = await doFetch(base + path, {
          method: method ?? (json ? 'POST' : 'GET'),
          headers: {
            ...headers,
            ...(bearer && { Authorization: `Bearer ${bearer}` }),
            ...(json && { 'Content-Type': 'application/json' }),
          },
          body: json ? JSON.stringify(body) : undefined,
          signal,
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new JobTrackerNetworkError('The job API could not be reached.', { cause: error });
      }
      if (response.status !== 401 || retried || !refreshes) return response;
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
      return response.json().catch((error) => {
        throw new JobTrackerNetworkError('The job API sent an unreadable answer.', { cause: error });
      });
    },
  };
}

export type Http = ReturnType<typeof createHttp>;
