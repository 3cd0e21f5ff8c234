import { type Job, stalledFor } from '@jobtracker/sdk';
import { html, nothing, type TemplateResult } from 'lit';
import { DEV_MODE } from './dev-mode.js';
import { formatDuration, formatPercent, type JobMessages } from './messages.js';
import type { ProgressPace } from './progress-pace.js';
import { resultUrl, safeUrl } from './safe-url.js';

/** How a job type is shown: its label, and where its results live. */
export interface JobTypeView {
  label?: string;
  /** Where the results of this type live, e.g. `/programs`; only http(s) or relative URLs are linked. */
  href?: string;
  /** The link's text, e.g. "Go to Programs". */
  linkLabel?: string;
}

export type JobTypeViews = Record<string, JobTypeView>;

/** Reads a `types` attribute: a JSON object of type → view. Bad JSON gives no views (and, in development, a console warning). */
export function parseTypeViews(value: string | null): JobTypeViews {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as JobTypeViews;
  } catch {
    // fall through
  }
  if (DEV_MODE) {
    console.warn(
      'jobtracker: the "types" attribute must be a JSON object such as {"report":{"label":"Report"}}.',
    );
  }
  return {};
}

/** Options of a `types` property: its attribute holds the JSON text. */
export const typeViewsProperty = {
  converter: { fromAttribute: (value: string | null) => parseTypeViews(value) },
};

/** A `types` property's value as views: a framework may set the property to the attribute's JSON text. */
export const asTypeViews = (value: JobTypeViews | string): JobTypeViews =>
  typeof value === 'string' ? parseTypeViews(value) : value;

export const typeLabel = (job: Job, views: JobTypeViews) => views[job.type]?.label ?? job.title ?? job.type;

/**
 * Elapsed time of the current attempt, and an estimate of what is left once it has run long enough to
 * tell: from the attempt's recent pace when `pace` follows the job, else from its average pace.
 */
export function timing(
  job: Job,
  now: number,
  pace?: ProgressPace,
): { elapsed: number | null; remaining: number | null } {
  const started = job.startedAt ? Date.parse(job.startedAt) : null;
  if (started === null || job.status !== 'running') return { elapsed: null, remaining: null };
  const elapsed = Math.max(0, now - started);
  const progress = job.progress;
  const rate = pace?.rate(job, now) ?? (progress === null || elapsed === 0 ? null : progress / elapsed);
  const enough = progress !== null && progress >= 5 && progress < 100 && elapsed >= 3000;
  return { elapsed, remaining: enough && rate ? (100 - progress) / rate : null };
}

/** The progress bar: determinate with `aria-valuenow`, or indeterminate without it. */
export function progressBar(job: Job, label: string, messages: JobMessages, locale: string): TemplateResult {
  const value = job.progress;
  const text = job.message ?? (job.status === 'pending' ? messages.pending : messages.working);
  return html`<div
    part="progress"
    class="bar ${value === null ? 'indeterminate' : ''}"
    role="progressbar"
    aria-label=${label}
    aria-valuemin="0"
    aria-valuemax="100"
    aria-valuenow=${value === null ? nothing : Math.floor(value)}
    aria-valuetext=${value === null ? text : `${formatPercent(value, messages, locale)}, ${text}`}
  ><div part="progress-indicator" class="fill" style=${value === null ? '' : `transform:scaleX(${value / 100})`}></div></div>`;
}

export interface JobCardActions {
  cancel?: (job: Job) => void;
  dismiss?: (job: Job) => void;
  retry?: (job: Job) => void;
}

/**
 * One job as a card: label, title, progress, message, timing, and the actions that fit its state. A running
 * job with no update for longer than its `staleAfterMs` is stalled at `now`: the card says for how long
 * ("No update for 3 min"), takes the stalled look (its bar paused, in the warning color), until the job's next update.
 */
