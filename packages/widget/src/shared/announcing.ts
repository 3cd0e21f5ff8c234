import type { JobClient } from '@jobtracker/sdk';

/** How many `<job-tracker>`s announce each client's jobs. */
const trackers = new WeakMap<JobClient, number>();

/** Says that a `<job-tracker>` announces the jobs of `client`; the returned function takes it back. */
export function announceJobsOf(client: JobClient): () => void {
  trackers.set(client, (trackers.get(client) ?? 0) + 1);
  return () => trackers.set(client, (trackers.get(client) ?? 1) - 1);
}

/** Whether a `<job-tracker>` announces the jobs of `client`: other elements then leave it to the tracker. */
export const jobsAnnounced = (client: JobClient): boolean => (trackers.get(client) ?? 0) > 0;
