import type { Worker } from 'bullmq';
import { cancelChannel, rawRedis } from '../keys.js';

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
 * the processor must declare that parameter). Stop the work then, and throw BullMQ's `UnrecoverableError`
 * so that the job is not retried.
 *
 * @example
 * const worker = new Worker('renders', async (job, token, signal) => { … }, { connection });
 * const cancels = listenForCancels(worker);
 * process.once('SIGTERM', async () => { await cancels.close(); await worker.close(); });
 */
export function listenForCancels(worker: Worker): CancelListener {
  let closed = false;
  const subscriber = (async () => {
    const client = (await rawRedis(worker)).duplicate();
    client.on('error', () => {
      // reconnects by itself; a cancel published meanwhile is published again when the job is next active
    });
    const channel = cancelChannel(worker);
    client.on('message', (from: string, jobId: string) => {
      if (from === channel && !closed) worker.cancelJob(jobId, CANCELLED_BY_USER);
    });
    await client.subscribe(channel);
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
