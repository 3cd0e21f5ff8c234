// `@jobtracker/widget/react` in React 19: every tag, attribute, property and event typed in JSX.
import '@jobtracker/widget/react';
import type { JobCompletedEvent, JobFailedEvent, JobStartEvent, JobTracker } from '@jobtracker/widget';
import { useRef } from 'react';

export function Page() {
  const tracker = useRef<JobTracker>(null);
  return (
    <job-provider endpoint="/api" transport="sse" user="u-42">
      <a href="/programs">
        Programs{' '}
        <job-badge
          type="epm_generation"
          // biome-ignore lint/a11y/noHeaderScope: a job's scope, not a table header's
          scope="analysis-7"
          theme="dark"
          className="nav-badge"
        />
      </a>
      <job-button
        type="demo.generate"
        // biome-ignore lint/a11y/noHeaderScope: a job's scope, not a table header's
        scope="analysis-7"
        job-title="Q3 program"
        input='{"durationMs":5000}'
        idempotency-key="k-1"
        onjob-start={(event) => console.log(event.job.id, event.created)}
        onjob-error={(event) => console.log(event.error)}
      >
        <button type="button">Generate program</button>
      </job-button>
      <job-list
        status="completed,failed"
        limit={5}
        hide-dismissed
        result-url="/programs/{result.programId}"
      />
      <job-tracker
        ref={tracker}
        types={{
          'demo.generate': { label: 'Program generation', href: '/programs', linkLabel: 'Go to Programs' },
        }}
        resultUrl="/programs/{result.programId}"
        position="top-left"
        title-count
        notify
        onjob-completed={(event: JobCompletedEvent) => console.log(event.job.result)}
        onjob-failed={(event) => console.log(event.job.error?.message)}
        onjob-cancel={(event) => console.log(event.job.id)}
      />
    </job-provider>
  );
}

// @ts-expect-error `type` is a string
export const NumberType = () => <job-badge type={5} />;
// @ts-expect-error `position` is one of four corners
export const NoSuchCorner = () => <job-tracker position="middle" />;
// @ts-expect-error `limit` is a number (React sets the property)
export const TextLimit = () => <job-list limit="5" />;
// @ts-expect-error `count` is set by the badge itself
export const WrittenCount = () => <job-badge count={3} />;
// @ts-expect-error no such attribute
export const Misspelled = () => <job-badge tpye="epm_generation" />;
// @ts-expect-error job-completed carries a JobCompletedEvent, not a JobStartEvent
export const WrongEvent = () => <job-tracker onjob-completed={(event: JobStartEvent) => event.created} />;
// @ts-expect-error job-completed carries a JobCompletedEvent, not a JobFailedEvent
export const OtherEvent = () => <job-tracker onjob-completed={(event: JobFailedEvent) => event.job} />;
// @ts-expect-error a JobStartEvent has no `error`
export const WrongField = () => <job-button onjob-start={(event) => event.error} />;
