import type { JobError, JsonValue, TerminalStatus } from '@jobtracker/sdk/wire';
import { isActive, type JobRecord } from './job-record.js';

/** A change asked of a job. `now` is epoch milliseconds. */
export type JobCommand =
  | { kind: 'start'; leaseToken: string; leaseExpiresAt: number; workerId: string }
  | { kind: 'progress'; progress?: number | null; message?: string | null; leaseExpiresAt?: number }
  | { kind: 'complete'; result: JsonValue | null }
  | { kind: 'fail'; error: JobError }
  | { kind: 'cancel' }
  /** `message` replaces the job's message, to say why it starts again. */
  | { kind: 'requeue'; message?: string }
  | { kind: 'release' }
  /**
   * The host of a reported job ended this attempt and will run another: pending with `message`, no
   * progress, the report token kept; the next write with it starts the next attempt.
   */
  | { kind: 'nextAttempt'; message: string | null }
  | { kind: 'heartbeat'; leaseExpiresAt: number }
  /** The owner hides the job from the tracker (`dismissed`) or brings it back; any status, which it keeps. */
  | { kind: 'dismiss'; dismissed: boolean };

export type TransitionRefusal = 'invalid_transition' | 'progress_decreased' | 'progress_out_of_range';

export type TransitionResult =
  | {
      ok: true;
      job: JobRecord;
      /** False when nothing a client can see changed: no new version, no event. */
      visible: boolean;
    }
  | { ok: false; code: TransitionRefusal; message: string };

const refuse = (code: TransitionRefusal, message: string): TransitionResult => ({
  ok: false,
  code,
  message,
});

function leaseless(job: JobRecord): JobRecord {
  return { ...job, leaseToken: null, leaseExpiresAt: null, workerId: null };
}

/**
 * Whether a report that changes nothing still raises `updatedAt` (a new version): the job declared
 * `staleAfterMs` and half of it has passed since its last visible change. A job reported on at least
 * that often never counts as stalled, and quiet ones cost no event.
 */
const refreshDue = (job: JobRecord, now: number) =>
  job.staleAfterMs !== null && now - job.updatedAt >= job.staleAfterMs / 2;

/** A reported job created `pending`: its first write with the report token starts it. */
const waitsForReport = (job: JobRecord) => job.status === 'pending' && job.reportToken !== null;

/** What starting a job changes: the first attempt, started now (a job already running keeps its own). */
const startedFields = (job: JobRecord, now: number): Partial<JobRecord> =>
  job.status === 'pending' ? { attempt: job.attempt + 1, startedAt: now } : {};

/** A pending reported job, started by its first write. */
const startReported = (job: JobRecord, now: number): JobRecord => ({
  ...job,
  ...startedFields(job, now),
  status: 'running',
  progress: null,
  message: null,
});

/**
 * The job state machine: `pending → running → completed | failed | cancelled`, plus `running → pending`
 * when a lost worker's job is re-queued for another attempt. Pure: it returns the next record with its
 * version raised for every visible change, or a refusal.
 */
