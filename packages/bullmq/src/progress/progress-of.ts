/** What a BullMQ job's progress says for the tracker: a percentage (0..100) and a message, each optional. */
export interface ProgressReport {
  progress?: number;
  message?: string;
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, value));

/**
 * Reads what a processor gave `job.updateProgress`: a number (a percentage), or an object with `percent`
 * (or `progress`) and `message`. Anything else (a string, a boolean, other objects) carries no percentage;
 * a string is taken as a message.
 */
export function progressOf(data: unknown): ProgressReport {
  if (typeof data === 'number') return Number.isFinite(data) ? { progress: clampPercent(data) } : {};
  if (typeof data === 'string') return data ? { message: data.slice(0, 1000) } : {};
  if (!data || typeof data !== 'object') return {};
  const record = data as Record<string, unknown>;
  const report: ProgressReport = {};
  const percent = record.percent ?? record.progress;
  if (typeof percent === 'number' && Number.isFinite(percent)) report.progress = clampPercent(percent);
  if (typeof record.message === 'string' && record.message) report.message = record.message.slice(0, 1000);
  return report;
}
