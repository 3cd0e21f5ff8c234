// Values of the wrong type are compile errors: each @ts-expect-error fails the check if its line compiles.
import '@jobtracker/widget/react';
import type { JobBadge } from '@jobtracker/widget';

export const refused = [
  // @ts-expect-error `type` is a string
  <job-badge key="a" type={5} />,
  // @ts-expect-error no such property (TypeScript lets any name with a dash through, as for data-*)
  <job-tracker key="b" resultLink="/x" />,
  // @ts-expect-error `types` maps a type to its label and links, not to a number
  <job-tracker key="c" types={{ report: 5 }} />,
  // @ts-expect-error a job-completed listener gets a JobCompletedEvent, whose job is no string
  <job-tracker key="d" onjob-completed={(event: { job: string }) => event} />,
];

export const badge: JobBadge | null = document.querySelector('job-badge');
document.addEventListener('job-completed', (event) => {
  const title: string = event.job.title ?? '';
  // @ts-expect-error a job's progress is a number or null
  const progress: string = event.job.progress;
  return [title, progress];
});
