import type { Job } from '@jobtracker/sdk/wire';
import { ApiError } from '../http/errors.js';
import type { BatchOutcome } from './types.js';

/** Runs one update of a batch: a refusal becomes its outcome, anything else fails the batch. */
export async function outcomeOf(work: () => Promise<Job>): Promise<BatchOutcome> {
  try {
    return { job: await work() };
  } catch (error) {
    if (error instanceof ApiError) return { error };
    throw error;
  }
}
