import type { Job } from '@jobtracker/sdk';

/**
 * Every string the elements show or announce. The elements take the set of the locale their nearest
 * `lang` names (see `registerJobLocale`); an element's `messages` property replaces any subset of it.
 * Numbers, durations and ages come formatted with `Intl` in that locale.
 */
export interface JobMessages {
  panelLabel: string;
  keepNavigating: string;
  jobsRunning(count: number): string;
  badge(count: number): string;
  badgeLabel(count: number): string;
  /** A percentage: `value` 0–100, `formatted` as `Intl` writes it in the locale ("42 %", "٤٢٪"). */
  percent(value: number, formatted: string): string;
  working: string;
  pending: string;
  elapsed(duration: string): string;
  remaining(duration: string): string;
  cancel: string;
  dismiss: string;
  /** Hides every failed card of the tracker at once. */
  clearFailed: string;
  /** Brings back the cards of `count` running jobs the user dismissed. */
  showHidden(count: number): string;
  retry: string;
  view: string;
  close: string;
  expand: string;
  collapse: string;
  completedTitle(job: Job, label: string): string;
  failedTitle(job: Job, label: string): string;
  cancelledTitle(job: Job, label: string): string;
  /** Announced when a job reaches 25, 50 or 75 %; `name` is the job's title, else its type's label. */
  reachedPercent(name: string, percent: string): string;
  /** Announced once when a job completes ("Q3 growth program: complete"). */
  announceCompleted(name: string): string;
  /** Announced once, assertively, when a job fails, with the reason. */
  announceFailed(name: string, reason: string): string;
  /** Announced once when a job is cancelled. */
  announceCancelled(name: string): string;
  /** Announced when a failed or cancelled job starts again. */
  announceRetried(name: string): string;
  /**
   * On the card of a running job with no update for longer than its `staleAfterMs` ("No update for 3 min");
   * `duration` is formatted with `Intl`, as `elapsed`'s is.
   */
  stalled(duration: string): string;
  /** Announced politely once when a running job stalls ("Q3 growth program: no update for 3 min"). */
  announceStalled(name: string, duration: string): string;
  /** Announced politely once when a stalled job gets an update again ("Q3 growth program: updates again"). */
  announceResumed(name: string): string;
  reconnecting: string;
  offline: string;
  lastUpdated(ago: string): string;
  notifyMe: string;
  buttonProgress(percent: string | null): string;
  startFailed(reason: string): string;
  /**
   * Why a job could not start, the `reason` of `startFailed` ("Could not start: The server could not be
   * reached."): `unreachable` (no connection to the job API), `busy` (too many requests, a 429),
   * `signedOut` (the session ended: 401 or 403), `unavailable` (the job API failed or is down: 5xx),
   * `refused` (any other refusal of the request as the page made it; the API's own message is on the
   * `job-error` event's error, for the page's developer).
   */
  startFailureReason(kind: StartFailureKind): string;
  empty: string;
  /** `<job-list>`: the button that shows the next page of jobs. */
  showMore: string;
  /** `<job-list>`: announced politely once "Show more" showed the next page ("Showing 40 jobs"). */
  shownJobs(count: number): string;
  /**
   * `<job-list>`: under a retry, the earlier attempts it superseded; `reason` is the latest one's error,
   * or null when it was cancelled ("1 earlier attempt failed: Disk full").
   */
  earlierAttempts(count: number, reason: string | null): string;
  genericError: string;
  actionFailed(action: 'cancel' | 'retry'): string;
}

/** The kinds of reason a `<job-button>` gives for a job that could not start; see `JobMessages.startFailureReason`. */
export type StartFailureKind = 'unreachable' | 'busy' | 'signedOut' | 'unavailable' | 'refused';

