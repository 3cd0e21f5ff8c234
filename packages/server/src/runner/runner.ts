import type { Job, JsonValue } from '@jobtracker/sdk';
import type { JobEngine } from '../engine/engine.js';
import { ApiError } from '../http/errors.js';

/** What a handler gets besides the job: its input, an abort signal, and a way to report progress. */
export interface JobContext {
  input: JsonValue | null;
  attempt: number;
  /** Aborted when the job is cancelled or its lease is lost; stop work when it fires. */
  signal: AbortSignal;
  /** Reports progress (0..100, or null while indeterminate) and a message. Rejects once `signal` is aborted. */
  progress(progress: number | null | undefined, message?: string): Promise<void>;
}

/** Runs one job; what it returns (JSON) becomes the job's `result`. Throw a `JobFailure` to fail with a message for the user. */
export type JobHandler = (job: Job, context: JobContext) => Promise<JsonValue | undefined | undefined>;

export interface HandleOptions {
  /** Jobs of this type run at most this many at a time in this process. Default 4. */
  concurrency?: number;
}

/** A failure whose message is meant for the job's owner. Other errors are logged and shown generically. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  readonly code: string | undefined;
  readonly retryable: boolean | undefined;
  constructor(message: string, options: { code?: string; retryable?: boolean } = {}) {
    super(message);
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

const GONE = new Set(['lease_lost', 'job_cancelled', 'not_found']);

export interface RunnerOptions {
  /** Identifies this process's claims. */
  workerId?: string;
  leaseMs?: number;
  /** How often to look for pending jobs besides being told of new ones. */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

interface Registration {
  handler: JobHandler;
  concurrency: number;
  running: number;
}

/** Runs jobs in this process, claiming them through the engine exactly as an HTTP worker would. */
export interface JobRunner {
  handle(type: string, handler: JobHandler, options?: HandleOptions): void;
  start(): void;
  /** Stops claiming, aborts running handlers and gives their jobs back (pending, the attempt not spent). */
  stop(): Promise<void>;
  readonly running: number;
}

export function createRunner(engine: JobEngine, options: RunnerOptions = {}): JobRunner {
  const workerId = options.workerId ?? `inproc:${process.pid}`;
  const leaseMs = options.leaseMs ?? 15_000;
  const onError = options.onError ?? ((error: unknown) => console.error('[jobtracker runner]', error));
  const handlers = new Map<string, Registration>();
  const inFlight = new Map<
    string,
    { controller: AbortController; done: Promise<void>; leaseToken: string }
  >();
  let started = false;
  let pumping = false;
  let pumpAgain = false;
  let poll: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;

  async function pump() {
    if (!started) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        for (const [type, registration] of handlers) {
          while (started && registration.running < registration.concurrency) {
            const claim = await engine.claim({ types: [type], workerId, leaseMs });
            if (!claim) break;
            run(registration, claim.job, claim.input, claim.leaseToken);
          }
        }
      } while (pumpAgain && started);
    } catch (error) {
      onError(error);
    } finally {
      pumping = false;
    }
  }

  function run(registration: Registration, job: Job, input: JsonValue | null, leaseToken: string) {
    const controller = new AbortController();
    const { signal } = controller;
    registration.running++;
    // Only a lost lease, a cancel or a vanished job ends the handler; other refusals are the handler's to see.
    const gone = (error: unknown) => error instanceof ApiError && GONE.has(error.code);
    const stopIfGone = (error: unknown) => {
      if (gone(error)) controller.abort(error);
      else onError(error);
    };
    const heartbeat = setInterval(
      () => engine.heartbeat(job.id, leaseToken, leaseMs).catch(stopIfGone),
      Math.max(250, leaseMs / 3),
    );
    heartbeat.unref();
    const context: JobContext = {
      input,
      attempt: job.attempt,
      signal,
      async progress(progress, message) {
        signal.throwIfAborted();
        try {
          await engine.progress(job.id, leaseToken, { progress, message, leaseMs });
        } catch (error) {
          if (gone(error)) controller.abort(error);
          signal.throwIfAborted();
          throw error;
        }
        // Stopped or cancelled while reporting: this is the handler's next chance to notice.
        signal.throwIfAborted();
      },
    };
    const done = (async () => {
      try {
        const result = await registration.handler(job, context);
        if (!signal.aborted) await engine.complete(job.id, leaseToken, (result ?? null) as JsonValue | null);
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof JobFailure)) onError(error);
        const failure =
          error instanceof JobFailure
            ? { message: error.message, code: error.code, retryable: error.retryable }
            : { message: 'The job failed unexpectedly.', code: 'internal_error', retryable: true };
        await engine.fail(job.id, leaseToken, failure).catch(stopIfGone);
      }
    })()
      .catch(stopIfGone)
      .finally(() => {
        clearInterval(heartbeat);
        inFlight.delete(job.id);
        registration.running--;
        void pump();
      });
    inFlight.set(job.id, { controller, done, leaseToken });
  }

  return {
    handle(type, handler, handleOptions = {}) {
      handlers.set(type, { handler, concurrency: handleOptions.concurrency ?? 4, running: 0 });
      void pump();
    },
    start() {
      if (started) return;
      started = true;
      unsubscribe = engine.onChange((job) => {
        const own = inFlight.get(job.id);
        if (own && job.status !== 'running') own.controller.abort(new Error(`The job is ${job.status}.`));
        if (job.status === 'pending' && handlers.has(job.type)) void pump();
      });
      poll = setInterval(() => void pump(), options.pollMs ?? 1000);
      poll.unref();
      void pump();
    },
    async stop() {
      started = false;
      unsubscribe?.();
      if (poll) clearInterval(poll);
      const running = [...inFlight.entries()];
      for (const [, { controller }] of running) controller.abort(new Error('The server is stopping.'));
      await Promise.all(running.map(([, { done }]) => done));
      // Give the jobs back at once: the next start (or another worker) runs them without waiting for a lease.
      await Promise.all(
        running.map(([id, { leaseToken }]) => engine.release(id, leaseToken).catch(() => {})),
      );
    },
    get running() {
      return inFlight.size;
    },
  };
}
