// A BullMQ worker for the example: generates a program in steps, reporting progress with a message, and
// stops when its user cancels (listenForCancels). Run as many as you like: `npm run worker -w @jobtracker/example-bullmq`.
import { setTimeout as sleep } from 'node:timers/promises';
import { listenForCancels } from '@jobtracker/bullmq';
import { UnrecoverableError, Worker } from 'bullmq';
import { connection, QUEUE } from './shared.js';

const STEPS = [
  'Reading the analysis…',
  'Drafting the program outline…',
  'Generating workstreams…',
  'Assigning resources…',
  'Writing the program summary…',
  'Finalizing…',
];
const durationMs = Number(process.env.JOBTRACKER_DEMO_DURATION_MS ?? 20000);

const worker = new Worker(
  QUEUE,
  async (job, _token, signal) => {
    for (const [index, message] of STEPS.entries()) {
      await job.updateProgress({ percent: Math.round((100 * index) / STEPS.length), message });
      if (job.data.flaky && job.attemptsMade === 0 && index === 2) {
        throw new Error('The resource planner did not answer.');
      }
      try {
        await sleep(durationMs / STEPS.length, undefined, { signal });
      } catch {
        throw new UnrecoverableError('Cancelled by its user.');
      }
    }
    return { summary: `“${job.data.title}” is ready: 4 workstreams, 12 sessions.` };
  },
  { connection, concurrency: 4 },
);
const cancels = listenForCancels(worker);
// Ready once it hears cancels: a cancel published before would not reach the job it runs.
await cancels.ready;
console.log(`worker ${process.pid} processing the "${QUEUE}" queue`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await cancels.close();
    await worker.close();
    process.exit(0);
  });
}
