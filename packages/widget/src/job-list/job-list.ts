import type { Job, JobClient } from '@jobtracker/sdk';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus, TERMINAL_STATUSES } from '@jobtracker/sdk/wire';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { jobsAnnounced } from '../shared/announcing.js';
import { JobClientController } from '../shared/client-controller.js';
import { DEV_MODE } from '../shared/dev-mode.js';
import { cardSuccessor, keepFocusInside } from '../shared/focus.js';
import { type JobAction, JobActions } from '../shared/job-actions.js';
import {
  asTypeViews,
  type JobCardActions,
  type JobTypeViews,
  jobCard,
  typeViewsProperty,
} from '../shared/job-view.js';
import { JobsController } from '../shared/jobs-controller.js';
import { LocaleController } from '../shared/locale.js';
import type { JobMessages } from '../shared/messages.js';
import { ProgressPace } from '../shared/progress-pace.js';
import { stallWatch } from '../shared/stall-watch.js';
import { cardStyles, tokens } from '../shared/styles.js';
import { TickController } from '../shared/tick-controller.js';
import { listStyles } from './job-list.styles.js';

/** The statuses a name of the `status` attribute stands for: `active`, or one status. */
const statusesNamed = (name: string): readonly JobStatus[] | undefined =>
  name === 'active' ? ACTIVE_STATUSES : JOB_STATUSES.find((status) => status === name) && [name as JobStatus];

const warned = new Set<string>();

/** How many finished jobs a page shows when `limit` is not set (active jobs are then all shown). */
const DEFAULT_PAGE_SIZE = 10;

/** One item of the list: a job, and the earlier failed or cancelled attempts that it retried (newest first). */
interface ListItem {
  job: Job;
  earlier: Job[];
}

const finished = (job: Job) => job.status === 'failed' || job.status === 'cancelled';

/** Reads a `status` attribute such as `completed,failed`; unknown names are ignored (with a warning in development). */
function parseStatuses(value: string | null | undefined): ReadonlySet<JobStatus> {
  const statuses = new Set<JobStatus>();
  for (const name of (value ?? '').split(',')) {
    const key = name.trim().toLowerCase();
    if (!key) continue;
    const known = statusesNamed(key);
    if (known) for (const status of known) statuses.add(status);
    else if (DEV_MODE && !warned.has(key)) {
      warned.add(key);
      console.warn(
        `jobtracker: unknown status "${key}" in <job-list status>; use active, completed, failed or cancelled.`,
      );
    }
  }
  return statuses.size > 0 ? statuses : new Set(ACTIVE_STATUSES);
}

