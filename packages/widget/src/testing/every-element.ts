// A page with one of each element, as the provider and self-contained-file tests build it.
import type { Job } from '@jobtracker/sdk';
import type { JobBadge } from '../job-badge/job-badge.js';
import type { JobButton } from '../job-button/job-button.js';
import type { JobList } from '../job-list/job-list.js';
import type { JobTracker } from '../job-tracker/job-tracker.js';
import { assertEqual, claimJob, eventually } from './widget-env.js';

/** The badge in the nav (inside a link with `linkedBadge`), a list and a button starting `type`, the tracker. */
export const everyElementMarkup = (type: string, { linkedBadge = false } = {}) => {
  const badge = linkedBadge
    ? '<a href="#">Programs <job-badge></job-badge></a>'
    : 'Programs <job-badge></job-badge>';
  return `<nav>${badge}</nav>
      <main><job-list></job-list>
      <job-button type="${type}"><button type="button">Generate program</button></job-button></main>
      <job-tracker></job-tracker>`;
};

/** The elements of `everyElementMarkup` in `page`. */
export function everyElement(page: ParentNode) {
  return {
    tracker: page.querySelector('job-tracker') as JobTracker,
    badge: page.querySelector('job-badge') as JobBadge,
    list: page.querySelector('job-list') as JobList,
    button: page.querySelector('job-button') as JobButton,
  };
}

/** Clicks the slotted button of `button` and claims, as the worker, the job of `type` it started. */
export async function startFromButton(
  button: JobButton,
  type: string,
): Promise<{ job: Job; worker: Awaited<ReturnType<typeof claimJob>> }> {
  await button.updateComplete;
  button.querySelector('button')?.click();
  const job = await eventually(() => button.job, 5000, 'the started job');
  const worker = await claimJob(type);
  assertEqual(worker.job.id, job.id, 'the worker runs the job the button started');
  return { job, worker };
}
