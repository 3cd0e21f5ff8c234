import type { ConnectionStatus, Job } from '@jobtracker/sdk';
import type { JobClientController } from './client-controller.js';

/** The client's jobs, dismissed ids and connection, kept current for an element that lists jobs. */
export class JobsController {
  active: readonly Job[] = [];
  recent: readonly Job[] = [];
  dismissed: readonly string[] = [];
  /** Ids of failed or cancelled jobs that a known job retries: retrying them again would start a second copy. */
  retried: ReadonlySet<string> = new Set();
  connection: ConnectionStatus | undefined;

  /** `onActive` sees each new list of active jobs before `active` holds it. */
  constructor(clients: JobClientController, onActive?: (jobs: readonly Job[]) => void) {
    clients.watch(
      (client) => client.$active,
      (active) => {
        onActive?.(active);
        this.active = active;
        this.#findRetried();
      },
    );
    clients.watch(
      (client) => client.$recent,
      (recent) => {
        this.recent = recent;
        this.#findRetried();
      },
    );
    clients.watch(
      (client) => client.$dismissed,
      (dismissed) => {
        this.dismissed = dismissed;
      },
    );
    clients.watch(
      (client) => client.$connection,
      (connection) => {
        this.connection = connection;
      },
    );
  }

  #findRetried() {
    const retried = new Set<string>();
    for (const job of [...this.active, ...this.recent]) if (job.retryOf) retried.add(job.retryOf);
    this.retried = retried;
  }
}
