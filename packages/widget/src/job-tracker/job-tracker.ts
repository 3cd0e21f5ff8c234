import type { Job, JobClient } from '@jobtracker/sdk';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { announceJobsOf } from '../shared/announcing.js';
import { JobClientController } from '../shared/client-controller.js';
import { JobCompletedEvent, JobFailedEvent } from '../shared/events.js';
import { cardSuccessor, keepFocusInside } from '../shared/focus.js';
import { JobActions } from '../shared/job-actions.js';
import {
  asTypeViews,
  type JobTypeViews,
  jobCard,
  summaryOf,
  typeLabel,
  typeViewsProperty,
} from '../shared/job-view.js';
import { JobsController } from '../shared/jobs-controller.js';
import { LocaleController } from '../shared/locale.js';
import { formatAgo, formatPercent, type JobMessages } from '../shared/messages.js';
import { ProgressPace } from '../shared/progress-pace.js';
import { resultUrl } from '../shared/safe-url.js';
import { stallWatch } from '../shared/stall-watch.js';
import { cardStyles, tokens } from '../shared/styles.js';
import { TickController } from '../shared/tick-controller.js';
import { PHONE_SCREEN, trackerStyles } from './job-tracker.styles.js';
import { LiveRegion } from './live-region.js';
import { askNotifications, canAskNotifications, notifyCompletion } from './notifications.js';
import { TitleCountController } from './title-count-controller.js';
import { ToastsController } from './toasts-controller.js';

const MILESTONES = [25, 50, 75];
const FAILURE_WINDOW_MS = 30 * 60_000;
const STALE_CONTACT_MS = 10_000;

/**
 * A floating panel, on every page, with each running job's progress and message; a toast with a link
 * to the result when a job completes; the error and a Retry when one fails.
 *
 * @tagname job-tracker
 * @summary Floating panel of the user's background jobs, with completion toasts.
 *
 * @fires {JobCompletedEvent} job-completed - A job completed (once per browser, in the tab that shows the toast).
 * @fires {JobFailedEvent} job-failed - A job failed (once per browser).
 * @fires {JobCancelEvent} job-cancel - The user asked to cancel a job.
 * @fires {JobRetryEvent} job-retry - The user asked to retry a failed job.
 * @fires {JobErrorEvent} job-error - Cancelling or retrying failed; `error` is the SDK's typed error.
 *
 * @csspart panel - The panel of running and failed jobs.
 * @csspart header - The panel's title row.
 * @csspart toggle - The collapse/expand button.
 * @csspart pill - The collapsed form of the panel.
 * @csspart card - One job.
 * @csspart label - A job's type label.
 * @csspart title - A job's title.
 * @csspart progress - A job's progress bar (`role="progressbar"`).
 * @csspart progress-indicator - The filled part of a progress bar.
 * @csspart message - A job's progress message.
 * @csspart percent - A job's percentage.
 * @csspart timing - Elapsed time and the estimate of what is left.
 * @csspart stall - A stalled job's notice: "No update for 3 min" (a running job quiet past its `staleAfterMs`).
 * @csspart error - A failed job's error message.
 * @csspart actions - A job's buttons and links.
 * @csspart cancel-button - Cancels a job.
 * @csspart dismiss-button - Hides a job's card (the job goes on).
 * @csspart clear-button - Hides every failed card at once (shown with two or more).
 * @csspart hidden-button - Brings back the cards of running jobs the user dismissed ("Show 1 hidden job").
 * @csspart retry-button - Starts a failed job again.
 * @csspart type-link - The per-type link to where results live.
 * @csspart hint - "You can keep browsing…".
 * @csspart connection - The notice shown while updates are delayed.
 * @csspart toast - A completion toast.
 * @csspart view-link - The toast's link to the result.
 * @csspart toast-close - Closes a toast.
 * @csspart notify-button - Asks for browser notifications (with `notify`).
 *
 * @cssprop --job-bg - Background of the panel, cards and toasts.
 * @cssprop --job-fg - Text color.
 * @cssprop --job-muted - Secondary text color.
 * @cssprop --job-border - Border color.
 * @cssprop --job-accent - Progress and link color.
 * @cssprop --job-accent-fg - Text on the accent color.
 * @cssprop --job-success - Completed accents.
 * @cssprop --job-danger - Failure and connection accents.
 * @cssprop --job-warning - Stalled jobs: their notice, accent and paused bar.
 * @cssprop --job-track - Progress bar track.
 * @cssprop --job-radius - Corner radius.
 * @cssprop --job-gap - Space between a card's buttons.
 * @cssprop --job-shadow - Shadow of the floating pieces.
 * @cssprop --job-font - Font family.
 * @cssprop --job-z-index - Stacking order of the panel.
 */
