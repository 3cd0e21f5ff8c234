import type { Job, JobClient } from '@jobtracker/sdk';
import type { ReactiveControllerHost } from 'lit';
import type { JobClientController } from './client-controller.js';
import { JobCancelEvent, JobErrorEvent, JobRetryEvent } from './events.js';

export type JobAction = 'cancel' | 'retry';

/**
 * Cancel, Retry and Dismiss of a job card, for the element that shows it: fires `job-cancel` or
 * `job-retry` before the request and `job-error` when one fails, and runs one cancel or retry per job
 * at a time. (It needs none of the host's lifecycle, so it is not added as a reactive controller.)
 */
export class JobActions {
  /** The action that failed last, until the next one starts. */
  failed: JobAction | 'dismiss' | null = null;
  readonly #busy = new Set<string>();
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #clients: JobClientController;
  readonly #afterRetry: ((job: Job, client: JobClient) => void) | undefined;

  /** `afterRetry` runs once a retry was accepted. */
  constructor(
    host: ReactiveControllerHost & HTMLElement,
    clients: JobClientController,
    afterRetry?: (job: Job, client: JobClient) => void,
  ) {
    this.#host = host;
    this.#clients = clients;
    this.#afterRetry = afterRetry;
  }

  /** False when an action on this job is still under way (nothing is sent). */
  async run(kind: JobAction, job: Job): Promise<boolean> {
    if (this.#busy.has(job.id)) return false;
    this.#busy.add(job.id);
    const host = this.#host;
    const client = this.#clients.client;
    this.failed = null;
    host.requestUpdate();
    host.dispatchEvent(kind === 'cancel' ? new JobCancelEvent(job) : new JobRetryEvent(job));
    try {
      if (kind === 'cancel') await client.cancel(job.id);
      else {
        await client.retry(job.id);
        this.#afterRetry?.(job, client);
      }
    } catch (error) {
      this.failed = kind;
      host.dispatchEvent(new JobErrorEvent(error, job));
    } finally {
      this.#busy.delete(job.id);
      host.requestUpdate();
    }
    return true;
  }

  /**
   * Hides the job's card for the user on every device (`client.dismiss`: the card leaves at once), or
   * with `dismissed` false brings it back (`client.restore`). When the server refuses or cannot be
   * reached the card goes back as it was, `failed` is `dismiss` and `job-error` is fired; the promise
   * never rejects.
   */
  async dismiss(job: Job, dismissed = true): Promise<void> {
    const host = this.#host;
    const client = this.#clients.client;
    this.failed = null;
    host.requestUpdate();
    try {
      await (dismissed ? client.dismiss(job.id) : client.restore(job.id));
    } catch (error) {
      this.failed = 'dismiss';
      host.dispatchEvent(new JobErrorEvent(error, job));
    } finally {
      host.requestUpdate();
    }
  }
}
