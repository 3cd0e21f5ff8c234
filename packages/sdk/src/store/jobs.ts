import { ACTIVE_STATUSES, type Job } from '../wire.js';

export type JobMap = Readonly<Record<string, Job>>;

/** A job whose state changed: what was known before (if anything) and what is known now. */
export type JobChange = [before: Job | undefined, after: Job];

export const isActiveJob = (job: Job) => ACTIVE_STATUSES.includes(job.status);
