import type { Job } from '@jobtracker/sdk';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { JobClientController } from '../shared/client-controller.js';

const TOAST_MS = 15_000;
const AFTER_HOLD_MS = 4000;

/** The completion toasts: each closes by itself after a while, unless the pointer or the focus holds it. */
export class ToastsController implements ReactiveController {
  jobs: readonly Job[] = [];
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #host: ReactiveControllerHost;
  readonly #clients: JobClientController;

  constructor(host: ReactiveControllerHost, clients: JobClientController) {
    this.#host = host;
    this.#clients = clients;
    host.addController(this);
  }

  show(job: Job) {
    this.jobs = [...this.jobs.filter((toast) => toast.id !== job.id), job];
    this.#host.requestUpdate();
    this.#closeLater(job.id, TOAST_MS);
  }

  /** Closes a toast; `seen` when the user closed it, which counts as the completion announced. */
  close(id: string, seen = false) {
    if (seen) this.#clients.client.acknowledge(id);
    this.hold(id);
    this.#timers.delete(id);
    this.jobs = this.jobs.filter((toast) => toast.id !== id);
    this.#host.requestUpdate();
  }

  hold(id: string) {
    clearTimeout(this.#timers.get(id));
  }

  release(id: string) {
    this.#closeLater(id, AFTER_HOLD_MS);
  }

  hostDisconnected() {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #closeLater(id: string, ms: number) {
    this.hold(id);
    this.#timers.set(
      id,
      setTimeout(() => this.close(id), ms),
    );
  }
}
