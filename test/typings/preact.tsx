/** @jsxImportSource preact */
// `@jobtracker/widget/preact`: every tag, attribute, property and event typed in Preact's JSX.
import '@jobtracker/widget/preact';
import type { JobStartEvent } from '@jobtracker/widget';

export const Page = () => (
  <job-provider endpoint="/api">
    <job-badge type="epm_generation" class="nav-badge" />
    <job-list status="active" limit={3} result-url="/programs/{result.programId}" />
    <job-tracker title-count onjob-completed={(event) => console.log(event.job.result)} />
  </job-provider>
);

// @ts-expect-error `type` is a string
export const NumberType = () => <job-badge type={5} />;
// @ts-expect-error `theme` is light or dark
export const NoSuchTheme = () => <job-tracker theme="blue" />;
// @ts-expect-error job-completed carries a JobCompletedEvent
export const WrongEvent = () => <job-tracker onjob-completed={(event: JobStartEvent) => event.created} />;