export class JobTracker extends LitElement {
  static override styles = [tokens, cardStyles, trackerStyles];

  static override properties = {
    client: { attribute: false },
    messages: { attribute: false },
    types: typeViewsProperty,
    resultUrl: { attribute: 'result-url' },
    position: { reflect: true },
    collapsed: { type: Boolean, reflect: true },
    theme: { reflect: true },
    titleCount: { type: Boolean, attribute: 'title-count' },
    notify: { type: Boolean },
  };

  /** The SDK client; defaults to the nearest `<job-provider>`'s, else the page-wide one. */
  declare client: JobClient | undefined;
  /** Replacement strings (any subset of `JobMessages`). */
  declare messages: Partial<JobMessages> | undefined;
  /** Per-type label and link, e.g. `{"epm_generation":{"label":"EPM Generation","href":"/programs","linkLabel":"Go to Programs"}}` (attribute: JSON). */
  declare types: JobTypeViews;
  /** Where a completed job's result lives, e.g. `/programs/{result.programId}`; default `result.url`. */
  declare resultUrl: string | undefined;
  /** Corner: `bottom-right` (default), `bottom-left`, `top-right` or `top-left`. */
  declare position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
  /** Shows only a small pill; starts true on small screens unless set. */
  declare collapsed: boolean;
  /** `light` or `dark` forces a theme; default follows `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;
  /** Puts the running count in the page title: "(1) Programs". */
  declare titleCount: boolean;
  /** Offers browser notifications on completion (asked from a click, raised by one tab). */
  declare notify: boolean;

