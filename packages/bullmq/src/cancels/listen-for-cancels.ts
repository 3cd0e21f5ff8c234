import type { Worker } from 'bullmq';
import { cancelChannel, cancelledKey, rawRedis } from '../keys.js';

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
 * down (a Redis restart, a network blip) is acted on once it is back. Stop the work then, and throw BullMQ's `UnrecoverableError`
 * so that the job is not retried.
 *
 * @example
 * const worker = new Worker('renders', async (job, token, signal) => { … }, { connection });
 * const cancels = listenForCancels(worker);
 * process.once('SIGTERM', async () => { await cancels.close(); await worker.close(); });
 */
export function listenForCancels(worker: Worker): CancelListener {
  let closed = false;
  const channel = cancelChannel(worker);
  const cancel = (jobId: string) => {
    if (!closed) worker.cancelJob(jobId, CANCELLED_BY_USER);
  };
  // Pub/sub keeps nothing: what was published while this worker was not subscribed is read from the
  // bridge's set of cancel requests, once the subscription is confirmed (the bridge adds to the set
  // before it publishes, so between the two nothing is missed).
  const catchUp = async () => {
    for (const jobId of await (await rawRedis(worker)).zrange(cancelledKey(worker), 0, -1)) cancel(jobId);
  };
  const subscriber = (async () => {
    const client = (await rawRedis(worker)).duplicate();
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
      const client = await subscriber.catch(() => null);
      await client?.quit().catch(() => client.disconnect());
    },
  };
}
