import type {
  CloseOptions,
  JsonValue,
  ReportedFailure,
  Reporter,
  ReporterOptions,
  TrackedJob,
} from '@jobtracker/sdk/worker';
import { createReporter, JobCancelledError } from '@jobtracker/sdk/worker';
import { Job, type Queue, QueueEvents, type QueueEventsOptions } from 'bullmq';
import {
  bridgeKey,
  CANCEL_REQUEST_TTL_MS,
  cancelChannel,
  cancelledKey,
  type KeptJob,
  keptJobKey,
  rawRedis,
} from '../keys.js';
import { progressOf } from '../progress/progress-of.js';

/** The strings the bridge shows a job's owner; replace them to translate. */
export interface BridgeMessages {
  /** The message of a job that failed an attempt and waits for the next one. Default "Retrying (attempt 2 of 3)". */
  retrying(attempt: number, attempts: number): string;
  /** The failure shown when the job was removed from the queue before it finished. */
  removed: string;
}

const DEFAULT_MESSAGES: BridgeMessages = {
  retrying: (attempt, attempts) => `Retrying (attempt ${attempt} of ${attempts})`,
  removed: 'The job was removed from the queue before it finished.',
};

// biome-ignore lint/suspicious/noExplicitAny: BullMQ's own default for job data
type AnyData = any;

/** Options of {@link trackQueue}. */
export interface TrackQueueOptions<Data = AnyData> extends Omit<ReporterOptions, 'baseUrl' | 'workerKey'> {
  /** The job API's base URL, e.g. `http://127.0.0.1:8787/api`. */
  baseUrl: string;
  /** The server's worker key (server to server only). */
  workerKey: string;
  /**
   * The user a BullMQ job belongs to (their tokens' `sub`), e.g. `(job) => job.data.userId`. A job for
   * which it answers `undefined`, `null` or `''` is not tracked.
   */
  owner: (job: Job<Data>) => string | null | undefined;
  /** The tracked job's `type`: a string or a function of the job. Default: the queue's name. */
  type?: string | ((job: Job<Data>) => string);
  /** The title the user sees. Default: the BullMQ job's name. */
  title?: (job: Job<Data>) => string | null | undefined;
  /** The tracked job's `scope`. Default none. */
  scope?: (job: Job<Data>) => string | null | undefined;
  /** Declared on every tracked job: shown as stalled when running without an update for this long. */
  staleAfterMs?: number;
  /**
   * The job's result as the user gets it (JSON, at most 16 KiB) from what the processor returned.
   * Default: the return value itself.
   */
  result?: (returnValue: unknown, jobId: string) => JsonValue | null;
  /**
   * What the user sees of a final failure, from BullMQ's `failedReason`. Default: a generic message (an
   * error's text may hold internal details); answer the reason itself, or a `JobError`, to show more.
   */
  failure?: (failedReason: string, jobId: string) => ReportedFailure;
  /** The strings the bridge shows. */
  messages?: Partial<BridgeMessages>;
  /** The Redis connection of the bridge's event reader. Default: the queue's own connection options. */
  connection?: QueueEventsOptions['connection'];
}

