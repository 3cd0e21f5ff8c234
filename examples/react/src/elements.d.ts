// JSX typings for the jobtracker elements in React.
import type { JobBadge, JobButton, JobList, JobTracker, JobTypeViews } from '@jobtracker/widget';
import type { DetailedHTMLProps, HTMLAttributes } from 'react';

type Element<T, A = object> = DetailedHTMLProps<HTMLAttributes<T>, T> & A;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'job-tracker': Element<
        JobTracker,
        { types?: JobTypeViews; 'result-url'?: string; 'title-count'?: boolean }
      >;
      'job-badge': Element<JobBadge, { type?: string; scope?: string }>;
      'job-list': Element<
        JobList,
        { status?: string; type?: string; scope?: string; limit?: number; 'result-url'?: string }
      >;
      'job-button': Element<
        JobButton,
        { type?: string; scope?: string; input?: string; 'job-title'?: string }
      >;
    }
  }
}
