// A BullMQ worker process for the tests: works the queues named in QUEUES (comma-separated), two jobs at a
// time each, and listens for the tracker's cancels. A job's data drives it: `steps` of `stepMs`, each
// reporting progress (a number, or { percent, message }), failing its first `failAttempts` attempts: at
// once, or after step `failAfterStep` when given.
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, Worker } from 'bullmq';
import { listenForCancels } from '../index.js';
import { connection } from './redis.js';

const queues = (process.env.QUEUES ?? '').split(',').filter(Boolean);
const closers: (() => Promise<void>)[] = [];
for (const name of queues) {
  const worker = new Worker(
    name,
    async (job, _token, signal) => {
      const { steps = 3, stepMs = 100, failAttempts = 0, failAfterStep } = job.data as Record<string, number>;
      console.log(`active ${name} ${job.id} attempt ${job.attemptsMade + 1}`);
      const failing = job.attemptsMade < failAttempts;
      if (failing && failAfterStep === undefined) throw new Error(`Attempt ${job.attemptsMade + 1} broke`);
      for (let step = 1; step <= steps; step++) {
        try {
          await sleep(stepMs, undefined, { signal });
        } catch {
          console.log(`aborted ${name} ${job.id} ${String(signal?.reason)}`);
          throw new UnrecoverableError('Cancelled');
        }
        const percent = Math.round((100 * step) / steps);
        await job.updateProgress(step % 2 ? percent : { percent, message: `Step ${step} of ${steps}` });
        if (failing && step === failAfterStep) throw new Error(`Attempt ${job.attemptsMade + 1} broke`);
      }
      return { steps, pid: process.pid };
    },
    { connection, concurrency: 2 },
  );
  const cancels = listenForCancels(worker);
  await cancels.ready;
  await worker.waitUntilReady();
  closers.push(async () => {
    await cancels.close();
    await worker.close(true);
  });
}
console.log('workers ready');
process.once('SIGTERM', async () => {
  await Promise.all(closers.map((close) => close()));
  process.exit(0);
});
