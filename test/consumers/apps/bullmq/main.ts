// An app on BullMQ, from the packed tarball: a bridge (trackQueue) and a worker that hears cancels
// (listenForCancels), type-checked with skipLibCheck off. Not run here (it needs Redis): the package's own
// suite runs the same calls against a real Redis.
import { type CancelListener, listenForCancels, type QueueTracker, trackQueue } from '@jobtracker/bullmq';
import { Queue, UnrecoverableError, Worker } from 'bullmq';

interface RenderData {
  userId: string;
  file: string;
}

const connection = { host: '127.0.0.1', port: 6379 };

export function bridge(): QueueTracker {
  const queue = new Queue<RenderData>('renders', { connection });
  return trackQueue(queue, {
    baseUrl: 'http://127.0.0.1:8787/api',
    workerKey: process.env.JOBTRACKER_WORKER_KEY ?? '',
    owner: (job) => job.data.userId,
    title: (job) => `Render ${job.data.file}`,
    type: 'video.render',
    failure: (reason) => ({ message: reason, code: 'render_failed' }),
    messages: { retrying: (attempt, attempts) => `Nouvel essai (${attempt}/${attempts})` },
  });
}

export function worker(): CancelListener {
  const renders = new Worker<RenderData>(
    'renders',
    async (job, _token, signal) => {
      if (signal?.aborted) throw new UnrecoverableError('Cancelled');
      await job.updateProgress({ percent: 50, message: `Rendering ${job.data.file}` });
      return { url: `/videos/${job.id}` };
    },
    { connection },
  );
  return listenForCancels(renders);
}
