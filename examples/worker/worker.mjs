#!/usr/bin/env node
// A worker in its own process: claims `report.export` jobs through the worker API, reports progress
// (lease heartbeats included) and completes them. How a host's backend plugs in.
//   JOBTRACKER_WORKER_KEY=… node examples/worker/worker.mjs [--url http://localhost:8787/api]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createWorker, JobFailure } from '@jobtracker/sdk/worker';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://localhost:8787/api' } } });

const worker = createWorker({
  baseUrl: values.url,
  // In dev mode (no key configured on the server) any key is accepted.
  workerKey: process.env.JOBTRACKER_WORKER_KEY || 'dev',
  types: ['report.export'],
  concurrency: 2,
  handler: async (job, { input, progress, signal }) => {
    const rows = Number(input?.rows ?? 500);
    if (!Number.isFinite(rows) || rows <= 0)
      throw new JobFailure('There is nothing to export.', { retryable: false });
    for (let done = 0; done <= rows; done += Math.ceil(rows / 10)) {
      await progress(
        Math.min(100, Math.round((done / rows) * 100)),
        `Exported ${Math.min(done, rows)} of ${rows} rows`,
      );
      await sleep(Number(input?.stepMs ?? 300), undefined, { signal });
    }
    return { url: `/reports/${job.id}`, summary: `${rows} rows exported` };
  },
  onError: (error) => console.error('worker:', error.message ?? error),
});

worker.start();
console.log(`worker: claiming report.export jobs from ${values.url}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await worker.stop();
    process.exit(0);
  });
}
