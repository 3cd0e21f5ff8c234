import type { ProgressUpdate } from '@jobtracker/sdk/wire';
import { conflict } from '../http/errors.js';
import { createSecretToken } from '../ids/ids.js';
import { type JobRecord, toWireJob } from '../jobs/job-record.js';
import type { JobCommand } from '../jobs/state-machine.js';
import type { ClaimedJob } from './types.js';

export type StartCommand = Extract<JobCommand, { kind: 'start' }>;

/** A claim's command: a fresh lease for `workerId`, ending at `leaseExpiresAt`. */
export const startCommand = (workerId: string, leaseExpiresAt: number): StartCommand => ({
  kind: 'start',
  leaseToken: createSecretToken(),
  leaseExpiresAt,
  workerId,
});

export const toClaimedJob = (job: JobRecord, { leaseToken, leaseExpiresAt }: StartCommand): ClaimedJob => ({
  job: toWireJob(job),
  ownerId: job.ownerId,
  input: job.input,
  leaseToken,
  leaseExpiresAt,
});

/** A worker's write is accepted only under the lease it was given, and never for a cancelled job. */
export function checkLease(job: JobRecord, leaseToken: string): void {
  if (job.status === 'cancelled')
    throw conflict('job_cancelled', 'The job was cancelled; stop working on it.');
  if (job.leaseToken === null || job.leaseToken !== leaseToken) {
    throw conflict(
      'lease_lost',
      'This lease is no longer valid: the job was re-queued, finished or given to another worker.',
    );
  }
}

/**
 * What becomes of a job whose lease expired by `now` (its worker stopped responding): another attempt
 * while any remain, else failed. Null while the job is not running under an expired lease.
 */
export function recoveryCommand(job: JobRecord, now: number): JobCommand | null {
  if (job.status !== 'running' || job.leaseExpiresAt === null || job.leaseExpiresAt > now) return null;
  if (job.attempt < job.maxAttempts) {
    return {
      kind: 'requeue',
      message: `The worker stopped responding; the job will start again (attempt ${job.attempt + 1} of ${job.maxAttempts}).`,
    };
  }
  return {
    kind: 'fail',
    error: {
      code: 'worker_lost',
      message: `The worker stopped responding and all ${job.maxAttempts} attempts are used.`,
      retryable: true,
    },
  };
}

/** A progress report, which also extends the lease to `leaseExpiresAt`. */
export function progressCommand(update: ProgressUpdate, leaseExpiresAt: number): JobCommand {
  const command: JobCommand = { kind: 'progress' };
  if (update.progress !== undefined) command.progress = update.progress;
  if (update.message !== undefined) command.message = update.message;
  command.leaseExpiresAt = leaseExpiresAt;
  return command;
}