export function transition(job: JobRecord, command: JobCommand, now: number): TransitionResult {
  const bump = (next: JobRecord): TransitionResult => ({
    ok: true,
    visible: true,
    job: { ...next, version: job.version + 1, updatedAt: Math.max(now, job.updatedAt) },
  });
  /** Into a terminal status: no lease, no longer active, finished now. */
  const finish = (status: TerminalStatus, changes: Partial<JobRecord> = {}) =>
    bump({ ...leaseless(job), status, activeKey: null, completedAt: now, ...changes });
  /** `running → pending` for another worker: no lease, progress unknown again. */
  const backToPending = (changes: Partial<JobRecord>) =>
    bump({ ...leaseless(job), status: 'pending', progress: null, ...changes });
  const illegal = () =>
    refuse(
      'invalid_transition',
      `A ${job.status} job cannot ${command.kind === 'requeue' || command.kind === 'release' || command.kind === 'nextAttempt' ? 'be re-queued' : command.kind}.`,
    );

  switch (command.kind) {
    case 'start':
      if (job.status !== 'pending') return illegal();
      return bump({
        ...job,
        status: 'running',
        attempt: job.attempt + 1,
        progress: null,
        message: null,
        // The current attempt's start: estimates of what is left count from it, not from an attempt a lost worker ended.
        startedAt: now,
        leaseToken: command.leaseToken,
        leaseExpiresAt: command.leaseExpiresAt,
        workerId: command.workerId,
      });

    case 'progress': {
      if (job.status !== 'running' && !waitsForReport(job)) return illegal();
      // A reported job's first write starts it; its lease never expires (the host owns its liveness).
      const next = waitsForReport(job) ? startReported(job, now) : { ...job };
      if (command.leaseExpiresAt !== undefined && job.reportToken === null) {
        next.leaseExpiresAt = command.leaseExpiresAt;
      }
      if (command.progress !== undefined) {
        const p = command.progress;
        if (p !== null && !(Number.isFinite(p) && p >= 0 && p <= 100)) {
          return refuse('progress_out_of_range', 'Progress must be a number from 0 to 100, or null.');
        }
        if (job.progress !== null && (p === null || p < job.progress)) {
          return refuse(
            'progress_decreased',
            `Progress cannot go down within an attempt (it is ${job.progress}).`,
          );
        }
        next.progress = p;
      }
      if (command.message !== undefined) next.message = command.message;
      if (next.status === job.status && next.progress === job.progress && next.message === job.message) {
        return refreshDue(job, now) ? bump(next) : { ok: true, visible: false, job: next };
      }
      return bump(next);
    }

    case 'heartbeat': {
      if (job.status !== 'running') return illegal();
      const beat = job.reportToken === null ? { ...job, leaseExpiresAt: command.leaseExpiresAt } : job;
      return refreshDue(job, now) ? bump(beat) : { ok: true, visible: false, job: beat };
    }

    case 'complete':
      if (job.status !== 'running' && !waitsForReport(job)) return illegal();
      return finish('completed', { ...startedFields(job, now), progress: 100, result: command.result });

    case 'fail':
      if (job.status !== 'running' && !waitsForReport(job)) return illegal();
      return finish('failed', { ...startedFields(job, now), error: command.error });

    case 'cancel':
      if (!isActive(job.status)) return illegal();
      return finish('cancelled');

    case 'requeue':
      if (job.status !== 'running') return illegal();
      return backToPending({ message: command.message ?? job.message });

    case 'nextAttempt':
      // A claimed job's attempts are the server's to count (lease expiry, release), not a worker's.
      if (job.reportToken === null) {
        return refuse('invalid_transition', 'Only a reported job is re-queued by its host.');
      }
      // Already waiting for its next attempt (or its first): a request sent again changes nothing.
      if (job.status === 'pending') return { ok: true, visible: false, job };
      if (job.status !== 'running') return illegal();
      return bump({
        ...job,
        status: 'pending',
        progress: null,
        message: command.message,
        // The host owns its retries: an attempt beyond what it announced raises the count shown.
        maxAttempts: Math.max(job.maxAttempts, job.attempt + 1),
      });

    case 'dismiss':
      // Only whether it is shown changes: a running job runs on, a finished one stays as it finished.
      if ((job.dismissedAt !== null) === command.dismissed) return { ok: true, visible: false, job };
      return bump({ ...job, dismissedAt: command.dismissed ? now : null });

    case 'release':
      // A worker that stops on purpose gives its job back without spending an attempt. A reported job
      // has no queue to go back to: its host runs it.
      if (job.status !== 'running' || job.reportToken !== null) return illegal();
      return backToPending({ attempt: Math.max(0, job.attempt - 1) });
  }
}
