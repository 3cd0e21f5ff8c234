// The drop-in file (dist/jobtracker.min.js) for one <script type="module"> tag: <job-tracker> and
// <job-badge> defined at once, the other elements loaded from chunks beside it when a page uses them, the
// SDK, and the helpers. Their classes are exported as types only: a value export would load them with it
// (`await customElements.whenDefined('job-list')` gives the class; `@jobtracker/widget` exports them all).
export * from '@jobtracker/sdk';
export { observeJobElements } from './drop-in/define.js';
export { JobBadge } from './job-badge/job-badge.js';
export type { JobButton } from './job-button/job-button.js';
export type { JobList } from './job-list/job-list.js';
export type { JobProvider } from './job-provider/job-provider.js';
export { JobTracker } from './job-tracker/job-tracker.js';
export {
  configureJobTracker,
  defaultJobClient,
  jobClientContext,
  resetDefaultJobClient,
} from './shared/client.js';
export { defineElement } from './shared/define.js';
export {
  JobCancelEvent,
  JobCompletedEvent,
  JobErrorEvent,
  JobFailedEvent,
  JobRetryEvent,
  JobStartEvent,
} from './shared/events.js';
export type { JobTypeView, JobTypeViews } from './shared/job-view.js';
export { type JobLocale, registerJobLocale } from './shared/locale.js';
export { defaultMessages, type JobMessages } from './shared/messages.js';
export { resultUrl, safeUrl } from './shared/safe-url.js';