/**
 * An inline list of the user's jobs for a section of a page, e.g. a Programs page with
 * `<job-list status="active">` under "In progress" and `<job-list status="completed" limit="5">`
 * under "Recently generated". It follows the jobs live. Active jobs come first, newest first;
 * finished ones follow, the most recently finished first. Active jobs offer Cancel, failed and
 * cancelled ones Retry, completed ones a View link to their result (only `http(s)` or relative URLs
 * are ever linked). Job text is always rendered as text.
 *
 * Long histories come a page at a time: `limit` is the page size (default: every active job, and
 * 10 finished ones). When more jobs match, in the client or on the server, a "Show more" button
 * (`messages.showMore`) appends the next page, fetched with `client.listJobs` when the client does not
 * hold it; the focus moves to the first new card's control and the new count is announced politely.
 * A job the client follows live always wins over a fetched copy, and no job is shown twice.
 *
 * A failed or cancelled job that a later job retried is folded under that retry (one item: the retry's
 * card, with "1 earlier attempt failed: <error>" under it); a chain of retries folds under the newest.
 *
 * @tagname job-list
 * @summary Inline, live list of the user's jobs, filtered by status, type and scope.
 *
 * @fires {JobCancelEvent} job-cancel - The user asked to cancel a job (before the request).
 * @fires {JobRetryEvent} job-retry - The user asked to run a failed or cancelled job again (before the request).
 * @fires {JobErrorEvent} job-error - Cancelling or retrying failed; `error` is the SDK's typed error.
 *
 * @slot empty - Shown when no job matches; defaults to `messages.empty` ("No jobs yet.").
 *
 * @csspart list - The `<ul>` of jobs.
 * @csspart item - One `<li>`.
 * @csspart card - One job.
 * @csspart label - A job's type label.
 * @csspart title - A job's title.
 * @csspart progress - An active job's progress bar (`role="progressbar"`).
 * @csspart progress-indicator - The filled part of a progress bar.
 * @csspart message - An active job's progress message, or a cancelled job's notice.
 * @csspart percent - An active job's percentage.
 * @csspart timing - Elapsed time and the estimate of what is left.
 * @csspart stall - A stalled job's notice: "No update for 3 min" (a running job quiet past its `staleAfterMs`).
 * @csspart summary - A completed job's `result.summary`.
 * @csspart error - A failed job's error message.
 * @csspart actions - A job's buttons and links.
 * @csspart cancel-button - Cancels an active job.
 * @csspart retry-button - Starts a failed or cancelled job again.
 * @csspart view-link - Opens a completed job's result.
 * @csspart type-link - The per-type link from `types`.
 * @csspart empty - Holds the `empty` slot.
 * @csspart action-error - The notice shown when cancelling, retrying or showing more failed.
 * @csspart earlier - Under a retry: the earlier attempts it superseded ("1 earlier attempt failed: …").
 * @csspart more-button - "Show more": shows the next page of jobs.
 *
 * @cssprop --job-bg - Card background.
 * @cssprop --job-fg - Text color.
 * @cssprop --job-muted - Secondary text color.
 * @cssprop --job-border - Border color.
 * @cssprop --job-accent - Progress and link color.
 * @cssprop --job-accent-fg - Text on the accent color.
 * @cssprop --job-success - Completed accents.
 * @cssprop --job-danger - Failure accents.
 * @cssprop --job-warning - Stalled jobs: their notice, accent and paused bar.
 * @cssprop --job-track - Progress bar track.
 * @cssprop --job-radius - Corner radius.
 * @cssprop --job-gap - Space between a card's buttons.
 * @cssprop --job-font - Font family.
 * @cssprop --job-list-gap - Space between cards.
 */
export class JobList extends LitElement {
  static override styles = [tokens, cardStyles, listStyles];

  static override properties = {
    client: { attribute: false },
    messages: { attribute: false },
    status: {},
    type: {},
    scope: {},
    limit: { type: Number },
    types: typeViewsProperty,
    resultUrl: { attribute: 'result-url' },
    hideDismissed: { type: Boolean, attribute: 'hide-dismissed' },
    theme: { reflect: true },
  };

  /** The SDK client; defaults to the nearest `<job-provider>`'s, else the page-wide one. */
  declare client: JobClient | undefined;
  /** Replacement strings (any subset of `JobMessages`). */
  declare messages: Partial<JobMessages> | undefined;
  /** Which jobs: `active` (default), `completed`, `failed`, `cancelled`, or several, e.g. `completed,failed`. */
  declare status: string;
  /** Shows only jobs of this type, e.g. `epm_generation`. */
  declare type: string | undefined;
  /** Shows only jobs of this scope, e.g. `analysis-7`. */
  declare scope: string | undefined;
  /**
   * The page size: shows this many jobs (the newest), and "Show more" shows this many more each time.
   * Without it, every active job shows, and finished ones 10 at a time.
   */
  declare limit: number | undefined;
  /** Per-type label and link, e.g. `{"epm_generation":{"label":"EPM Generation","href":"/programs","linkLabel":"Go to Programs"}}` (attribute: JSON; the property also takes the JSON text). */
  declare types: JobTypeViews;
  /** Where a completed job's result lives, e.g. `/programs/{result.programId}`; default `result.url`. */
  declare resultUrl: string | undefined;
  /** Leaves out the jobs the user dismissed (in a `<job-tracker>` of any tab). */
  declare hideDismissed: boolean;
  /** `light` or `dark` forces a theme; default follows `prefers-color-scheme`. */
  declare theme: 'light' | 'dark' | undefined;

