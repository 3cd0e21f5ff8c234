import { createJobRunner, type JobRunner } from '@jobtracker/sdk/worker';
import type { JobEngine } from '../engine/engine.js';
import { createEngineWorkerApi } from '../worker-api/engine-worker-api.js';

export {
  type HandleOptions,
  type JobContext,
  JobFailure,
  type JobHandler,
  type JobRunner,
} from '@jobtracker/sdk/worker';

export interface RunnerOptions {
  /** Identifies this process's claims. Default `inproc:<pid>`. */
  workerId?: string;
  /** Lease of each job, in ms (1,000–3,600,000); a heartbeat goes every third of it. Default 15,000. */
  leaseMs?: number;
  /** How often to look for pending jobs besides being told of new ones, in ms. Default 1,000. */
  pollMs?: number;
  /** Told of claim failures, handler errors other than `JobFailure`, and writes that failed. Default: `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * Runs jobs in this process: the SDK's job-running core (the one `createWorker` runs over HTTP) over
 * the engine's in-process worker API, so a job here is claimed, fenced by its lease and written back
 * exactly as an HTTP worker's. A cancel reaches the handler's signal at once.
 */
export function createRunner(engine: JobEngine, options: RunnerOptions = {}): JobRunner {
  return createJobRunner({
    api: createEngineWorkerApi(engine),
    workerId: options.workerId ?? `inproc:${process.pid}`,
    leaseMs: options.leaseMs,
    waitMs: options.pollMs ?? 1000,
    onError: options.onError ?? ((error: unknown) => console.error('[jobtracker runner]', error)),
  });
}
