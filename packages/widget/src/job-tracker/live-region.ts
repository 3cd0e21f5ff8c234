import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';

export type Politeness = 'polite' | 'assertive';

interface Announcement {
  id: number;
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
 * in order; each node leaves again after a while.
 */
export class LiveRegion implements ReactiveController {
  #shown: Announcement[] = [];
  #waiting: Announcement[] = [];
  #lastId = 0;
  #flush: ReturnType<typeof setTimeout> | undefined;
  readonly #removals = new Set<ReturnType<typeof setTimeout>>();
  readonly #host: ReactiveControllerHost;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Says `text` shortly, unless `current()` has become false by then. */
  say(politeness: Politeness, text: string, current: () => boolean = () => true) {
    this.#waiting.push({ id: ++this.#lastId, politeness, text, current });
    this.#flush ??= setTimeout(() => this.#sayWaiting(), SETTLE_MS);
  }

  hostDisconnected() {
    clearTimeout(this.#flush);
    this.#flush = undefined;
    for (const timer of this.#removals) clearTimeout(timer);
    this.#removals.clear();
    this.#shown = [];
    this.#waiting = [];
  }

  #sayWaiting() {
    this.#flush = undefined;
    const said = this.#waiting.filter((announcement) => announcement.current());
    this.#waiting = [];
    if (said.length === 0) return;
    this.#shown = [...this.#shown, ...said];
    const ids = new Set(said.map((announcement) => announcement.id));
    const removal = setTimeout(() => {
      this.#removals.delete(removal);
      this.#shown = this.#shown.filter((announcement) => !ids.has(announcement.id));
      this.#host.requestUpdate();
    }, KEEP_MS);
    this.#removals.add(removal);
    this.#host.requestUpdate();
  }

  #region(politeness: Politeness) {
    return repeat(
      this.#shown.filter((announcement) => announcement.politeness === politeness),
      (announcement) => announcement.id,
      (announcement) => html`<div>${announcement.text}</div>`,
    );
  }

  render(): TemplateResult {
    return html`<div class="visually-hidden" role="status" aria-live="polite" aria-atomic="false" aria-relevant="additions">${this.#region('polite')}</div>
      <div class="visually-hidden" role="alert" aria-live="assertive" aria-atomic="false" aria-relevant="additions">${this.#region('assertive')}</div>`;
  }
}
