import type { Job, JobProgressDelta } from '@jobtracker/sdk/wire';
import type { LiveEvent } from './hub.js';

/**
 * Whether an event goes to a client as a delta on top of the version before it (a stream's `progress`
 * event): a progress report that stands for itself alone. One the log kept in place of several reports
 * goes whole, since a client may hold any version of the run it stands for.
 */
export const isStreamDelta = (event: LiveEvent): boolean => event.progressFrom === event.version - 1;

/** The JSON of what a progress report changed: the body of a stream's `progress` event (`from` left out). */
export function streamDeltaJson(event: LiveEvent): string {
  const job = JSON.parse(event.data) as Job;
  const delta: JobProgressDelta = {
    id: job.id,
    version: job.version,
    progress: job.progress,
    message: job.message,
    updatedAt: job.updatedAt,
  };
  return JSON.stringify(delta);
}

/** What a since poll answers: the jobs changed whole, and the ones whose changes were all progress reports. */
export interface PollChanges {
  /** Wire JSON of each job, as the log stores it; newest change first. */
  jobs: string[];
  progress: JobProgressDelta[];
}

/**
 * Folds the events of an owner after `since` (in cursor order) into a since poll's answer. A job whose
 * every event is a progress report, the first applying on top of the version a client at `since` holds,
 * goes as one delta (`from` that version, the last report's values); any other job whole, at its last
 * event. `keep` filters the jobs (type, scope); it is given each job's last state.
 */
export function foldChanges(
  events: readonly LiveEvent[],
  since: number,
  keep: ((job: Job) => boolean) | null,
): PollChanges {
  const byJob = new Map<string, { last: LiveEvent; from: number | null }>();
  for (const event of events) {
    const folded = byJob.get(event.jobId);
    byJob.delete(event.jobId);
    byJob.set(event.jobId, { last: event, from: deltaFrom(folded, event, since) });
  }
  const answer: PollChanges = { jobs: [], progress: [] };
  for (const { last, from } of [...byJob.values()].reverse()) {
    const job = from !== null || keep ? (JSON.parse(last.data) as Job) : null;
    if (job && keep && !keep(job)) continue;
    if (job && from !== null) {
      const { id, version, progress, message, updatedAt } = job;
      answer.progress.push({ id, from, version, progress, message, updatedAt });
    } else answer.jobs.push(last.data);
  }
  return answer;
}

/** The version the job's changes so far apply on top of, while all of them are deltas; else null. */
function deltaFrom(
  folded: { last: LiveEvent; from: number | null } | undefined,
  event: LiveEvent,
  since: number,
): number | null {
  if (event.progressFrom === null) return null;
  if (!folded) {
    // A client whose cursor is inside a coalesced run holds one of its versions, not `progressFrom`.
    return event.coalescedFrom !== null && event.coalescedFrom <= since ? null : event.progressFrom;
  }
  return folded.from !== null && folded.last.version === event.progressFrom ? folded.from : null;
}
