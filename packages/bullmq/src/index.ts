/**
 * `@jobtracker/bullmq`: a BullMQ queue shown in jobtracker. `trackQueue` mirrors the queue's jobs for
 * their users (progress, retries, completion, failure) from a bridge process; `listenForCancels` lets
 * the user's cancel reach the worker process that runs the job.
 *
 * @module
 */
export { CANCELLED_BY_USER, type CancelListener, listenForCancels } from './cancels/listen-for-cancels.js';
export { type ProgressReport, progressOf } from './progress/progress-of.js';
export {
  type BridgeMessages,
  type QueueTracker,
  type TrackQueueOptions,
  trackQueue,
} from './track-queue/track-queue.js';
