// `@jobtracker/widget/vue`: every tag as a global component, the props vue-tsc checks a template against.
import '@jobtracker/widget/vue';
import type { JobStartEvent } from '@jobtracker/widget';
import type { GlobalComponents } from 'vue';

type PropsOf<Tag extends keyof GlobalComponents> = InstanceType<GlobalComponents[Tag]>['$props'];

export const tracker: PropsOf<'job-tracker'> = {
  resultUrl: '/programs/{result.programId}',
  'result-url': '/programs/{result.programId}',
  'title-count': true,
  position: 'top-left',
  class: 'panel',
  onJobCompleted: (event) => console.log(event.job.result),
};
export const button: PropsOf<'job-button'> = {
  type: 'demo.generate',
  'job-title': 'Q3',
  onJobStart: (event) => event.created,
};

// @ts-expect-error `type` is a string
export const numberType: PropsOf<'job-badge'> = { type: 5 };
// @ts-expect-error `position` is one of four corners
export const noSuchCorner: PropsOf<'job-tracker'> = { position: 'middle' };
// @ts-expect-error @job-completed carries a JobCompletedEvent
export const wrongEvent: PropsOf<'job-tracker'> = { onJobCompleted: (event: JobStartEvent) => event.created };
