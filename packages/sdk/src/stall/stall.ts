import type { Job } from '../wire.js';

/**
 * How long a stalled job has had no update, in ms; `null` when it is not stalled. A job is stalled when
 * it is `running`, declared `staleAfterMs`, and its `updatedAt` is older than that at `now` (the rule of
 * docs/api.md, "Stalls"): the elements show it as "No update for 3 min", and its next update clears it.
 * A job without `staleAfterMs`, or not running, is never stalled.
 *
 * @example
 * const quiet = stalledFor(job);
 * if (quiet !== null) showNotice(`No update for ${Math.round(quiet / 60_000)} min`);
 */
export function stalledFor(job: Job, now: number = Date.now()): number | null {
  if (job.status !== 'running' || typeof job.staleAfterMs !== 'number') return null;
  const quiet = now - Date.parse(job.updatedAt);
  return quiet > job.staleAfterMs ? quiet : null;
}

/**
 * Whether `job` is stalled at `now` (default: the current time): running, with no update for longer
 * than its `staleAfterMs`. Time alone makes a job stalled, so re-check it on a timer (e.g. every second)
 * while a job with `staleAfterMs` runs; see `stalledFor` for how long it has been quiet.
 *
 * @example
 * const stalled = isStalled(job, Date.now());
 */
export const isStalled = (job: Job, now: number = Date.now()): boolean => stalledFor(job, now) !== null;
