import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Puts a count in the page title, "(1) Programs", while `count()` is above zero; puts the title back after. */
export class TitleCountController implements ReactiveController {
  #pageTitle: string | null = null;
  readonly #count: () => number;

  constructor(host: ReactiveControllerHost, count: () => number) {
    this.#count = count;
    host.addController(this);
  }

  hostUpdate() {
    const count = this.#count();
    if (count === 0) {
      this.hostDisconnected();
      return;
    }
    this.#pageTitle ??= document.title;
    document.title = `(${count}) ${this.#pageTitle}`;
  }

  hostDisconnected() {
    if (this.#pageTitle === null) return;
    document.title = this.#pageTitle;
    this.#pageTitle = null;
  }
}
