import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * The time an element renders with: read at each update, and moved on every second while `when()`
 * holds after an update (a running job's elapsed time, a failure's window, a stale connection).
 */
export class TickController implements ReactiveController {
  now = Date.now();
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #when: () => boolean;
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(host: ReactiveControllerHost & HTMLElement, when: () => boolean) {
    this.#host = host;
    this.#when = when;
    host.addController(this);
  }

  hostUpdate() {
    this.now = Date.now();
  }

  hostUpdated() {
    if (this.#host.isConnected && this.#when()) {
      this.#ticker ??= setInterval(() => this.#host.requestUpdate(), 1000);
    } else this.hostDisconnected();
  }

  hostDisconnected() {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
}
