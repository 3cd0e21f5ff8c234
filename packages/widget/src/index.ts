export { JobBadge } from './job-badge/job-badge.js';
export { JobButton } from './job-button/job-button.js';
export { JobList } from './job-list/job-list.js';
export { JobProvider } from './job-provider/job-provider.js';
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
export { defaultMessages, type JobMessages, type StartFailureKind } from './shared/messages.js';
export { resultUrl, safeUrl } from './shared/safe-url.js';
