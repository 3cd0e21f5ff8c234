/** @jsxImportSource solid-js */
// `@jobtracker/widget/solid`: every tag, attribute, property and event typed in Solid's JSX.
import '@jobtracker/widget/solid';
import type { JobStartEvent } from '@jobtracker/widget';

export const Page = () => (
  <job-provider endpoint="/api">
    <job-badge type="epm_generation" class="nav-badge" />
    <job-list status="active" limit={3} result-url="/programs/{result.programId}" />
    <job-tracker title-count on:job-completed={(event) => console.log(event.job.result)} />
  </job-provider>
);

// @ts-expect-error `type` is a string
export const NumberType = () => <job-badge type={5} />;
// @ts-expect-error `limit` is a number
export const TextLimit = () => <job-list limit="5" />;
// @ts-expect-error job-completed carries a JobCompletedEvent
export const WrongEvent = () => <job-tracker on:job-completed={(event: JobStartEvent) => event.created} />;
