// Registers every jobtracker element. The only module of the widget with side effects.
import { JobBadge } from './job-badge/job-badge.js';
import { JobButton } from './job-button/job-button.js';
import { JobList } from './job-list/job-list.js';
import { JobProvider } from './job-provider/job-provider.js';
import { JobTracker } from './job-tracker/job-tracker.js';
import { defineElement } from './shared/define.js';

defineElement('job-provider', JobProvider);
defineElement('job-tracker', JobTracker);
defineElement('job-badge', JobBadge);
defineElement('job-list', JobList);
defineElement('job-button', JobButton);