/** A running bridge; see {@link trackQueue}. */
export interface QueueTracker {
  /**
   * Resolves once the bridge caught up: the queue's waiting, delayed and active jobs are tracked and the
   * events it missed since it last ran (from its stored stream position) are replayed.
   */
  readonly ready: Promise<void>;
  /**
   * Stops reading events and sends what is still pending (the reporter's `close`: progress, then the
   * completions and failures under way, for at most `timeoutMs`, default 30,000). Events read but not
   * handled by then are not lost: the stored stream position is before them, so the next start replays
   * them. Rejects as the reporter's `close` does when the time ran out.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** What the bridge remembers of a tracked BullMQ job, in Redis, until the job finished in the tracker. */
interface Remembered {
  owner: string;
  type: string;
  title: string | null;
  scope: string | null;
  externalId: string;
  /** BullMQ's `opts.attempts`, as the tracked job's `maxAttempts` (1–20). */
  maxAttempts?: number;
}

interface Mirror {
  tracked: TrackedJob;
  /** The highest progress sent in this attempt: progress never goes down within an attempt. */
  high: number;
  /** The tracked job's attempt as the bridge made it: counted when it starts one, before the API answers. */
  attempt: number;
  /** Whether that attempt runs (started), or the job waits for its next (or first) one. */
  running: boolean;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const WAITING_STATES = ['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'] as const;
const MAX_EXTERNAL_ID = 200;
/** The most `maxAttempts` the API takes at a create; a host that runs more raises it as it goes. */
const MAX_ATTEMPTS = 20;

/**
 * Mirrors a BullMQ queue's jobs into jobtracker: each job whose `owner` is known becomes a tracked job of
 * that user (pending while it waits, running once a worker takes it, with the progress the processor
 * gives `job.updateProgress(n)` or `job.updateProgress({ percent, message })`, then completed or failed).
 * A retry stays the same tracked job: between attempts it waits ("Retrying (attempt 2 of 3)"), and each
 * attempt BullMQ runs is the tracked job's next `attempt`, its progress and `startedAt` anew (its
 * `maxAttempts` is the BullMQ job's `opts.attempts`); only the final failure fails it.
 *
 * It reads BullMQ's own event stream (`QueueEvents`) and reports through the SDK's reporter
 * (`createReporter`), with the queue name, job id and creation time as `externalId`: a bridge that
 * restarts, or runs twice, never makes a duplicate. Its position in the event stream and the jobs it
 * tracks are kept in Redis beside the queue, so a restarted bridge replays what it missed.
 *
 * The user's cancel reaches BullMQ: a job still waiting is removed from the queue, an active one is
 * cancelled in the worker process that runs it, through {@link listenForCancels} (its processor's
 * `AbortSignal` fires).
 *
 * @example
 * const queue = new Queue('renders', { connection });
 * const tracker = trackQueue(queue, {
 *   baseUrl: 'http://127.0.0.1:8787/api',
 *   workerKey: process.env.JOBTRACKER_WORKER_KEY!,
 *   owner: (job) => job.data.userId,
 *   title: (job) => `Render ${job.data.file}`,
 * });
 * await tracker.ready;
 * process.once('SIGTERM', () => void tracker.close());
 */
export function trackQueue<Data = AnyData>(
  queue: Queue<Data>,
  options: TrackQueueOptions<Data>,
): QueueTracker {
  const {
    owner,
    type,
    title,
    scope,
    staleAfterMs,
    result,
    failure,
    messages: messageOverrides,
    connection,
    ...reporterOptions
  } = options;
  const messages = { ...DEFAULT_MESSAGES, ...messageOverrides };
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // a failing onError must not stop the bridge
    }
  };
  const reporter: Reporter = createReporter(reporterOptions);
  const jobsKey = bridgeKey(queue, 'jobs');
  const cursorKey = bridgeKey(queue, 'cursor');
  const channel = cancelChannel(queue);
  const cancelRequestsKey = cancelledKey(queue);
  const mirrors = new Map<string, Mirror>();
  /** Jobs whose owner cancelled them: their retries are removed, their activations cancelled again. */
  const cancelled = new Set<string>();
  let closed = false;
  let events: QueueEvents | null = null;

  // Everything that touches a job runs in this one chain, in the order the events came.
  let chain: Promise<unknown> = Promise.resolve();
  const serially = (task: () => Promise<void>): Promise<void> => {
    const next = chain.then(task).catch((error: unknown) => {
      if (!closed) report(error);
    });
    chain = next;
    return next;
  };

  const redis = () => rawRedis(queue);

  function remember(job: Job<Data>): Remembered | null {
    const who = owner(job);
    if (!who || !job.id) return null;
    let externalId = `${queue.name}:${job.id}:${job.timestamp}`;
    if (externalId.length > MAX_EXTERNAL_ID) externalId = externalId.slice(-MAX_EXTERNAL_ID);
    return {
      owner: who,
      type: typeof type === 'function' ? type(job) : (type ?? queue.name),
      title: (title ? title(job) : job.name) || null,
      scope: scope?.(job) || null,
      externalId,
      maxAttempts: Math.min(MAX_ATTEMPTS, Math.max(1, Math.floor(job.opts.attempts ?? 1))),
    };
  }

  /** The copy a worker kept of a job BullMQ removed as it ended ({@link listenForCancels}), as a job. */
  async function keptJob(jobId: string): Promise<Job<Data> | undefined> {
    const stored = await (await redis()).get(keptJobKey(queue, jobId));
    if (!stored) return undefined;
    const kept = JSON.parse(stored) as KeptJob;
    const opts = kept.attempts === undefined ? {} : { attempts: kept.attempts };
    const job = new Job<Data>(queue, kept.name, kept.data as Data, opts, jobId);
    job.timestamp = kept.timestamp;
    return job;
  }

