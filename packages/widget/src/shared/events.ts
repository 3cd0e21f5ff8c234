import type { Job } from '@jobtracker/sdk';

const init = { bubbles: true, composed: true } as const;

/** An event about one job. */
interface JobEvent<Name extends string> extends Event {
  readonly type: Name;
  readonly job: Job;
}

/** The class of the events about one job named `Name`. */
interface JobEventClass<Name extends string> {
  readonly eventName: Name;
  new (job: Job): JobEvent<Name>;
}

/** The class of the events named `name`, about one job: they bubble and cross shadow roots. */
function jobEvent<const Name extends string>(name: Name): JobEventClass<Name> {
  return class extends Event {
    static readonly eventName = name;
    declare readonly type: Name;
    constructor(readonly job: Job) {
      super(name, init);
    }
  };
}

/** A job was started from a `<job-button>` (`job` is the new or the already running job). */
export class JobStartEvent extends jobEvent('job-start') {
  constructor(
    job: Job,
    readonly created: boolean,
  ) {
    super(job);
  }
}

/** A job the element follows completed. Fired once per browser. */
export class JobCompletedEvent extends jobEvent('job-completed') {}

/** A job the element follows failed. Fired once per browser. */
export class JobFailedEvent extends jobEvent('job-failed') {}

/** The user asked to cancel a job. */
export class JobCancelEvent extends jobEvent('job-cancel') {}

/** The user asked to run a failed or cancelled job again. */
export class JobRetryEvent extends jobEvent('job-retry') {}

/** An action (start, cancel, retry) failed; `error` is the SDK's typed error. */
export class JobErrorEvent extends Event {
  static readonly eventName = 'job-error';
  declare readonly type: 'job-error';
  constructor(
    readonly error: unknown,
    readonly job?: Job,
  ) {
    super(JobErrorEvent.eventName, init);
  }
}

// Every element, the document and the window: the events bubble and cross shadow roots.
declare global {
  interface GlobalEventHandlersEventMap {
    'job-start': JobStartEvent;
    'job-completed': JobCompletedEvent;
    'job-failed': JobFailedEvent;
    'job-cancel': JobCancelEvent;
    'job-retry': JobRetryEvent;
    'job-error': JobErrorEvent;
  }
}
