import { html, type ReactiveControllerHost, type TemplateResult } from 'lit';

/**
 * What the element says to assistive technology: a polite and an assertive live region, rendered by
 * the host. (It needs none of the host's lifecycle, so it is not added as a reactive controller.)
 */
export class LiveRegion {
  #polite = '';
  #assertive = '';

  readonly #host: ReactiveControllerHost;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
  }

  say(politeness: 'polite' | 'assertive', text: string) {
    if (politeness === 'polite') this.#polite = text;
    else this.#assertive = text;
    this.#host.requestUpdate();
  }

  render(): TemplateResult {
    return html`<div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">${this.#polite}</div>
      <div class="visually-hidden" role="alert" aria-live="assertive" aria-atomic="true">${this.#assertive}</div>`;
  }
}
