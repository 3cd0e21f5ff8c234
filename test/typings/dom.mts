// The elements and their events on the page: tag names, document and window listeners, the drop-in file.
import type { JobStartEvent } from '@jobtracker/widget';
import {
  configureJobTracker,
  createJobClient,
  type JobBadge,
  type JobList,
  observeJobElements,
} from '@jobtracker/widget/jobtracker.min.js';

export const badge: JobBadge | null = document.querySelector('job-badge');
export const count: number | undefined = document.querySelector('job-badge')?.count;
document.addEventListener('job-completed', (event) => console.log(event.job.result));
window.addEventListener('job-failed', (event) => console.log(event.job.error?.message));
document.querySelector('job-button')?.addEventListener('job-start', (event) => console.log(event.created));
configureJobTracker(createJobClient({ baseUrl: '/api' }));
// The drop-in loads <job-list> from a chunk: its class is a type there, the element typed all the same.
export const list: JobList | null = document.querySelector('job-list');
const host = document.createElement('div');
observeJobElements(host.attachShadow({ mode: 'open' }));

// @ts-expect-error job-completed carries a JobCompletedEvent
document.addEventListener('job-completed', (event: JobStartEvent) => event.created);
// @ts-expect-error a JobErrorEvent has no `created`
document.addEventListener('job-error', (event) => event.created);
