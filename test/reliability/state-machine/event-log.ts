import type { Job } from '@jobtracker/sdk';
import type { LiveEvent } from '@jobtracker/test-support/server-internals';
import { TERMINAL } from './model.js';
import { show } from './show.js';

/**
 * Every event the engine's hub published to the owners' subscribers, in the order it did, checked
 * against the invariants every event must keep whatever the model says.
 */
export class EventLog {
  /** Every event published, in the order it was. */
  readonly published: LiveEvent[] = [];
  /** Invariants broken so far, each with its event. */
  readonly violations: string[] = [];
  /** Wire JSON of every (job, version) published. */
  readonly #data = new Map<string, string>();
  readonly #latest = new Map<string, Job>();
  readonly #ownerOf = new Map<string, string>();
  #lastCursor: number;

  constructor(startCursor: number) {
    this.#lastCursor = startCursor;
  }

  /** The highest cursor published so far. */
  get lastCursor(): number {
    return this.#lastCursor;
  }

  /** The wire JSON published for this version of the job. */
  dataOf(jobId: string, version: number): string | undefined {
    return this.#data.get(`${jobId}#${version}`);
  }

  /** The last version of the job published. */
  latest(jobId: string): Job | undefined {
    return this.#latest.get(jobId);
  }

  /** Who the job's events were published to. */
  ownerOf(jobId: string): string | undefined {
    return this.#ownerOf.get(jobId);
  }

  /** The events of this owner published in (since, upTo], in order. */
  between(owner: string, since: number, upTo: number): LiveEvent[] {
    return this.published.filter((e) => e.ownerId === owner && e.cursor > since && e.cursor <= upTo);
  }

  /** Invariants every published event must keep, whatever the model says. */
  observe(owner: string, event: LiveEvent): void {
    this.published.push(event);
    const violation = (what: string) => this.violations.push(`${what}: event ${show(event)}`);
    if (event.ownerId !== owner) violation(`delivered to ${owner}`);
    if (!(event.cursor > this.#lastCursor)) violation(`cursor not above the previous ${this.#lastCursor}`);
    this.#lastCursor = Math.max(this.#lastCursor, event.cursor);
    let job: Job;
    try {
      job = JSON.parse(event.data) as Job;
    } catch {
      violation('data is not JSON');
      return;
    }
    if (job.id !== event.jobId || job.version !== event.version) violation('data is another job or version');
    const key = `${event.jobId}#${event.version}`;
    if (this.#data.has(key)) violation('a second event for one (job, version)');
    this.#data.set(key, event.data);
    const previous = this.#latest.get(event.jobId);
    if (!previous) {
      if (job.version !== 1 || job.status !== 'pending')
        violation('the first event of a job is not its creation');
      this.#ownerOf.set(event.jobId, event.ownerId);
    } else {
      if (this.#ownerOf.get(event.jobId) !== event.ownerId) violation('the job changed owner');
      if (TERMINAL.includes(previous.status)) violation(`a ${previous.status} job changed`);
      if (job.version !== previous.version + 1)
        violation(`version ${previous.version} was followed by ${job.version}`);
      if (
        previous.status === 'running' &&
        job.status !== 'pending' &&
        job.attempt === previous.attempt &&
        previous.progress !== null &&
        (job.progress === null || job.progress < previous.progress)
      ) {
        violation(`progress went from ${previous.progress} to ${job.progress} within attempt ${job.attempt}`);
      }
    }
    this.#latest.set(event.jobId, job);
  }
}
