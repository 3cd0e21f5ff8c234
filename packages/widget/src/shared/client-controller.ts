import type { ConnectionStatus, Job, JobClient } from '@jobtracker/sdk';
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ReadableAtom } from 'nanostores';
import { defaultJobClient, jobClientContext } from './client.js';

type Host = ReactiveControllerHost & HTMLElement & { client?: JobClient };

/**
 * Finds the element's client (its own `client` property, else the nearest `<job-provider>`, else the
 * page-wide default) and keeps subscriptions to that client's stores while the element is connected.
 */
export class JobClientController implements ReactiveController {
  #provided: JobClient | undefined;
  #subscribed: JobClient | undefined;
  #unsubscribers: (() => void)[] = [];
  #watchers: { select: (client: JobClient) => ReadableAtom<unknown>; set: (value: unknown) => void }[] = [];

  constructor(private readonly host: Host) {
    // The context consumer connects first, so a <job-provider>'s client is known before anything subscribes.
    new ContextConsumer(host, {
      context: jobClientContext,
      subscribe: true,
      callback: (client) => {
        this.#provided = client;
        if (this.#subscribed) this.#resubscribe();
      },
    });
    host.addController(this);
  }

  /** The client's jobs and connection, kept current once `watchJobs()` was called. */
  readonly jobs: {
    active: readonly Job[];
    recent: readonly Job[];
    dismissed: readonly string[];
    /** Ids of failed or cancelled jobs that a known job retries: retrying them again would start a second copy. */
    retried: ReadonlySet<string>;
    connection: ConnectionStatus | undefined;
  } = { active: [], recent: [], dismissed: [], retried: new Set(), connection: undefined };

  /** Keeps `jobs` current: active and recent jobs, dismissed and retried ids, and the connection. */
  watchJobs(onActive?: (jobs: readonly Job[]) => void): void {
    const findRetried = () => {
      const retried = new Set<string>();
      for (const job of [...this.jobs.active, ...this.jobs.recent]) if (job.retryOf) retried.add(job.retryOf);
      this.jobs.retried = retried;
    };
    this.watch(
      (client) => client.$active,
      (active) => {
        onActive?.(active);
        this.jobs.active = active;
        findRetried();
      },
    );
    this.watch(
      (client) => client.$recent,
      (recent) => {
        this.jobs.recent = recent;
        findRetried();
      },
    );
    this.watch(
      (client) => client.$dismissed,
      (dismissed) => {
        this.jobs.dismissed = dismissed;
      },
    );
    this.watch(
      (client) => client.$connection,
      (connection) => {
        this.jobs.connection = connection;
      },
    );
  }

  get client(): JobClient {
    return this.host.client ?? this.#provided ?? defaultJobClient();
  }

  /** Keeps `set` fed with the selected store's value (re-selected when the client changes). */
  watch<T>(select: (client: JobClient) => ReadableAtom<T>, set: (value: T) => void): void {
    this.#watchers.push({ select, set: set as (value: unknown) => void });
    if (this.#subscribed) this.#resubscribe();
  }

  hostConnected() {
    // Subscribing waits for the first update: a `client` set right after the element is attached wins
    // over the page default, which then never connects.
    this.host.requestUpdate();
  }

  hostUpdate() {
    if (!this.host.isConnected || this.client === this.#subscribed) return;
    this.#resubscribe();
    // The values arrived after the host's willUpdate() of this update: render once more with them.
    void this.host.updateComplete.then(() => this.host.requestUpdate());
  }

  hostDisconnected() {
    this.#unsubscribe();
  }

  #unsubscribe() {
    for (const stop of this.#unsubscribers.splice(0)) stop();
    this.#subscribed = undefined;
  }

  #resubscribe() {
    if (!this.host.isConnected) return;
    this.#unsubscribe();
    const client = this.client;
    this.#subscribed = client;
    for (const watcher of this.#watchers) {
      this.#unsubscribers.push(
        watcher.select(client).subscribe((value) => {
          watcher.set(value);
          this.host.requestUpdate();
        }),
      );
    }
  }
}
