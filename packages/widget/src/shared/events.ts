import type { Job } from '@jobtracker/sdk';

const init = { bubbles: true, composed: true } as const;

/** A job was started from a `<job-button>` (`job` is the new or the already running job). */
export class JobStartEvent extends Event {
  static readonly eventName = 'job-start';
  declare readonly type: 'job-start';
  constructor(
    readonly job: Job,
    readonly created: boolean,
  ) {
    super(JobStartEvent.eventName, init);
  }
}

/** A job the element follows completed. Fired once per browser. */
export class JobCompletedEvent extends Event {
  static readonly eventName = 'job-completed';
  declare readonly type: 'job-completed';
  constructor(readonly job: Job) {
    super(JobCompletedEvent.eventName, init);
  }
}

/** A job the element follows failed. Fired once per browser. */
export class JobFailedEvent extends Event {
  static readonly eventName = 'job-failed';
  declare readonly type: 'job-failed';
  constructor(readonly job: Job) {
    super(JobFailedEvent.eventName, init);
  }
}

/** The user asked to cancel a job. */
export class JobCancelEvent extends Event {
  static readonly eventName = 'job-cancel';
  declare readonly type: 'job-cancel';
  constructor(readonly job: Job) {
    super(JobCancelEvent.eventName, init);
  }
}

/** The user asked to run a failed or cancelled job again. */
export class JobRetryEvent extends Event {
  static readonly eventName = 'job-retry';
  declare readonly type: 'job-retry';
  constructor(readonly job: Job) {
    super(JobRetryEvent.eventName, init);
  }
}

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
