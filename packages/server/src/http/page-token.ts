import type { JobPosition } from '../storage/store.js';
import { ApiError } from './errors.js';

const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;
const POSITION = /^(\d{1,16})\.([A-Za-z0-9_-]{1,100})$/;

/**
 * The opaque `next` of a page: the last job's creation time and id, base64url. Callers send it back as
 * `before`; a position, not an offset, so a job that starts between two pages never shifts the next one.
 */
export function pageToken(job: { createdAt: string; id: string }): string {
  return Buffer.from(`${Date.parse(job.createdAt)}.${job.id}`).toString('base64url');
}

/** The position a `before` token names; a 400 `invalid_query` for anything `pageToken` did not make. */
export function pagePosition(token: string): JobPosition {
  const match = TOKEN.test(token) ? POSITION.exec(Buffer.from(token, 'base64url').toString()) : null;
  if (!match?.[1] || !match[2]) {
    throw new ApiError(400, 'invalid_query', 'before must be the `next` of an earlier page.');
  }
  return { createdAt: Number(match[1]), id: match[2] };
}