  readonly #clients = new JobClientController(this);
  readonly #locale = new LocaleController(this);
  readonly #jobs = new JobsController(this.#clients);
  readonly #actions = new JobActions(this, this.#clients);
  // Re-renders every second while a shown job is running, so its elapsed time moves.
  readonly #tick = new TickController(this, () => this.#shown.some((job) => job.status === 'running'));
  #shown: Job[] = [];
  #items: ListItem[] = [];
  /** How many items the list holds, and whether it holds as many as it shows: "Show more" then has more. */
  #more = false;
  readonly #pace = new ProgressPace();
  readonly #stalls = stallWatch();
  /** Pages shown: 1, and one more for each "Show more". */
  #pages = 1;
  /** Jobs fetched page by page from the server (older than the client holds), by id. */
  #fetched = new Map<string, Job>();
  /** The server's `next` for the following page: undefined before the first page, null after the last. */
  #next: string | null | undefined;
  /** What the fetched pages were fetched for (client and filters): other filters start over. */
  #fetchedFor: unknown[] = [];
  #fetching: Promise<boolean> | null = null;
  #loadingMore = false;
  #moreFailed = false;
  #aheadFailed = false;
  #wasLive = false;
  #announcement = '';

  constructor() {
    super();
    this.status = 'active';
    this.types = {};
    this.hideDismissed = false;
  }

  /** The jobs shown now, in order. */
  get jobs(): readonly Job[] {
    return this.#visible();
  }

