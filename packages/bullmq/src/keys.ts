import type { QueueBase } from 'bullmq';

/** The Redis key (or channel) of the bridge's own state for a queue, under the queue's prefix: `bull:<queue>:jobtracker:<name>`. */
export const bridgeKey = (queue: Pick<QueueBase, 'toKey'>, name: string) => queue.toKey(`jobtracker:${name}`);

/** The pub/sub channel on which the bridge asks the queue's workers to cancel an active job. */
export const cancelChannel = (queue: Pick<QueueBase, 'toKey'>) => bridgeKey(queue, 'cancel');

/**
 * The sorted set (scored by when) of the jobs the bridge asked the workers to cancel, until they end: what a
 * worker whose subscription was down when a cancel was published reads once it is back.
 */
export const cancelledKey = (queue: Pick<QueueBase, 'toKey'>) => bridgeKey(queue, 'cancelled');

/** How long a cancel request is kept for workers that were away when it was published. */
export const CANCEL_REQUEST_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The copy a worker keeps of a job BullMQ removes when it ends (`removeOnComplete`, `removeOnFail`), so that
 * the bridge can still tell its user of it after the job is gone; the bridge drops it when the job ends.
 */
export const keptJobKey = (queue: Pick<QueueBase, 'toKey'>, jobId: string) =>
  bridgeKey(queue, `job:${jobId}`);

/** How long a kept copy outlives a bridge that never came to read it. */
export const KEPT_JOB_TTL_MS = 24 * 60 * 60 * 1000;

/** What a kept copy holds: what the bridge's `owner`, `title`, `type` and `scope` read of a job. */
export interface KeptJob {
  name: string;
  data: unknown;
  timestamp: number;
  attempts?: number;
}

/** The few commands the bridge sends, as the ioredis client BullMQ connects with has them. */
export interface RawRedis {
  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, field: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hexists(key: string, field: string): Promise<number>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiry?: 'PX', ms?: number): Promise<unknown>;
  del(key: string): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  zadd(key: string, score: number, member: string): Promise<unknown>;
  zrem(key: string, member: string): Promise<number>;
  zrange(key: string, start: number, stop: number): Promise<string[]>;
  zremrangebyscore(key: string, min: string | number, max: string | number): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  xrevrange(
    key: string,
    end: string,
    start: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]][]>;
  duplicate(): RawRedis;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** The Redis client of a queue or worker, for the commands of {@link RawRedis}. */
export const rawRedis = async (owner: { client: Promise<unknown> }) => (await owner.client) as RawRedis;
