import type { JobClient } from '@jobtracker/sdk';
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ReadableAtom } from 'nanostores';
import { defaultJobClient, jobClientContext } from './client.js';

type Host = ReactiveControllerHost & HTMLElement & { client?: JobClient };

interface Subscription {
  start: (client: JobClient) => () => void;
  key: () => unknown;
  client?: JobClient;
  startedWith?: unknown;
  stop?: () => void;
}

/**
 * Finds the element's client (its own `client` property, else the nearest `<job-provider>`, else the
 * page-wide default) and keeps the element's subscriptions to it while the element is connected: each
 * one is made again when the client or its key changes.
 */
export class JobClientController implements ReactiveController {
  readonly #host: Host;
  readonly #consumer: ContextConsumer<typeof jobClientContext, Host>;
  #provided: JobClient | undefined;
  /** Set while a `<job-provider>` around the host is not defined yet (its class still loading). */
  #awaitingProvider = false;
  #started = false;
  readonly #subscriptions: Subscription[] = [];

  constructor(host: Host) {
    this.#host = host;
    // The context consumer connects first, so a <job-provider>'s client is known before anything subscribes.
    this.#consumer = new ContextConsumer(host, {
      context: jobClientContext,
      subscribe: true,
      callback: (client) => {
        this.#provided = client;
        if (this.#started) this.#refresh();
      },
    });
    host.addController(this);
  }

  get client(): JobClient {
    return this.#host.client ?? this.#provided ?? defaultJobClient();
  }

  /**
   * Keeps `start(client)` subscribed while the host is connected; its result ends the subscription.
   * It starts again when the client changes, or when `key()` gives another value (compared with `===`).
   */
  subscribe(start: (client: JobClient) => () => void, key: () => unknown = () => undefined): void {
    this.#subscriptions.push({ start, key });
  }

  /** Keeps `set` fed with the selected store's value, and the host updated. */
  watch<T>(select: (client: JobClient) => ReadableAtom<T>, set: (value: T) => void): void {
    this.subscribe((client) =>
      select(client).subscribe((value) => {
        set(value);
        this.#host.requestUpdate();
      }),
    );
  }

  hostConnected() {
    // A <job-provider> around the host that is not defined yet (the drop-in loads it on use) did not answer
    // the context request: ask again once it is, and subscribe to no client before that.
    if (this.#host.closest('job-provider:not(:defined)')) {
      this.#awaitingProvider = true;
      void customElements.whenDefined('job-provider').then(() => {
        this.#awaitingProvider = false;
        if (this.#host.isConnected) this.#consumer.hostConnected();
        this.#host.requestUpdate();
      });
    }
    // Subscribing waits for the first update: a `client` set right after the element is attached wins
    // over the page default, which then never connects.
    this.#host.requestUpdate();
  }

  hostUpdate() {
    if (!this.#refresh()) return;
    // The values arrived after the host's willUpdate() of this update: render once more with them.
    void this.#host.updateComplete.then(() => this.#host.requestUpdate());
  }

  hostDisconnected() {
    this.#started = false;
    for (const subscription of this.#subscriptions) {
      subscription.stop?.();
      subscription.stop = undefined;
    }
  }

  /** Starts what is not subscribed to the current client and key; true when anything started. */
  #refresh(): boolean {
    if (!this.#host.isConnected || (this.#awaitingProvider && !this.#host.client)) return false;
    this.#started = true;
    const client = this.client;
    let started = false;
    for (const subscription of this.#subscriptions) {
      const key = subscription.key();
      if (subscription.stop && subscription.client === client && subscription.startedWith === key) continue;
      subscription.stop?.();
      subscription.client = client;
      subscription.startedWith = key;
      subscription.stop = subscription.start(client);
      started = true;
    }
    return started;
  }
}