  readonly #clients = new JobClientController(this);
  readonly #jobs: JobsController;
  // A retried failure leaves the tracker anyway (`retried`); dismissing it too is for the other devices,
  // and a failure of that is no failure of the retry the user asked for.
  readonly #actions = new JobActions(this, this.#clients, (job, client) => {
    client.dismiss(job.id).catch(() => {});
  });
  readonly #toasts = new ToastsController(this, this.#clients);
  readonly #liveRegion = new LiveRegion(this);
  readonly #locale = new LocaleController(this);
  readonly #milestones = new Map<string, number>();
  /** Finished jobs this page knew before: a retry of one of them starts now, not before the page loaded. */
  readonly #knownFinished = new Set<string>();
  readonly #pace = new ProgressPace();
  readonly #stalls = stallWatch();
  /** The page's control the focus came from into the tracker: it takes the focus back when no control of the tracker is left. */
  #focusOrigin: HTMLElement | null = null;
  // Failed cards leave once their window has passed, also when nothing else changes.
  readonly #tick = new TickController(
    this,
    () =>
      this.#jobs.active.length > 0 || this.#visibleFailures().length > 0 || this.#connectionNotice() !== null,
  );

  constructor() {
    super();
    this.types = {};
    this.position = 'bottom-right';
    this.collapsed = false;
    this.titleCount = false;
    this.notify = false;
    // Followed before the stores start the client's sync, whose first sweep then announces what finished unseen.
    this.#clients.subscribe((client) => {
      const stops = [
        client.on('completed', (job) => this.#completed(job)),
        client.on('failed', (job) => this.#failed(job)),
        client.on('cancelled', (job) =>
          this.#liveRegion.say('polite', this.#messages.announceCancelled(this.#name(job))),
        ),
        announceJobsOf(client),
      ];
      return () => {
        for (const stop of stops) stop();
      };
    });
    this.#jobs = new JobsController(this.#clients, (jobs) => this.#announceProgress(jobs));
    this.#clients.watch(
      (client) => client.$recent,
      // Known from the next task on: a retry that arrives in the same update as its original is not new.
      (recent) =>
        setTimeout(() => {
          for (const job of recent) this.#knownFinished.add(job.id);
        }),
    );
    new TitleCountController(this, () => (this.titleCount ? this.#jobs.active.length : 0));
    this.addEventListener('focusin', (event) => {
      const from = event.relatedTarget;
      if (from instanceof HTMLElement && from !== this && !this.contains(from)) this.#focusOrigin = from;
    });
  }

  get #messages(): JobMessages {
    return this.#locale.wording(this.messages).messages;
  }

  #percent(value: number): string {
    const { messages, locale } = this.#locale.wording(this.messages);
    return formatPercent(value, messages, locale);
  }

  override connectedCallback() {
    super.connectedCallback();
    const screen = globalThis.matchMedia?.(PHONE_SCREEN);
    if (!this.hasAttribute('collapsed') && screen?.matches) {
      this.collapsed = true;
      this.#phoneScreen = screen;
      screen.addEventListener('change', this.#screenChanged);
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#followScreen(null);
  }

  /** The phone screen the tracker collapsed for by itself; null once it no longer follows the screen. */
  #phoneScreen: MediaQueryList | null = null;

  #followScreen(screen: MediaQueryList | null) {
    this.#phoneScreen?.removeEventListener('change', this.#screenChanged);
    this.#phoneScreen = screen;
  }

  // Collapsed for a phone's screen, it opens by itself once the screen is larger (a window made larger, or
  // an embedding frame that got its size only after the tracker was added), unless someone chose since.
  readonly #screenChanged = () => {
    if (this.#phoneScreen && !this.#phoneScreen.matches) {
      this.#followScreen(null);
      this.collapsed = false;
    }
  };

  protected override willUpdate(changed: PropertyValues<this>) {
    // Collapsed or opened by the user or the page after the first render: their choice holds.
    if (this.hasUpdated && changed.has('collapsed')) this.#followScreen(null);
    this.types = asTypeViews(this.types);
    // Said once, politely, when a running job stalls and when it updates again (time alone stalls a
    // job: the tick's re-render each second finds it); nothing while the page is hidden.
    const said = this.#stalls(this.#jobs.active, Date.now(), this.#locale.wording(this.messages), this.types);
    if (globalThis.document?.visibilityState !== 'hidden')
      for (const [job, text] of said) this.#liveRegion.say('polite', text, () => this.#isActive(job.id));
  }

  /**
   * Dismiss: the card leaves at once, for the user on every device (stored on the server; it comes
   * back with the action-error notice if the server refuses); a failure counts as seen.
   */
  #hide(job: Job) {
    void this.#actions.dismiss(job);
    if (job.status === 'failed') this.#clients.client.acknowledge(job.id);
  }

  #visibleActive() {
    const { active, dismissed } = this.#jobs;
    return active.filter((job) => !dismissed.includes(job.id));
  }

  /** Running jobs whose card the user dismissed: still counted, and one click brings them back. */
  #hiddenActive() {
    const { active, dismissed } = this.#jobs;
    return active.filter((job) => dismissed.includes(job.id));
  }

  /** Shows the hidden cards again; the focus goes to the first one's control. */
  async #restoreHidden(jobs: readonly Job[]) {
    const restored = jobs.map((job) => this.#actions.dismiss(job, false));
    await this.updateComplete;
    const first = jobs[0];
    if (first) keepFocusInside(this, cardSuccessor(this.renderRoot as ShadowRoot, first.id));
    await Promise.all(restored);
  }

  #visibleFailures() {
    const { recent, dismissed, retried } = this.#jobs;
    const since = this.#tick.now - FAILURE_WINDOW_MS;
    return recent.filter(
      (job) =>
        job.status === 'failed' &&
        !dismissed.includes(job.id) &&
        !retried.has(job.id) &&
        Date.parse(job.completedAt ?? job.updatedAt) >= since,
    );
  }

  /** What announcements call a job: its title, else its type's label. */
  #name(job: Job) {
    return job.title ?? typeLabel(job, this.types);
  }

  #isActive(id: string) {
    return this.#jobs.active.some((job) => job.id === id);
  }

  #completed(job: Job) {
    this.#toasts.show(job);
    const title = this.#messages.completedTitle(job, typeLabel(job, this.types));
    this.#liveRegion.say('polite', this.#messages.announceCompleted(this.#name(job)));
    this.#emit(new JobCompletedEvent(job));
    if (this.notify)
      notifyCompletion(job, title, summaryOf(job) ?? job.title ?? '', resultUrl(job, this.resultUrl));
  }

  #failed(job: Job) {
    const messages = this.#messages;
    this.#liveRegion.say(
      'assertive',
      messages.announceFailed(this.#name(job), job.error?.message ?? messages.genericError),
    );
    this.#emit(new JobFailedEvent(job));
  }

  /**
   * Announces the highest milestone each job passed since the last list, and a retry that starts. What
   * happens while the page is hidden only moves the marks; an announcement of a job that is no longer
   * active when its turn comes (a replay after an absence passes through old progress) is dropped.
   */
  #announceProgress(jobs: readonly Job[]) {
    const messages = this.#messages;
    const hidden = globalThis.document?.visibilityState === 'hidden';
    for (const job of jobs) {
      const reached = MILESTONES.filter((mark) => (job.progress ?? 0) >= mark).at(-1) ?? 0;
      const said = this.#milestones.get(job.id);
      this.#milestones.set(job.id, Math.max(reached, said ?? 0));
      const current = () => this.#isActive(job.id);
      if (said === undefined) {
        // The first sighting only sets the mark: a page loaded mid-job does not repeat old milestones.
        const retried =
          job.retryOf && (this.#knownFinished.has(job.retryOf) || this.#milestones.has(job.retryOf));
        if (retried && !hidden)
          this.#liveRegion.say('polite', messages.announceRetried(this.#name(job)), current);
        continue;
      }
      if (reached <= said || hidden) continue;
      this.#liveRegion.say(
        'polite',
        messages.reachedPercent(this.#name(job), this.#percent(reached)),
        current,
      );
    }
  }

  // One place dispatches, so the manifest analyzer reads the events from the JSDoc @fires tags only.
  #emit(event: Event) {
    this.dispatchEvent(event);
  }

  /**
   * When the focused control leaves with its card or toast, the focus goes to the same control of the
   * next card (or the previous one after the last), else to another control of the tracker, else back
   * to where it came from on the page: never to the page's body.
   */
  async #keepFocus(action: () => unknown) {
    const focused = this.shadowRoot?.activeElement != null;
    const successor = cardSuccessor(this.renderRoot as ShadowRoot);
    await action();
    if (!focused) return;
    await this.updateComplete;
    keepFocusInside(
      this,
      (root) =>
        successor() ??
        root.querySelector<HTMLElement>(
          '.card a[href], .card button, [part="toggle"], [part="pill"], [part="toast"] a[href], [part="toast"] button',
        ) ??
        (this.#focusOrigin?.isConnected ? this.#focusOrigin : null),
    );
  }

  /** Collapses or expands; the focus, when on the control, moves to the control that replaces it. */
  #setCollapsed(collapsed: boolean) {
    const focused = this.shadowRoot?.activeElement?.matches('.pill, [part="toggle"]');
    this.collapsed = collapsed;
    if (focused) {
      void this.updateComplete.then(() =>
        this.shadowRoot?.querySelector<HTMLElement>(collapsed ? '.pill' : '[part="toggle"]')?.focus(),
      );
    }
  }

  #connectionNotice(): string | null {
    const status = this.#jobs.connection;
    if (!status) return null;
    const { messages, locale } = this.#locale.wording(this.messages);
    const now = this.#tick.now;
    const stale = status.lastContactAt !== null && now - status.lastContactAt > STALE_CONTACT_MS;
    if (status.state === 'offline') return messages.offline;
    if (status.state === 'error' || (status.state === 'connecting' && stale)) {
      return status.lastContactAt === null
        ? messages.reconnecting
        : `${messages.reconnecting} ${messages.lastUpdated(formatAgo(now - status.lastContactAt, locale))}`;
    }
    return null;
  }

  protected override render() {
    const { messages, locale } = this.#locale.wording(this.messages);
    const running = this.#jobs.active;
    const active = this.#visibleActive();
    const hidden = this.#hiddenActive();
    const failures = this.#visibleFailures();
    const jobs = [...active, ...failures];
    const notice = jobs.length > 0 ? this.#connectionNotice() : null;
    const showHidden =
      hidden.length > 0
        ? html`<button part="hidden-button" class=${jobs.length === 0 ? 'pill' : 'hidden-button'} type="button" @click=${() => void this.#restoreHidden(hidden)}>
            ${jobs.length === 0 ? html`<span class="spinner" aria-hidden="true"></span><span>${messages.jobsRunning(running.length)}</span>` : nothing}
            <span class=${jobs.length === 0 ? 'hidden-count' : ''}>${messages.showHidden(hidden.length)}</span>
          </button>`
        : nothing;
    const actions = {
      cancel: (job: Job) => void this.#keepFocus(() => this.#actions.run('cancel', job)),
      retry: (job: Job) => void this.#keepFocus(() => this.#actions.run('retry', job)),
      dismiss: (job: Job) => void this.#keepFocus(() => this.#hide(job)),
    };
    const actionFailed = this.#actions.failed;
    return html`
      <div class="stack">
        ${repeat(
          this.#toasts.jobs,
          (job) => job.id,
          (job) => this.#renderToast(job, messages),
        )}
        ${
          jobs.length === 0
            ? showHidden
            : this.collapsed
              ? html`<button
                  part="pill"
                  class="pill"
                  type="button"
                  aria-expanded="false"
                  @click=${() => this.#setCollapsed(false)}
                >
                  ${running.length > 0 ? html`<span class="spinner" aria-hidden="true"></span>` : nothing}
                  <span>${running.length > 0 ? messages.jobsRunning(running.length) : messages.failedTitle(failures[0] as Job, typeLabel(failures[0] as Job, this.types))}</span>
                  <span class="visually-hidden">${messages.expand}</span>
                </button>`
              : html`<section part="panel" class="panel" aria-label=${messages.panelLabel}>
                  <div part="header" class="panel-head">
                    <span>${running.length > 0 ? messages.jobsRunning(running.length) : messages.panelLabel}</span>
                    <button
                      part="toggle"
                      class="icon-button"
                      type="button"
                      aria-expanded="true"
                      aria-label=${messages.collapse}
                      @click=${() => this.#setCollapsed(true)}
                    >–</button>
                  </div>
                  ${notice ? html`<p part="connection" class="connection">${notice}</p>` : nothing}
                  <ul class="cards" role="list">
                    ${repeat(
                      jobs,
                      (job) => job.id,
                      (job) =>
                        html`<li>${jobCard(job, { views: this.types, messages, locale, now: this.#tick.now, resultTemplate: this.resultUrl, actions, pace: this.#pace })}</li>`,
                    )}
                  </ul>
                  ${showHidden}
                  ${
                    failures.length > 1
                      ? html`<button part="clear-button" type="button" @click=${() =>
                          void this.#keepFocus(() => {
                            for (const job of failures) this.#hide(job);
                          })}>${messages.clearFailed}</button>`
                      : nothing
                  }
                  ${actionFailed ? html`<p part="error" class="connection" role="alert">${actionFailed === 'dismiss' ? messages.genericError : messages.actionFailed(actionFailed)}</p>` : nothing}
                  ${active.length > 0 ? html`<p part="hint" class="hint">${messages.keepNavigating}</p>` : nothing}
                  ${
                    this.notify && active.length > 0 && canAskNotifications()
                      ? html`<button part="notify-button" type="button" @click=${() => void askNotifications().then(() => this.requestUpdate())}>${messages.notifyMe}</button>`
                      : nothing
                  }
                </section>`
        }
      </div>
      ${this.#liveRegion.render()}
    `;
  }

  #renderToast(job: Job, messages: JobMessages) {
    const label = typeLabel(job, this.types);
    const link = resultUrl(job, this.resultUrl);
    return html`<div
      part="toast"
      class="toast"
      data-job-id=${job.id}
      @mouseenter=${() => this.#toasts.hold(job.id)}
      @mouseleave=${() => this.#toasts.release(job.id)}
      @focusin=${() => this.#toasts.hold(job.id)}
      @focusout=${() => this.#toasts.release(job.id)}
    >
      <span class="toast-title">${messages.completedTitle(job, label)}</span>
      ${(summaryOf(job) ?? job.title) ? html`<span class="toast-body">${summaryOf(job) ?? job.title}</span>` : nothing}
      <div class="actions">
        ${link ? html`<a part="view-link" class="link" href=${link} @click=${() => this.#clients.client.acknowledge(job.id)}>${messages.view}</a>` : nothing}
        <button part="toast-close" type="button" aria-label=${`${messages.close}: ${label}`} @click=${() => void this.#keepFocus(() => this.#toasts.close(job.id, true))}>${messages.close}</button>
      </div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'job-tracker': JobTracker;
  }
}