export const defaultMessages: JobMessages = {
  panelLabel: 'Background jobs',
  keepNavigating: 'You can keep browsing; we will tell you when it is done.',
  jobsRunning: (count) => (count === 1 ? '1 job running' : `${count} jobs running`),
  badge: (count) => String(count),
  badgeLabel: (count) => (count === 1 ? '1 job running' : `${count} jobs running`),
  percent: (_value, formatted) => formatted,
  working: 'Working…',
  pending: 'Waiting to start…',
  elapsed: (duration) => `${duration} elapsed`,
  remaining: (duration) => `about ${duration} left`,
  cancel: 'Cancel',
  dismiss: 'Dismiss',
  clearFailed: 'Clear all',
  showHidden: (count) => (count === 1 ? 'Show 1 hidden job' : `Show ${count} hidden jobs`),
  retry: 'Retry',
  view: 'View',
  close: 'Close',
  expand: 'Show jobs',
  collapse: 'Hide jobs',
  completedTitle: (_job, label) => `${label} complete`,
  failedTitle: (_job, label) => `${label} failed`,
  cancelledTitle: (_job, label) => `${label} cancelled`,
  reachedPercent: (name, percent) => `${name}: ${percent}`,
  announceCompleted: (name) => `${name}: complete`,
  announceFailed: (name, reason) => `${name}: failed. ${reason}`,
  announceCancelled: (name) => `${name}: cancelled`,
  announceRetried: (name) => `${name}: started again`,
  stalled: (duration) => `No update for ${duration}`,
  announceStalled: (name, duration) => `${name}: no update for ${duration}`,
  announceResumed: (name) => `${name}: updates again`,
  reconnecting: 'Reconnecting…',
  offline: 'Offline: updates will resume when the connection returns.',
  lastUpdated: (ago) => `Last updated ${ago}`,
  notifyMe: 'Notify me when done',
  buttonProgress: (percent) => (percent === null ? 'Working…' : `Working… ${percent}`),
  startFailed: (reason) => `Could not start: ${reason}`,
  startFailureReason: (kind) =>
    ({
      unreachable: 'The server could not be reached.',
      busy: 'Too many requests. Try again shortly.',
      signedOut: 'Your session has ended. Sign in again.',
      unavailable: 'The service is unavailable. Try again shortly.',
      refused: 'The request was refused.',
    })[kind],
  empty: 'No jobs yet.',
  showMore: 'Show more',
  shownJobs: (count) => (count === 1 ? 'Showing 1 job' : `Showing ${count} jobs`),
  earlierAttempts: (count, reason) =>
    `${count === 1 ? '1 earlier attempt' : `${count} earlier attempts`} ${reason === null ? 'did not complete' : `failed: ${reason}`}`,
  genericError: 'Something went wrong.',
  actionFailed: (action) =>
    action === 'cancel' ? 'The job could not be cancelled.' : 'The job could not be retried.',
};

/** `lang` as a locale `Intl` accepts, or English when it is not a well-formed language tag. */
export function intlLocale(lang: string): string {
  try {
    return Intl.getCanonicalLocales(lang)[0] ?? 'en';
  } catch {
    return 'en';
  }
}

// Building an Intl formatter costs far more than formatting with one (it was 15% of a busy page's
// script time), and a page formats on every progress update: keep one per language and options.
const formatters: Record<string, Intl.NumberFormat & Intl.RelativeTimeFormat> = {};
const formatter = (
  Format: typeof Intl.NumberFormat | typeof Intl.RelativeTimeFormat,
  locale: string,
  options: object,
) =>
  (formatters[locale + JSON.stringify(options)] ??= new Format(locale, options) as Intl.NumberFormat &
    Intl.RelativeTimeFormat);

export function formatPercent(value: number, messages: JobMessages, locale: string): string {
  const rounded = Math.floor(value);
  return messages.percent(
    rounded,
    formatter(Intl.NumberFormat, locale, { style: 'percent', maximumFractionDigits: 0 }).format(
      rounded / 100,
    ),
  );
}

// Intl.DurationFormat is newer than the TypeScript lib this package targets.
const DurationFormat = (
  Intl as unknown as {
    DurationFormat?: new (
      locale: string,
      options: { style: 'short' },
    ) => { format(duration: { hours: number; minutes: number }): string };
  }
).DurationFormat;

/** "42 s", "3 min", "1 h 5 min" in `locale` (hours with Intl.DurationFormat where the browser has it). */
export function formatDuration(ms: number, locale: string): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.round(seconds / 60);
  const unit = (value: number, name: 'second' | 'minute' | 'hour') =>
    formatter(Intl.NumberFormat, locale, { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  // DurationFormat leaves out zero units ("0 s" would be ""), so one unit alone is a unit format.
  if (seconds < 60) return unit(seconds, 'second');
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  return DurationFormat
    ? new DurationFormat(locale, { style: 'short' }).format({ hours, minutes: minutes % 60 })
    : `${unit(hours, 'hour')} ${unit(minutes % 60, 'minute')}`;
}

/** "20 seconds ago" in `locale`. */
export function formatAgo(ms: number, locale: string): string {
  // Never "in 1 second": a clock read a moment before the last contact gives a small negative age.
  const seconds = Math.max(0, Math.round(ms / 1000));
  const format = formatter(Intl.RelativeTimeFormat, locale, { numeric: 'auto' });
  return seconds < 60
    ? format.format(-seconds, 'second')
    : format.format(-Math.round(seconds / 60), 'minute');
}
