import { html, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';

export type Politeness = 'polite' | 'assertive';

interface Announcement {
  politeness: Politeness;
  text: string;
  /** Checked when the announcement's turn comes: false drops it as stale. */
  current: () => boolean;
}

/**
 * How long an announcement waits before it is said: a replay after an absence delivers a job's old
 * progress and its end one after the other, and the old progress must be dropped unsaid.
 */
const SETTLE_MS = 300;
/** How long a said announcement stays in its region: long enough for a screen reader to pick it up. */
const KEEP_MS = 7000;

/**
 * What the element says to assistive technology: a polite and an assertive live region, rendered by
 * the host. Each announcement is added as a node of its own to a region that reads additions only
 * (`aria-atomic="false"`), so announcements made together, even identical ones, are each read once,
 * in order; each node leaves again after a while. (Its timers only re-render the host, so it needs
 * none of the host's lifecycle and is not added as a reactive controller.)
 */
export class LiveRegion {
  #shown: Announcement[] = [];
  #waiting: Announcement[] = [];
  readonly #host: ReactiveControllerHost;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
  }

  /** Says `text` shortly, unless `current()` has become false by then. */
  say(politeness: Politeness, text: string, current: () => boolean = () => true) {
    if (this.#waiting.push({ politeness, text, current }) === 1)
      setTimeout(() => this.#sayWaiting(), SETTLE_MS);
  }

  #sayWaiting() {
    const said = this.#waiting.filter((announcement) => announcement.current());
    this.#waiting = [];
    this.#show([...this.#shown, ...said]);
    setTimeout(() => this.#show(this.#shown.filter((announcement) => !said.includes(announcement))), KEEP_MS);
  }

  #show(announcements: Announcement[]) {
    this.#shown = announcements;
    this.#host.requestUpdate();
  }

  #region(politeness: Politeness) {
    return repeat(
      this.#shown.filter((announcement) => announcement.politeness === politeness),
      (announcement) => announcement,
      (announcement) => html`<div>${announcement.text}</div>`,
    );
  }

  render(): TemplateResult {
    return html`<div class="visually-hidden" role="status" aria-live="polite" aria-atomic="false" aria-relevant="additions">${this.#region('polite')}</div
      ><div class="visually-hidden" role="alert" aria-live="assertive" aria-atomic="false" aria-relevant="additions">${this.#region('assertive')}</div>`;
  }
}
