import { HTTPException } from 'hono/http-exception';
import { ApiError } from '../http/errors.js';
import { BodyNotReceivedError } from '../http/validate.js';
import { createId } from '../ids/ids.js';
import type { ErrorContext, Logger } from './log.js';
import { oneLine } from './log.js';

/** Seconds a client is asked to wait when the database is out of reach (a restart, a failover). */
const STORAGE_RETRY_AFTER_S = 2;

/** An error as the API answers it: status, the headers it adds, and the JSON body. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const errorBody = (code: string, message: string, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

export interface ErrorAnswerDeps {
  logger: Logger;
  onError: (error: unknown, context?: ErrorContext) => void;
  /** Whether an error means the database cannot be reached (503 and Retry-After, not 500). */
  isUnavailable: (error: unknown) => boolean;
}

/**
 * How the API answers an error thrown while it served `method path`: an `ApiError` as itself, Hono's
 * own refusals as 400 (or their 5xx), anything else as a 500 (503 when the database is out of reach)
 * with a request id, reported to `onError`. Hono's `onError` and the answers given before Hono share it.
 */
export function createErrorAnswer({ logger, onError, isUnavailable }: ErrorAnswerDeps) {
  return (error: unknown, method: string, path: string): ErrorAnswer => {
    if (error instanceof BodyNotReceivedError) {
      logger.debug(
        `[jobtracker] ${method} ${oneLine(path, 200)}: the client closed the connection before its body arrived`,
      );
    }
    if (error instanceof ApiError) {
      return {
        status: error.status,
        headers: { ...error.headers },
        body: errorBody(error.code, error.message, error.details),
      };
    }
    if (error instanceof HTTPException) {
      const { status } = error;
      return {
        status,
        headers: {},
        body: errorBody(status >= 500 ? 'internal_error' : 'bad_request', error.message || 'Bad request.'),
      };
    }
    const requestId = createId();
    onError(error, { requestId, method, path });
    if (isUnavailable(error)) {
      return {
        status: 503,
        headers: { 'X-Request-Id': requestId, 'Retry-After': String(STORAGE_RETRY_AFTER_S) },
        body: {
          error: {
            code: 'storage_unavailable',
            message: 'The job database cannot be reached right now; try again shortly.',
            requestId,
          },
        },
      };
    }
    return {
      status: 500,
      headers: { 'X-Request-Id': requestId },
      body: { error: { code: 'internal_error', message: 'Something went wrong on the server.', requestId } },
    };
  };
}
