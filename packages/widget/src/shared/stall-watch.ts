import { type Job, stalledFor } from '@jobtracker/sdk';
import { type JobTypeViews, typeLabel } from './job-view.js';
import { formatDuration, type JobMessages } from './messages.js';

/** What to announce of the jobs at `now`: each job to speak of, with the text (naming it by its title, else its type's label). */
export type StallCheck = (
  jobs: readonly Job[],
  now: number,
  wording: { messages: JobMessages; locale: string },
  views: JobTypeViews,
) => [Job, string][];

/**
 * Follows which jobs are stalled (see the SDK's `stalledFor`), so that each stall is said once and each
 * recovery once: the check it returns gives, for each running job that stalled since its last call,
 * "Q3 growth program: no update for 3 min", and for each that got an update again, "…: updates again".
 * A job seen for the first time is only noted (a page loaded during a stall shows it, says nothing), and
 * a job that leaves (finishes, or is no longer in `jobs`) is forgotten without a word.
 */
export function stallWatch(): StallCheck {
  let stalled = new Map<string, boolean>();
  return (jobs, now, { messages, locale }, views) => {
    const said: [Job, string][] = [];
    const next = new Map<string, boolean>();
    for (const job of jobs) {
      const quiet = stalledFor(job, now);
      const was = stalled.get(job.id);
      next.set(job.id, quiet !== null);
      const name = job.title ?? typeLabel(job, views);
      if (was !== undefined && was !== (quiet !== null) && job.status === 'running')
        said.push([
          job,
          quiet === null
            ? messages.announceResumed(name)
            : messages.announceStalled(name, formatDuration(quiet, locale)),
        ]);
    }
    stalled = next;
    return said;
  };
}
