import type { Job, Worker } from 'bullmq';
import {
  cancelChannel,
  cancelledKey,
  KEPT_JOB_TTL_MS,
  type KeptJob,
  keptJobKey,
  type RawRedis,
  rawRedis,
} from '../keys.js';

/** The reason a cancelled job's `AbortSignal` carries (`signal.reason`). */
export const CANCELLED_BY_USER = 'Cancelled by its user in jobtracker';

/** A running cancel listener; see {@link listenForCancels}. */
export interface CancelListener {
  /** Resolves once it is subscribed: cancels published from then on reach this worker. */
  readonly ready: Promise<void>;
  /** Unsubscribes and closes its Redis connection. */
  close(): Promise<void>;
}

/**
 * Lets the user's cancel reach the jobs this worker process runs: the bridge ({@link trackQueue})
 * publishes the id of a cancelled active job on the queue's channel, and the worker that runs it calls
 * `worker.cancelJob(id)`, which aborts the `AbortSignal` its processor got as third argument (BullMQ ≥ 5.6x;
 * the processor must declare that parameter). A cancel published while the listener's connection was
 * down (a Redis restart, a network blip) is acted on once it is back. Stop the work then, and throw BullMQ's
 * `UnrecoverableError` so that the job is not retried.
 *
 * For a job that BullMQ removes as it ends (`removeOnComplete` or `removeOnFail`, the job's or the worker's),
 * it also keeps what the bridge reads of the job (name, data, timestamp, attempts) beside the queue until
 * the bridge saw it end, so that a job that ends before the bridge read it, or while the bridge was down,
 * still reaches its user.
 *
 * @example
 * const worker = new Worker('renders', async (job, token, signal) => { … }, { connection });
 * const cancels = listenForCancels(worker);
 * process.once('SIGTERM', async () => { await cancels.close(); await worker.close(); });
 */
export function listenForCancels(worker: Worker): CancelListener {
  let closed = false;
  // A job BullMQ removes as it ends can be gone before the bridge reads it (a job that fails at once, a
  // bridge that is behind or down): a copy of what the bridge needs is kept first. Sent as the job becomes
  // active, on the connection that later finishes it, so it is there before the job can be removed.
  let main: RawRedis | null = null;
  const keep = (job: Job) => {
    if (closed || !main || !job.id || !removedAtEnd(job, worker)) return;
    const copy: KeptJob = {
      name: job.name,
      data: job.data,
      timestamp: job.timestamp,
      ...(job.opts.attempts === undefined ? {} : { attempts: job.opts.attempts }),
    };
    main.set(keptJobKey(worker, job.id), JSON.stringify(copy), 'PX', KEPT_JOB_TTL_MS).catch(() => {
      // Redis away: the bridge still reads the job itself while BullMQ keeps it
    });
  };
  const channel = cancelChannel(worker);
  const cancel = (jobId: string) => {
    if (!closed) worker.cancelJob(jobId, CANCELLED_BY_USER);
  };
  // Pub/sub keeps nothing: what was published while this worker was not subscribed is read from the
  // bridge's set of cancel requests, once the subscription is confirmed (the bridge adds to the set
  // before it publishes, so between the two nothing is missed).
  const catchUp = async () => {
    for (const jobId of (await main?.zrange(cancelledKey(worker), 0, -1)) ?? []) cancel(jobId);
  };
  const subscriber = (async () => {
    main = await rawRedis(worker);
    worker.on('active', keep);
    const client = main.duplicate();
    client.on('error', () => {
      // reconnects by itself, then catches up (below)
    });
    client.on('message', (from: string, jobId: string) => {
      if (from === channel) cancel(jobId);
    });
    await client.subscribe(channel);
    await catchUp();
    // Each later 'ready' is a reconnect: ioredis subscribes again by itself; the reply to this subscribe
    // says the subscription is back.
    client.on('ready', () => {
      if (closed) return;
      client
        .subscribe(channel)
        .then(catchUp)
        .catch(() => {
          // the connection went again: its next 'ready' catches up
        });
    });
    return client;
  })();
  return {
    ready: subscriber.then(() => undefined),
    async close() {
      closed = true;
      worker.off('active', keep);
      const client = await subscriber.catch(() => null);
      await client?.quit().catch(() => client.disconnect());
    },
  };
}

/** Whether BullMQ removes `job` when it ends: its own `removeOnComplete` / `removeOnFail`, else the worker's. */
function removedAtEnd(job: Job, worker: Worker): boolean {
  const removes = (setting: unknown) => setting !== undefined && setting !== false;
  return (
    removes(job.opts.removeOnComplete ?? worker.opts.removeOnComplete) ||
    removes(job.opts.removeOnFail ?? worker.opts.removeOnFail)
  );
}