  #visible(): Job[] {
    return this.#shownItems().map((item) => item.job);
  }

  /** `limit` as a page size, or undefined when it is not set (or not a number). */
  #pageSize(): number | undefined {
    const limit = this.limit;
    return limit !== undefined && Number.isFinite(limit) && limit >= 0 ? Math.floor(limit) : undefined;
  }

  /** Every item the list could show (live jobs first, then fetched ones), retried failures folded. */
  #allItems(): ListItem[] {
    const statuses = parseStatuses(this.status);
    const { type, scope } = this;
    const { active, recent } = this.#jobs;
    const dismissed = this.hideDismissed ? new Set(this.#jobs.dismissed) : null;
    const known = new Map<string, Job>();
    // The live copy wins over a fetched one.
    for (const job of [...active, ...recent]) known.set(job.id, job);
    // Fetched jobs (older than the client holds) follow, unless the client holds them too.
    for (const job of this.#fetched.values()) if (!known.has(job.id)) known.set(job.id, job);
    const candidates = [...known.values()].filter(
      (job) =>
        statuses.has(job.status) &&
        (!type || job.type === type) &&
        (!scope || job.scope === scope) &&
        !dismissed?.has(job.id),
    );
    const earlierOf = (job: Job) => {
      const earlier: Job[] = [];
      for (let at = job.retryOf && known.get(job.retryOf); at && finished(at); ) {
        if (earlier.includes(at)) break;
        earlier.push(at);
        at = at.retryOf ? known.get(at.retryOf) : undefined;
      }
      return earlier;
    };
    const folded = new Set<string>();
    for (const job of candidates) for (const attempt of earlierOf(job)) folded.add(attempt.id);
    return candidates.filter((job) => !folded.has(job.id)).map((job) => ({ job, earlier: earlierOf(job) }));
  }

  /** The items shown now: the pages shown so far (every active job too when `limit` is not set). */
  #shownItems(): ListItem[] {
    const items = this.#allItems();
    const size = this.#pageSize();
    const cap = (size ?? DEFAULT_PAGE_SIZE) * this.#pages;
    if (size !== undefined) {
      this.#more = items.length > cap || this.#mayFetch();
      return items.slice(0, cap);
    }
    const active = items.filter((item) => ACTIVE_STATUSES.includes(item.job.status));
    const done = items.filter((item) => !ACTIVE_STATUSES.includes(item.job.status));
    this.#more = done.length > cap || this.#mayFetch();
    return [...active, ...done.slice(0, cap)];
  }

  /** The finished statuses this list shows: the ones a page from the server can bring. */
  #finishedStatuses(): JobStatus[] {
    const statuses = parseStatuses(this.status);
    return TERMINAL_STATUSES.filter((status) => statuses.has(status));
  }

  /** Whether the server may hold more than the client: its last page had a `next`. */
  #mayFetch(): boolean {
    return typeof this.#next === 'string';
  }

  /** How many items the list must know to tell whether a page after the shown ones exists. */
  #wanted(pages: number): number {
    return (this.#pageSize() ?? DEFAULT_PAGE_SIZE) * pages + 1;
  }

  #knownCount(): number {
    const items = this.#allItems();
    return this.#pageSize() === undefined
      ? items.filter((item) => !ACTIVE_STATUSES.includes(item.job.status)).length
      : items.length;
  }

  /** Fetches pages from the server until the list knows `count` items or the server has no more. */
  #fill(count: number): Promise<boolean> {
    this.#fetching ??= (async () => {
      const statuses = this.#finishedStatuses();
      const client = this.#clients.client;
      const key = this.#fetchedFor;
      try {
        while (this.#next !== null && this.#knownCount() < count) {
          const page = await client.listJobs({
            status: statuses,
            type: this.type || undefined,
            scope: this.scope || undefined,
            limit: Math.min(200, (this.#pageSize() ?? DEFAULT_PAGE_SIZE) + 1),
            before: this.#next,
          });
          if (key !== this.#fetchedFor) return false;
          for (const job of page.jobs) this.#fetched.set(job.id, job);
          this.#next = page.next;
        }
        return true;
      } catch {
        // No fetching ahead again until the user asks for more (a failing API is not polled).
        this.#aheadFailed = true;
        return false;
      } finally {
        this.#fetching = null;
        this.requestUpdate();
      }
    })();
    return this.#fetching;
  }

  /** "Show more": the next page, from what the client holds or fetched from the server. */
  async #showMore() {
    if (this.#loadingMore) return;
    const shownBefore = new Set(this.#shown.map((job) => job.id));
    const pages = this.#pages + 1;
    this.#moreFailed = false;
    this.#loadingMore = true;
    this.requestUpdate();
    let ok = true;
    try {
      if (this.#fetching) await this.#fetching;
      if (this.#knownCount() < this.#wanted(pages) - 1 && this.#next !== null) {
        ok = await this.#fill(this.#wanted(pages));
      }
    } finally {
      this.#loadingMore = false;
    }
    if (ok) {
      this.#pages = pages;
      this.#aheadFailed = false;
    } else this.#moreFailed = true;
    this.requestUpdate();
    await this.updateComplete;
    if (!ok) return;
    this.#announcement = this.#locale.wording(this.messages).messages.shownJobs(this.#shown.length);
    this.requestUpdate();
    const first = this.#shown.find((job) => !shownBefore.has(job.id));
    const root = this.renderRoot as ShadowRoot;
    const control = first
      ? root
          .querySelector<HTMLElement>(`.card[data-job-id="${first.id}"]`)
          ?.querySelector<HTMLElement>('button, a[href]')
      : null;
    const button = root.querySelector<HTMLElement>('[part~="more-button"]');
    if (control && (root.activeElement === button || !root.activeElement)) control.focus();
    else keepFocusInside(this, () => button ?? root.querySelector<HTMLElement>('.list'));
  }

  /** Until the client has heard from the server (or has a cached state), "No jobs yet" would be a guess. */
  #loading(): boolean {
    const { active, recent, connection } = this.#jobs;
    if (active.length > 0 || recent.length > 0) return false;
    return this.#clients.client.cursor === null && (connection?.state ?? 'connecting') === 'connecting';
  }

  protected override willUpdate(_changed: PropertyValues<this>) {
    this.types = asTypeViews(this.types);
    const key = [this.#clients.client, this.status, this.type, this.scope, this.limit, this.hideDismissed];
    if (key.some((value, index) => value !== this.#fetchedFor[index])) {
      // Other filters (or another client): the fetched pages start over.
      this.#fetchedFor = key;
      this.#fetched = new Map();
      this.#next = this.#finishedStatuses().length > 0 ? undefined : null;
      this.#pages = 1;
      this.#moreFailed = false;
      this.#aheadFailed = false;
    }
    // Back online: fetching ahead may be tried again.
    const live = this.#jobs.connection?.state === 'live';
    if (live && !this.#wasLive) this.#aheadFailed = false;
    this.#wasLive = live;
    const items = this.#shownItems();
    this.#items = items;
    this.#shown = items.map((item) => item.job);
    // Said once, politely, when a shown job stalls and when it updates again, unless a <job-tracker> of
    // the same client says it (or the page is hidden).
    const said = this.#stalls(this.#shown, Date.now(), this.#locale.wording(this.messages), this.types);
    if (said.length > 0 && !jobsAnnounced(this.#clients.client) && document.visibilityState !== 'hidden')
      this.#announcement = said.map(([, text]) => text).join(' ');
  }

  protected override updated() {
    // Knows one item beyond the shown pages, fetching ahead (once the connection is live: the client
    // then holds the server's snapshot) when the client does not hold it, so that "Show more" is
    // offered only when there is more.
    if (
      !this.#fetching &&
      !this.#loadingMore &&
      !this.#aheadFailed &&
      this.#next !== null &&
      this.#wasLive &&
      this.#knownCount() < this.#wanted(this.#pages)
    ) {
      void this.#fill(this.#wanted(this.#pages));
    }
  }

  /** Ids of failed or cancelled jobs that a job the list knows retries: they get no Retry button. */
  #retried(): ReadonlySet<string> {
    if (this.#fetched.size === 0) return this.#jobs.retried;
    const retried = new Set(this.#jobs.retried);
    for (const job of this.#fetched.values()) if (job.retryOf) retried.add(job.retryOf);
    return retried;
  }

  /** When the focused button went away with its card (a cancelled job leaves an active list), the same button of the next card (or the previous one after the last) takes the focus. */
  async #act(kind: JobAction, job: Job) {
    const successor = cardSuccessor(this.renderRoot as ShadowRoot, job.id);
    if (!(await this.#actions.run(kind, job))) return;
    await this.updateComplete;
    keepFocusInside(this, (root) => successor() ?? root.querySelector<HTMLElement>('.list, .empty'));
  }

  protected override render() {
    const { messages, locale } = this.#locale.wording(this.messages);
    const jobs = this.#shown;
    const loading = jobs.length === 0 && this.#loading();
    const actions: JobCardActions = {
      cancel: (job) => void this.#act('cancel', job),
      retry: (job) => void this.#act('retry', job),
    };
    const options = {
      views: this.types,
      messages,
      locale,
      now: this.#tick.now,
      resultTemplate: this.resultUrl,
      actions,
      retried: this.#retried(),
      pace: this.#pace,
    };
    const more = this.#more || this.#loadingMore;
    return html`
      ${
        this.#actions.failed || this.#moreFailed
          ? html`<p part="action-error" class="action-error" role="alert">${messages.genericError}</p>`
          : nothing
      }
      ${
        loading
          ? nothing
          : jobs.length === 0
            ? html`<div part="empty" class="empty" tabindex="-1"><slot name="empty">${messages.empty}</slot></div>`
            : html`<ul part="list" class="list" role="list" tabindex="-1" aria-busy=${this.#loadingMore ? 'true' : 'false'}>
              ${repeat(
                this.#items,
                (item) => item.job.id,
                ({ job, earlier }) =>
                  html`<li part="item" class="item">${jobCard(job, options)}${
                    earlier.length > 0
                      ? html`<p part="earlier" class="earlier">${messages.earlierAttempts(
                          earlier.length,
                          earlier[0]?.status === 'failed' ? (earlier[0].error?.message ?? null) : null,
                        )}</p>`
                      : nothing
                  }</li>`,
              )}
            </ul>
            ${
              more
                ? html`<button part="more-button" class="more" type="button" aria-disabled=${this.#loadingMore ? 'true' : 'false'} @click=${() => void this.#showMore()}>${messages.showMore}</button>`
                : nothing
            }`
      }
      <p class="visually-hidden" role="status">${this.#announcement}</p>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'job-list': JobList;
  }
}
