// A bridge process for the tests: mirrors the queues named in QUEUES into the server at BASE_URL.
import { Queue } from 'bullmq';
import { trackQueue } from '../index.js';
import { connection } from './redis.js';

const queues = (process.env.QUEUES ?? '').split(',').filter(Boolean);
const trackers = queues.map((name) =>
  trackQueue(new Queue(name, { connection }), {
    baseUrl: process.env.BASE_URL as string,
    workerKey: process.env.WORKER_KEY as string,
    owner: (job) => (job.data as { userId?: string }).userId,
    title: (job) => (job.data as { title?: string }).title,
    failure: (reason) => reason,
    flushIntervalMs: 50,
    maxBackoffMs: 500,
    onError: (error) => console.error('bridge error', error),
  }),
);
await Promise.all(trackers.map((tracker) => tracker.ready));
console.log('bridge ready');
process.once('SIGTERM', async () => {
  await Promise.all(trackers.map((tracker) => tracker.close()));
  process.exit(0);
});
