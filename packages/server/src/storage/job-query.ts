import { and, type Column, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { JobFilter } from './store.js';

/** The columns of either dialect's `jobs` table that a listing reads. */
interface ListedColumns {
  id: Column;
  ownerId: Column;
  status: Column;
  type: Column;
  scope: Column;
  createdAt: Column;
}

/** The `WHERE` of `listJobs`: the owner's jobs that pass `filter`. */
export function listedJobs(jobs: ListedColumns, ownerId: string, filter: JobFilter) {
  const where = [eq(jobs.ownerId, ownerId)];
  if (filter.statuses) where.push(inArray(jobs.status, [...filter.statuses]));
  if (filter.type !== undefined) where.push(eq(jobs.type, filter.type));
  if (filter.scope !== undefined) where.push(eq(jobs.scope, filter.scope));
  const { before } = filter;
  if (before) {
    const after = or(
      lt(jobs.createdAt, before.createdAt),
      and(eq(jobs.createdAt, before.createdAt), lt(jobs.id, before.id)),
    );
    if (after) where.push(after);
  }
  return and(...where);
}

/** The order of `listJobs`: newest first, ids breaking ties (a page's `before` follows the same order). */
export const newestFirst = (jobs: ListedColumns) => [desc(jobs.createdAt), desc(jobs.id)];
