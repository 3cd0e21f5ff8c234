import type { Job } from '@jobtracker/sdk';

/**
 * Every string the elements show or announce. Pass a partial object as an element's `messages`
 * property to translate or reword; numbers and times are formatted with `Intl` in the page's
 * language (`<html lang>`).
 */
export interface JobMessages {
  panelLabel: string;
  keepNavigating: string;
  jobsRunning(count: number): string;
  badge(count: number): string;
  badgeLabel(count: number): string;
  percent(value: number): string;
  working: string;
  pending: string;
  elapsed(duration: string): string;
  remaining(duration: string): string;
  cancel: string;
  dismiss: string;
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
  reconnecting: string;
  offline: string;
  lastUpdated(ago: string): string;
  notifyMe: string;
  buttonProgress(percent: string | null): string;
  startFailed(reason: string): string;
  empty: string;
  genericError: string;
  actionFailed(action: 'cancel' | 'retry'): string;
}

export const defaultMessages: JobMessages = {
  panelLabel: 'Background jobs',
  keepNavigating: 'You can keep browsing; we will tell you when it is done.',
  jobsRunning: (count) => (count === 1 ? '1 job running' : `${count} jobs running`),
  badge: (count) => String(count),
  badgeLabel: (count) => (count === 1 ? '1 job running' : `${count} jobs running`),
  percent: (value) => `${value}%`,
  working: 'Working…',
  pending: 'Waiting to start…',
  elapsed: (duration) => `${duration} elapsed`,
  remaining: (duration) => `about ${duration} left`,
  cancel: 'Cancel',
  dismiss: 'Dismiss',
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
  reconnecting: 'Reconnecting…',
  offline: 'Offline: updates will resume when the connection returns.',
  lastUpdated: (ago) => `Last updated ${ago}`,
  notifyMe: 'Notify me when done',
  buttonProgress: (percent) => (percent === null ? 'Working…' : `Working… ${percent}`),
  startFailed: (reason) => `Could not start: ${reason}`,
  empty: 'No jobs yet.',
  genericError: 'Something went wrong.',
  actionFailed: (action) =>
    action === 'cancel' ? 'The job could not be cancelled.' : 'The job could not be retried.',
};

export const resolveMessages = (overrides: Partial<JobMessages> | undefined): JobMessages =>
  overrides ? { ...defaultMessages, ...overrides } : defaultMessages;

/** The page's language, for `Intl`. */
export const pageLocale = () =>
  (typeof document !== 'undefined' && document.documentElement.lang) ||
  (typeof navigator !== 'undefined' ? navigator.language : undefined) ||
  'en';

// Building an Intl formatter costs far more than formatting with one (it was 15% of a busy page's
// script time), and a page formats on every progress update: keep one per language and options.
const formatters: Record<string, Intl.NumberFormat & Intl.RelativeTimeFormat> = {};
const formatter = (Format: typeof Intl.NumberFormat | typeof Intl.RelativeTimeFormat, options: object) =>
  (formatters[pageLocale() + JSON.stringify(options)] ??= new Format(
    pageLocale(),
    options,
  ) as Intl.NumberFormat & Intl.RelativeTimeFormat);

export function formatPercent(value: number, messages: JobMessages): string {
  const rounded = Math.floor(value);
  if (messages.percent !== defaultMessages.percent) return messages.percent(rounded);
  return formatter(Intl.NumberFormat, { style: 'percent', maximumFractionDigits: 0 }).format(rounded / 100);
}

/** "42 s", "3 min", "1 h 5 min" in the page's language. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const unit = (value: number, name: 'second' | 'minute' | 'hour') =>
    formatter(Intl.NumberFormat, { style: 'unit', unit: name, unitDisplay: 'short' }).format(value);
  if (seconds < 60) return unit(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  return `${unit(Math.floor(minutes / 60), 'hour')} ${unit(minutes % 60, 'minute')}`;
}

/** "20 seconds ago" in the page's language. */
export function formatAgo(ms: number): string {
  // Never "in 1 second": a clock read a moment before the last contact gives a small negative age.
  const seconds = Math.max(0, Math.round(ms / 1000));
  const format = formatter(Intl.RelativeTimeFormat, { numeric: 'auto' });
  return seconds < 60
    ? format.format(-seconds, 'second')
    : format.format(-Math.round(seconds / 60), 'minute');
}