export function jobCard(
  job: Job,
  options: {
    views: JobTypeViews;
    messages: JobMessages;
    /** For `Intl`: numbers and durations. */
    locale: string;
    now: number;
    resultTemplate?: string | null;
    actions: JobCardActions;
    /** Jobs already retried: they get no Retry button. */
    retried?: ReadonlySet<string>;
    /** Follows each job's recent pace for the estimate of what is left. */
    pace?: ProgressPace;
  },
): TemplateResult {
  const { views, messages, locale, now, actions } = options;
  const view = views[job.type];
  const label = typeLabel(job, views);
  const active = job.status === 'pending' || job.status === 'running';
  const { elapsed, remaining } = timing(job, now, options.pace);
  const quiet = stalledFor(job, now);
  const typeLink = safeUrl(view?.href);
  const link = job.status === 'completed' ? resultUrl(job, options.resultTemplate) : null;
  const name = job.title ?? label;
  const retryable =
    !options.retried?.has(job.id) &&
    (job.status === 'cancelled' || (job.status === 'failed' && job.error?.retryable !== false));
  return html`<article part="card" class="card ${job.status} ${quiet === null ? '' : 'stalled'}" data-job-id=${job.id} data-status=${job.status} aria-label=${name}>
    <header class="head">
      <span part="label" class="label">${label}</span>
      ${job.title && job.title !== label ? html`<span part="title" class="title">${job.title}</span>` : nothing}
    </header>
    ${active ? progressBar(job, name, messages, locale) : nothing}
    <div class="meta">
      ${
        active
          ? html`<span part="message" class="message">${job.message ?? (job.status === 'pending' ? messages.pending : messages.working)}</span>
            ${job.progress === null ? nothing : html`<span part="percent" class="percent">${formatPercent(job.progress, messages, locale)}</span>`}`
          : job.status === 'failed'
            ? html`<span part="error" class="error">${job.error?.message ?? messages.genericError}</span>`
            : job.status === 'completed'
              ? html`<span part="summary" class="summary">${summaryOf(job) ?? messages.completedTitle(job, label)}</span>`
              : html`<span part="message" class="message">${messages.cancelledTitle(job, label)}</span>`
      }
    </div>
    ${quiet === null ? nothing : html`<div part="stall" class="stall">${messages.stalled(formatDuration(quiet, locale))}</div>`}
    ${
      elapsed === null
        ? nothing
        : html`<div part="timing" class="timing">
            ${messages.elapsed(formatDuration(elapsed, locale))}${remaining === null ? nothing : html` · ${messages.remaining(formatDuration(remaining, locale))}`}
          </div>`
    }
    <div part="actions" class="actions">
      ${link ? html`<a part="view-link" class="link" href=${link} aria-label=${`${messages.view}: ${name}`}>${messages.view}</a>` : nothing}
      ${typeLink && view?.linkLabel ? html`<a part="type-link" class="link" href=${typeLink}>${view.linkLabel}</a>` : nothing}
      ${
        active && actions.cancel
          ? html`<button part="cancel-button" type="button" aria-label=${`${messages.cancel}: ${name}`} @click=${() => actions.cancel?.(job)}>${messages.cancel}</button>`
          : nothing
      }
      ${
        retryable && actions.retry
          ? html`<button part="retry-button" type="button" aria-label=${`${messages.retry}: ${name}`} @click=${() => actions.retry?.(job)}>${messages.retry}</button>`
          : nothing
      }
      ${
        actions.dismiss
          ? html`<button part="dismiss-button" type="button" class="dismiss" aria-label=${`${messages.dismiss}: ${name}`} @click=${() => actions.dismiss?.(job)}>${messages.dismiss}</button>`
          : nothing
      }
    </div>
  </article>`;
}

/** A completed job's `result.summary`, when it is text. */
export function summaryOf(job: Job): string | null {
  const result = job.result;
  if (!result || typeof result !== 'object' || Array.isArray(result)) return null;
  return typeof result.summary === 'string' ? result.summary : null;
}
