import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { JobFailure, type JobRunner } from '../runner/runner.js';

const STEPS = [
  'Reading the analysis',
  'Drafting the program outline',
  'Generating workstreams',
  'Estimating the timeline',
  'Assigning resources',
  'Writing the program summary',
  'Finalizing',
];

const demoInput = z
  .object({
    durationMs: z.number().int().min(0).max(600_000).optional(),
    failAtPercent: z.number().min(0).max(100).optional(),
  })
  .nullable()
  .catch(null);

/**
 * Registers the demo job types: `demo.generate` walks through realistic steps for `durationMs`
 * (default 20 s) and completes with `{ url, summary, programId }`. With `failAtPercent` it fails with a
 * retryable error (`demo_failure`) once its progress reaches that percent, as after a transient fault:
 * only a first job fails, so its Retry (a new job with `retryOf` set) runs through and completes.
 */
export function registerDemoJobs(runner: JobRunner, options: { defaultDurationMs?: number } = {}) {
  runner.handle(
    'demo.generate',
    async (job, { input, progress, signal }) => {
      const parsed = demoInput.parse(input) ?? {};
      // A retry inherits the input; the fault it retries was transient, so it does not fail again.
      const failAt = job.retryOf === null ? parsed.failAtPercent : undefined;
      const duration = parsed.durationMs ?? options.defaultDurationMs ?? 20_000;
      const ticks = Math.max(1, Math.min(100, Math.round(duration / 200)));
      for (let tick = 0; tick <= ticks; tick++) {
        const percent = Math.round((tick / ticks) * 100);
        if (failAt !== undefined && percent >= failAt) {
          throw new JobFailure(`Generation stopped at ${percent}%: the planning service did not answer.`, {
            code: 'demo_failure',
            retryable: true,
          });
        }
        const step = STEPS[Math.min(STEPS.length - 1, Math.floor((percent / 100) * STEPS.length))];
        await progress(percent, `${step}…`);
        if (tick < ticks) await sleep(duration / ticks, undefined, { signal });
      }
      const name = job.title ?? 'Untitled program';
      return {
        url: `/programs/${job.id}`,
        programId: job.id,
        summary: `“${name}” is ready: 4 workstreams over 12 weeks.`,
      };
    },
    { concurrency: 8 },
  );
}