  async function forget(jobId: string) {
    mirrors.delete(jobId);
    await (await redis()).hdel(jobsKey, jobId);
  }

  /** The tracked job of a BullMQ job, created (idempotently) when the bridge does not hold it yet. */
  async function mirrorOf(jobId: string, known?: Job<Data>): Promise<Mirror | null> {
    const held = mirrors.get(jobId);
    if (held) return held;
    const client = await redis();
    const stored = await client.hget(jobsKey, jobId);
    let remembered: Remembered | null = stored ? (JSON.parse(stored) as Remembered) : null;
    if (!remembered) {
      const job =
        known ?? ((await Job.fromId(queue, jobId)) as Job<Data> | undefined) ?? (await keptJob(jobId));
      if (!job) return null;
      remembered = remember(job);
      if (!remembered) return null;
      await client.hset(jobsKey, jobId, JSON.stringify(remembered));
    }
    const tracked = await reporter.track({
      owner: remembered.owner,
      type: remembered.type,
      title: remembered.title,
      scope: remembered.scope,
      externalId: remembered.externalId,
      ...(remembered.maxAttempts === undefined ? {} : { maxAttempts: remembered.maxAttempts }),
      dedupe: false,
      ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
    });
    const raced = mirrors.get(jobId);
    if (raced) return raced;
    if (TERMINAL.has(tracked.job.status)) {
      if (tracked.job.status === 'cancelled') {
        cancelled.add(jobId);
        void cancelUntilDone(jobId);
      }
      await forget(jobId);
      return null;
    }
    const mirror: Mirror = {
      tracked,
      high: tracked.job.progress ?? 0,
      attempt: tracked.job.attempt,
      running: tracked.job.status === 'running',
    };
    mirrors.set(jobId, mirror);
    const onAbort = () => {
      if (tracked.signal.reason instanceof JobCancelledError) {
        cancelled.add(jobId);
        void serially(() => forget(jobId));
        void cancelUntilDone(jobId);
      } else if (!closed) mirrors.delete(jobId);
    };
    if (tracked.signal.aborted) onAbort();
    else tracked.signal.addEventListener('abort', onAbort, { once: true });
    return mirror;
  }

