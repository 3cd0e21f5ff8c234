import { type Job, stalledFor } from '@jobtracker/sdk';

/**
 * Follows which jobs are stalled (see the SDK's `stalledFor`), so that each stall is said once and each
 * recovery once: `check` reports the running jobs that stalled, or got an update again, since its last
 * call. A job seen for the first time is only noted (a page loaded during a stall shows it, says nothing),
 * and a job that leaves (finishes, or is no longer in `jobs`) is forgotten without a word.
 */
export class StallWatch {
  #stalled = new Map<string, boolean>();

  check(jobs: readonly Job[], now: number, say: (job: Job, quietMs: number | null) => void): void {
    const stalled = new Map<string, boolean>();
    for (const job of jobs) {
      const quiet = stalledFor(job, now);
      const was = this.#stalled.get(job.id);
      stalled.set(job.id, quiet !== null);
      if (was !== undefined && was !== (quiet !== null) && job.status === 'running') say(job, quiet);
    }
    this.#stalled = stalled;
  }
}
