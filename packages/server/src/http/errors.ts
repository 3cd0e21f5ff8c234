import type { JsonValue } from '@jobtracker/sdk/wire';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error whose status, code and message are safe to show to the API's caller. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: JsonValue,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what = 'Job') => new ApiError(404, 'not_found', `${what} not found.`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
/** Another writer holds what this change needs (a race lost too often, or a lock that was not held): try again. */
export const busy = (message = 'The job is being changed by another writer; try again.') =>
  new ApiError(503, 'busy', message);
export const invalid = (message: string, details?: JsonValue) =>
  new ApiError(422, 'invalid_request', message, details);
