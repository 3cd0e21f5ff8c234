// Node 20 ESM, from the packed tarball: the SDK's client follows a job to completion, a worker built
// with createWorker runs one, and a host reporting a job it runs itself with createReporter completes
// one; the wire types come from @jobtracker/sdk/wire. Prints what it saw as JSON.
import { createJobClient } from '@jobtracker/sdk';
import { type Job, TERMINAL_STATUSES } from '@jobtracker/sdk/wire';
import { createReporter, createWorker } from '@jobtracker/sdk/worker';

const [origin, workerKey] = process.argv.slice(2);
if (!origin || !workerKey) throw new Error('usage: node main.js <origin> <workerKey>');
const baseUrl = `${origin}/api`;

async function getJobToken(): Promise<string> {
  const response = await fetch(`${origin}/token`);
  return ((await response.json()) as { token: string }).token;
}

const client = createJobClient({ baseUrl, token: getJobToken });

function finished(id: string): Promise<{ job: Job; progressSeen: number[] }> {
  const progressSeen: number[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${id} did not finish in 30 s`)), 30_000);
    const unsubscribe = client.jobStore(id).subscribe((job) => {
      if (job?.progress != null && progressSeen.at(-1) !== job.progress) progressSeen.push(job.progress);
      if (job && TERMINAL_STATUSES.includes(job.status)) {
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe());
        resolve({ job, progressSeen });
      }
    });
  });
}

const generated = await client.start({ type: 'epm_generation', title: 'Program from Node' });
const followed = await finished(generated.job.id);

const worker = createWorker({
  baseUrl,
  workerKey,
  types: ['consumer.work'],
  handler: async (job, { progress }) => {
    await progress(50, 'Halfway');
    return { url: `/reports/${job.id}` };
  },
});
worker.start();
const work = await client.start({ type: 'consumer.work', title: 'Report from a worker' });
const worked = await finished(work.job.id);
await worker.stop();

// The user the host's tokens are for: the owner of the job the host reports.
const owner = (
  JSON.parse(Buffer.from((await getJobToken()).split('.')[1] ?? '', 'base64url').toString()) as {
    sub: string;
  }
).sub;
const reporter = createReporter({ baseUrl, workerKey, flushIntervalMs: 50 });
const tracked = await reporter.track({
  owner,
  type: 'consumer.reported',
  title: 'Reported by its host',
  externalId: 'consumer-1',
});
const reportedSeen = finished(tracked.id);
await tracked.progress(40, 'Reported progress');
await tracked.complete({ url: `/reported/${tracked.id}` });
const reported = await reportedSeen;
await reporter.close();

console.log(
  JSON.stringify({
    generated: {
      status: followed.job.status,
      result: followed.job.result,
      progressSeen: followed.progressSeen,
    },
    worked: { status: worked.job.status, result: worked.job.result },
    reported: {
      status: reported.job.status,
      result: reported.job.result,
      progressSeen: reported.progressSeen,
    },
  }),
);
