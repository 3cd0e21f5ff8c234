import type { JobRecord } from '../jobs/job-record.js';

/** A job as both dialects store it: the record, with its JSON fields as text. */
export type JobRow = Omit<JobRecord, 'input' | 'result' | 'error'> & {
  input: string | null;
  result: string | null;
  error: string | null;
};

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const toJson = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export function jobFromRow(row: JobRow): JobRecord {
  return { ...row, input: parseJson(row.input), result: parseJson(row.result), error: parseJson(row.error) };
}

export function jobToRow(job: JobRecord): JobRow {
  return { ...job, input: toJson(job.input), result: toJson(job.result), error: toJson(job.error) };
}
