import type { Job, JobClient } from '@jobtracker/sdk';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus } from '@jobtracker/sdk/wire';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
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
import { cardStyles, tokens } from '../shared/styles.js';
import { TickController } from '../shared/tick-controller.js';
import { listStyles } from './job-list.styles.js';

/** The statuses a name of the `status` attribute stands for: `active`, or one status. */
const statusesNamed = (name: string): readonly JobStatus[] | undefined =>
  name === 'active' ? ACTIVE_STATUSES : JOB_STATUSES.find((status) => status === name) && [name as JobStatus];

const warned = new Set<string>();

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
 * The list shows the jobs its client knows: every active job, and the recent finished ones that the
 * server's snapshot carries.
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
 * @csspart summary - A completed job's `result.summary`.
 * @csspart error - A failed job's error message.
 * @csspart actions - A job's buttons and links.
 * @csspart cancel-button - Cancels an active job.
 * @csspart retry-button - Starts a failed or cancelled job again.
 * @csspart view-link - Opens a completed job's result.
 * @csspart type-link - The per-type link from `types`.
 * @csspart empty - Holds the `empty` slot.
 * @csspart action-error - The notice shown when cancelling or retrying failed.
 *
 * @cssprop --job-bg - Card background.
 * @cssprop --job-fg - Text color.
 * @cssprop --job-muted - Secondary text color.
 * @cssprop --job-border - Border color.
 * @cssprop --job-accent - Progress and link color.
 * @cssprop --job-accent-fg - Text on the accent color.
 * @cssprop --job-success - Completed accents.
 * @cssprop --job-danger - Failure accents.
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
  /** Shows at most this many jobs (the newest). */
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
  readonly #pace = new ProgressPace();

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
    const statuses = parseStatuses(this.status);
    const { type, scope } = this;
    const { active, recent } = this.#jobs;
    const dismissed = this.hideDismissed ? new Set(this.#jobs.dismissed) : null;
    const jobs = [...active, ...recent].filter(
      (job) =>
        statuses.has(job.status) &&
        (!type || job.type === type) &&
        (!scope || job.scope === scope) &&
        !dismissed?.has(job.id),
    );
    const limit = this.limit;
    return limit !== undefined && Number.isFinite(limit) && limit >= 0
      ? jobs.slice(0, Math.floor(limit))
      : jobs;
  }

  /** Until the client has heard from the server (or has a cached state), "No jobs yet" would be a guess. */
  #loading(): boolean {
    const { active, recent, connection } = this.#jobs;
    if (active.length > 0 || recent.length > 0) return false;
    return this.#clients.client.cursor === null && (connection?.state ?? 'connecting') === 'connecting';
  }

  protected override willUpdate(_changed: PropertyValues<this>) {
    this.types = asTypeViews(this.types);
    this.#shown = this.#visible();
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
      retried: this.#jobs.retried,
      pace: this.#pace,
    };
    return html`
      ${
        this.#actions.failed
          ? html`<p part="action-error" class="action-error" role="alert">${messages.genericError}</p>`
          : nothing
      }
      ${
        loading
          ? nothing
          : jobs.length === 0
            ? html`<div part="empty" class="empty" tabindex="-1"><slot name="empty">${messages.empty}</slot></div>`
            : html`<ul part="list" class="list" role="list" tabindex="-1">
              ${repeat(
                jobs,
                (job) => job.id,
                (job) => html`<li part="item" class="item">${jobCard(job, options)}</li>`,
              )}
            </ul>`
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'job-list': JobList;
  }
}
