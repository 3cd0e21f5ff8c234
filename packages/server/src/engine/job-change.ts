import { conflict } from '../http/errors.js';
import { type JobRecord, sharedWireJob } from '../jobs/job-record.js';
import { type JobCommand, transition } from '../jobs/state-machine.js';
import type { StoredEvent } from '../storage/store.js';

/** A job's next version, and its entry in the change log when a client can see the change. */
export interface JobChangeDecision {
  next: JobRecord;
  event: StoredEvent | null;
}

/**
 * Applies `command` through the state machine: a refusal becomes a 409. `logEntry` makes the event of
 * a visible change, told the version a progress report applies on top of (null for any other change);
 * each mode numbers its events its own way.
 */
export function decideChange(
  current: JobRecord,
  command: JobCommand,
  now: number,
  logEntry: (next: JobRecord, progressFrom: number | null) => StoredEvent,
): JobChangeDecision {
  const outcome = transition(current, command, now);
  if (!outcome.ok) throw conflict(outcome.code, outcome.message);
  if (!outcome.visible) return { next: outcome.job, event: null };
  // A visible progress command changes only progress, message, updatedAt and version of a running job.
  // A reported job's first progress report also starts it: a status change, not a delta. A heartbeat is
  // visible only when it refreshes a stall-watched job's updatedAt: a delta too.
  const progressFrom =
    (command.kind === 'progress' || command.kind === 'heartbeat') && outcome.job.status === current.status
      ? current.version
      : null;
  return { next: outcome.job, event: logEntry(outcome.job, progressFrom) };
}

/** The log entry of a job's version: its wire JSON, serialised once. */
export function logEntryOf(
  record: JobRecord,
  cursor: number,
  createdAt: number,
  progressFrom: number | null = null,
): StoredEvent {
  return {
    cursor,
    ownerId: record.ownerId,
    jobId: record.id,
    version: record.version,
    data: JSON.stringify(sharedWireJob(record)),
    createdAt,
    progressFrom,
    coalescedFrom: null,
  };
}
