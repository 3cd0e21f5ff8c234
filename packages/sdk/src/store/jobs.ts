import { ACTIVE_STATUSES, type Job } from '../wire.js';

export type JobMap = Readonly<Record<string, Job>>;

/** A job whose state changed: what was known before (if anything) and what is known now. */
export type JobChange = [before: Job | undefined, after: Job];

export const isActiveJob = (job: Job) => ACTIVE_STATUSES.includes(job.status);

/** Takes each job whose version is newer than the one held; returns the new map and what changed. */
export function mergeJobs(map: JobMap, jobs: readonly Job[]): { map: JobMap; changes: JobChange[] } {
  let next: Record<string, Job> | null = null;
  const changes: JobChange[] = [];
  for (const job of jobs) {
    const held = (next ?? map)[job.id];
    if (held && held.version >= job.version) continue;
    next ??= { ...map };
    next[job.id] = job;
    changes.push([held, job]);
  }
  return { map: next ?? map, changes };
}

/** A snapshot replaces everything held: the server's word wins even over a higher local version. */
export function replaceJobs(map: JobMap, jobs: readonly Job[]): { map: JobMap; changes: JobChange[] } {
  const next: Record<string, Job> = {};
  const changes: JobChange[] = [];
  for (const job of jobs) {
    next[job.id] = job;
    const held = map[job.id];
    if (!held || held.version !== job.version || held.status !== job.status) changes.push([held, job]);
  }
  return { map: next, changes };
}