  /** {@link cancelInQueue}, tried again (1 s, 2 s, … at most 30 s apart) while Redis fails, until the bridge closes. */
  async function cancelUntilDone(jobId: string) {
    for (let tries = 0; !closed; tries++) {
      try {
        return await cancelInQueue(jobId);
      } catch (error) {
        report(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** tries)));
      }
    }
  }

  /** The user cancelled the job: a waiting job leaves the queue, an active one is cancelled where it runs. */
  async function cancelInQueue(jobId: string) {
    const job = await Job.fromId(queue, jobId);
    if (!job) return;
    const state = await job.getState();
    if ((WAITING_STATES as readonly string[]).includes(state)) {
      try {
        await job.remove();
        return;
      } catch {
        // taken by a worker meanwhile (locked): cancel it where it runs
      }
    }
    if (state !== 'completed' && state !== 'failed') {
      const client = await redis();
      // Kept first, then published: a worker that was not subscribed reads it when it is back.
      const now = Date.now();
      await client.zadd(cancelRequestsKey, now, jobId);
      await client.zremrangebyscore(cancelRequestsKey, '-inf', now - CANCEL_REQUEST_TTL_MS);
      await client.publish(channel, jobId);
    }
  }

  /**
   * A job that ended needs no kept copy and, cancelled, no cancel request any more. Sent beside the event
   * chain, which the next event need not wait for.
   */
  function ended(jobId: string) {
    void redis()
      .then((client) =>
        Promise.all([
          client.del(keptJobKey(queue, jobId)),
          cancelled.has(jobId) ? client.zrem(cancelRequestsKey, jobId) : null,
        ]),
      )
      .catch((error: unknown) => {
        if (!closed) report(error);
      });
  }

  function progress(mirror: Mirror, report: { progress?: number; message?: string }) {
    let percent = report.progress;
    if (percent !== undefined && percent < mirror.high) percent = undefined;
    if (percent !== undefined) mirror.high = percent;
    if (percent === undefined && report.message === undefined) return;
    void mirror.tracked.progress(percent, report.message);
  }

  /**
   * When the tracked job's running attempt is one BullMQ counts as made (it failed and BullMQ runs the
   * job again), ends it: the same tracked job waits for its next attempt, "Retrying (attempt 2 of 3)".
   * Asked at every sign of a retry (waiting after failed, delayed, active, the start's scan), and acts once.
   */
  async function retrying(mirror: Mirror, jobId: string, known?: Job<Data>) {
    const job = known ?? ((await Job.fromId(queue, jobId)) as Job<Data> | undefined);
    if (!job || !mirror.running || mirror.attempt > job.attemptsMade) return;
    const attempts = Math.max(job.opts.attempts ?? 1, job.attemptsMade + 1);
    mirror.running = false;
    mirror.high = 0;
    try {
      await mirror.tracked.retrying(messages.retrying(job.attemptsMade + 1, attempts));
    } catch (error) {
      if (!mirror.tracked.signal.aborted) report(error);
    }
  }

  /** The BullMQ job runs (again): the tracked job's next attempt starts, its progress from nothing. */
  async function started(mirror: Mirror, jobId: string, known?: Job<Data>) {
    // Active while an attempt runs: the failure of that attempt was missed (a bridge down meanwhile).
    if (mirror.running) await retrying(mirror, jobId, known);
    if (mirror.running) return false;
    mirror.running = true;
    mirror.attempt += 1;
    mirror.high = 0;
    return true;
  }

  async function finish(jobId: string, write: (tracked: TrackedJob) => Promise<unknown>) {
    const mirror = await mirrorOf(jobId);
    if (!mirror) return;
    try {
      await write(mirror.tracked);
    } catch (error) {
      // Cancelled, or finished by another bridge: nothing left to report.
      if (!mirror.tracked.signal.aborted) report(error);
    }
    await forget(jobId);
  }

  const complete = (jobId: string, value: unknown) =>
    finish(jobId, (tracked) =>
      tracked.complete(result ? result(value, jobId) : ((value ?? null) as JsonValue | null)),
    );
  const fail = (jobId: string, reason: string) =>
    finish(jobId, (tracked) => tracked.fail(failure ? failure(reason, jobId) : new Error(reason)));
  /** Fails a job that left the queue unfinished, with the bridge's own message, shown as it is. */
  const removed = (jobId: string) => finish(jobId, (tracked) => tracked.fail(messages.removed));

  // ---- events ----

  /** The event stream position last handled, stored at most every 100 ms. */
  let position: string | null = null;
  let storing: ReturnType<typeof setTimeout> | null = null;
  const storePosition = () => {
    storing = null;
    const at = position;
    if (at)
      void redis()
        .then((client) => client.set(cursorKey, at))
        .catch(report);
  };
  const handled = (id: string) => {
    // Once closing, a handler may have given up (the reporter closed): the next start replays from here.
    if (closed) return;
    position = id;
    storing ??= setTimeout(storePosition, 100);
  };

  function listen(reader: QueueEvents) {
    const on = (_id: string, task: () => Promise<void>) => void serially(task);
    // After the handlers of each event (of any name, handled or not), its stream id is the position.
    const emit = reader.emit.bind(reader) as (event: string, ...args: unknown[]) => boolean;
    (reader as { emit: typeof emit }).emit = (event, ...args) => {
      const answer = emit(event, ...args);
      const id = args.at(-1);
      if (typeof id === 'string' && /^\d+-\d+$/.test(id)) void serially(async () => handled(id));
      return answer;
    };
    reader.on('waiting', ({ jobId, prev }, id) =>
      on(id, async () => {
        if (cancelled.has(jobId)) return cancelInQueue(jobId);
        const mirror = await mirrorOf(jobId);
        if (mirror && prev === 'failed') await retrying(mirror, jobId);
      }),
    );
    reader.on('delayed', ({ jobId }, id) =>
      on(id, async () => {
        if (cancelled.has(jobId)) return cancelInQueue(jobId);
        const mirror = await mirrorOf(jobId);
        if (mirror) await retrying(mirror, jobId);
      }),
    );
    reader.on('active', ({ jobId }, id) =>
      on(id, async () => {
        if (cancelled.has(jobId)) return cancelInQueue(jobId);
        const mirror = await mirrorOf(jobId);
        // The first write starts a pending tracked job, or its next attempt.
        if (mirror && (await started(mirror, jobId))) void mirror.tracked.progress(undefined);
      }),
    );
    reader.on('progress', ({ jobId, data }, id) =>
      on(id, async () => {
        const mirror = await mirrorOf(jobId);
        if (mirror) progress(mirror, progressOf(data));
      }),
    );
    reader.on('completed', ({ jobId, returnvalue }, id) =>
      on(id, async () => {
        await complete(jobId, returnvalue);
        ended(jobId);
      }),
    );
    reader.on('failed', ({ jobId, failedReason }, id) =>
      on(id, async () => {
        await fail(jobId, failedReason);
        ended(jobId);
      }),
    );
    reader.on('removed', ({ jobId }, id) =>
      on(id, async () => {
        if (!cancelled.has(jobId)) {
          const mirror =
            mirrors.get(jobId) ??
            ((await (await redis()).hexists(jobsKey, jobId)) ? await mirrorOf(jobId) : null);
          if (mirror) await removed(jobId);
        }
        ended(jobId);
      }),
    );
    reader.on('error', (error) => {
      if (!closed) report(error);
    });
  }

  // ---- start: catch up, then follow ----

  async function start() {
    const client = await redis();
    const eventsKey = queue.keys.events as string;
    const stored = await client.get(cursorKey);
    // The last event before the scan: following from it misses nothing that happens during the scan.
    const last = (await client.xrevrange(eventsKey, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    const from = stored ?? last;
    const reader = new QueueEvents(queue.name, {
      connection: connection ?? (queue.opts.connection as QueueEventsOptions['connection']),
      prefix: queue.opts.prefix,
      lastEventId: from,
      autorun: false,
    });
    events = reader;
    listen(reader);

    // The jobs queued or running now, and those the bridge tracked and may have missed the end of.
    const waiting = (await queue.getJobs([...WAITING_STATES])) as Job<Data>[];
    const active = (await queue.getJobs(['active'])) as Job<Data>[];
    for (const job of waiting) {
      if (job?.id) {
        const jobId = job.id;
        void serially(async () => {
          const mirror = await mirrorOf(jobId, job);
          if (mirror && job.attemptsMade > 0) await retrying(mirror, jobId, job);
        });
      }
    }
    for (const job of active) {
      if (job?.id) {
        const jobId = job.id;
        void serially(async () => {
          const mirror = await mirrorOf(jobId, job);
          if (!mirror) return;
          const now = progressOf(job.progress);
          const starting = await started(mirror, jobId, job);
          if (starting && now.progress === undefined && !now.message) void mirror.tracked.progress(undefined);
          else progress(mirror, now);
        });
      }
    }
    const tracked = Object.keys(await client.hgetall(jobsKey));
    for (const jobId of tracked) {
      void serially(async () => {
        const job = await Job.fromId(queue, jobId);
        if (!job) {
          // Gone from Redis: if the replay below does not finish it, it was removed.
          return;
        }
        const state = await job.getState();
        if (state === 'completed') await complete(jobId, job.returnvalue);
        else if (state === 'failed') await fail(jobId, job.failedReason);
      });
    }
    await serially(async () => {});
    void reader.run().catch((error: unknown) => {
      if (!closed) report(error);
    });
    await reader.waitUntilReady();
    // The replay of what was missed: caught up once the events up to `last` are handled.
    const deadline = Date.now() + 30_000;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (closed || !stored || compareIds(position ?? from, last) >= 0 || Date.now() > deadline) {
          return resolve();
        }
        setTimeout(check, 20);
      };
      check();
    });
    await serially(async () => {
      for (const jobId of Object.keys(await client.hgetall(jobsKey))) {
        if (!(await Job.fromId(queue, jobId))) await removed(jobId);
      }
    });
  }

  const ready = start();
  ready.catch(report);

  return {
    ready,
    async close(options) {
      if (closed) return;
      closed = true;
      await events?.close();
      // The reporter's close bounds the wait: a create retried through an outage gives up at its timeout.
      const reporterClosed = reporter.close(options);
      await chain;
      if (storing) clearTimeout(storing);
      storePosition();
      await reporterClosed;
    },
  };
}

/** Orders two Redis stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
