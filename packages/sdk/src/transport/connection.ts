import { JobTrackerHttpError } from '../errors/errors.js';
import type { Http } from '../http/http.js';
import { createSseParser } from '../sse/parse.js';
import type { JobUpdate } from '../store/job-stores.js';
import type { Job, JobProgressDelta, StreamSnapshot } from '../wire.js';
import { createPoller, type Poller } from './long-poll.js';

/** How the client stays in step: server-sent events, polling, or SSE with polling as the fallback. */
export type Transport = 'auto' | 'sse' | 'poll';

export type ConnectionState = 'connecting' | 'live' | 'polling' | 'offline' | 'error';

/** The health of the client's link to the server. Errors of the connection live here, never in a rejection. */
export interface ConnectionStatus {
  state: ConnectionState;
  /** Epoch ms of the last answer from the server, or null before the first. */
  lastContactAt: number | null;
  /** Why the last attempt failed, while state is `error` or `offline`. */
  error?: { status?: number; code: string; message: string };
}

/**
 * What a connection delivers: a snapshot to take whole, or whole jobs to merge by version (progress deltas
 * are already applied), each with the cursor to resume from.
 */
export type SyncMessage = JobUpdate;

export interface ConnectionOptions {
  http: Http;
  transport: Transport;
  cursor(): string | null;
  /** The job held now: a progress delta applies only on top of the version it names. */
  job(id: string): Job | undefined;
  deliver(message: SyncMessage): void;
  status(status: ConnectionStatus): void;
  /** True while jobs are active: polls come every `pollActiveMs` then. */
  busy(): boolean;
  /** True while nobody is looking: polling pauses. */
  hidden(): boolean;
  offline(): boolean;
  /** The least time between two polls while jobs are active (3 s). */
  pollActiveMs?: number;
  /** How long the server may hold a poll until something changes (at most 30 s), and the least time between two polls while no job is active (25 s). */
  pollIdleMs?: number;
  /** How long polls go unheld after a held poll failed while a short one answered (a proxy that cuts them): 60 s. */
  holdRetryMs?: number;
  /** No bytes for this long and the stream is taken for dead: 60 s (a silent stream gets a heartbeat at least every 37.5 s, 1.5 × `STREAM_HEARTBEAT_MS`). */
  watchdogMs?: number;
  /** A stream that opens but delivers nothing this long is broken (a buffering proxy): 3 s with `auto`, else 10 s. */
  firstEventMs?: number;
  /** The longest wait between tries of SSE while polling instead of it (5 min). */
  sseRetryMs?: number;
  /** The first wait before SSE is tried again after falling back to polling (5 s); it doubles after each failed try. */
  sseRetryFirstMs?: number;
  random?: () => number;
}

/**
 * What a connection shares with its poller (`long-poll.ts`): its options,
 * the request in flight, and the state both halves read and write.
 */
export interface PollLink {
  options: ConnectionOptions;
  controller?: AbortController;
  failures: number;
  /** When `wake` was last called: a poll in flight then is asked again at once. */
  wokeAt: number;
  /** A delta did not apply: the client starts over from a snapshot (a stream that ends for it did not fail). */
  resync: boolean;
  /** Delivers what the server sent, with the deltas applied where they may be. */
  take(update: SyncMessage, deltas?: JobProgressDelta[]): void;
  report(state: ConnectionState, error?: ConnectionStatus['error']): void;
  fail(error: unknown): void;
  contact(): void;
  /** Aborts the request in flight unless re-armed or disarmed (no `ms`) within `ms`. */
  arm(ms?: number): void;
  sleep(ms: number): Promise<boolean>;
}

/** A running connection. */
export interface Connection {
  /** Checks the server now instead of waiting (the page was shown or focused, the network came back). */
  wake(): void;
  stop(): void;
}

/** A stream that ends sooner after its request was sent failed, even if it delivered (a proxy that cuts it). */
const HOLD_MS = 3000;

/** Failures of a short outage (a deploy, a restart: about 30 s at these delays), which stay under `SHORT_OUTAGE_MAX_MS`. */
const SHORT_OUTAGE_FAILURES = 24;
const SHORT_OUTAGE_MAX_MS = 2500;

/**
 * Exponential backoff with full jitter. Through a short outage the delays stay under 2.5 s, so every
 * client is back within seconds of a server that restarts (with a plain 30 s cap, 1 of 200 clients was
 * still away 15 s after a restart); a longer outage backs off to `maxMs`.
 */
export const backoff = (
  failures: number,
  random: () => number = Math.random,
  baseMs = 500,
  maxMs = 30_000,
) => {
  const cap = failures <= SHORT_OUTAGE_FAILURES ? Math.min(maxMs, SHORT_OUTAGE_MAX_MS) : maxMs;
  return Math.round(Math.min(cap, baseMs * 2 ** Math.max(0, failures - 1)) * random());
};

/**
 * Runs the client's link to the server until stopped: SSE (resuming from the cursor), or long polls with
 * `since` and `wait` (`long-poll.ts`, loaded when first needed: the stream is blocked, or `transport` is
 * `poll`), falling back from one to the other as `transport` allows. Owns its own reconnect loop; never
 * throws.
 *
 * Progress deltas (SSE `progress` events, a poll's `progress` list) are applied only on top of the
 * version they name, and ignored on a version held or passed. One on any other version (a job not held,
 * or a change missed) is never applied: the client starts over from a snapshot. The delivered cursor is
 * dropped at once, so whoever resumes from it (another tab, the next page) starts over too.
 */
export function startConnection(options: ConnectionOptions): Connection {
  const { http, cursor, job, deliver, status, offline, random = Math.random } = options;
  let mode = options.transport === 'poll' ? 'poll' : 'sse';
  let wakeUp: ((timedOut?: boolean) => void) | undefined;
  let lastContactAt: number | null = null;
  /** Stream attempts that failed in a row while polls answered: paces the next attempt. */
  let sseMisses = 0;
  /** Aborts the request in flight: a stream's watchdog, a held poll's limit. */
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poller: Poller | undefined;
  const auto = options.transport === 'auto';
  let stopped = false;
  /** While polling instead of a blocked stream: when to try the stream again. */
  let sseAgainAt = Infinity;
  const link: PollLink = {
    options,
    failures: 0,
    wokeAt: -1,
    resync: false,
    take(update, deltas = []) {
      // While resyncing, only the snapshot that ends it is taken.
      if (stopped || (link.resync && update.kind !== 'snapshot')) return;
      link.resync = false;
      const jobs = update.jobs as Job[];
      for (const { from, ...delta } of deltas) {
        const held = job(delta.id);
        if (held?.version === (from ?? delta.version - 1)) jobs.push({ ...held, ...delta });
        else link.resync ||= !(held && held.version >= delta.version);
      }
      // A delta on a version not held is never applied: the cursor is dropped (whoever resumes from it
      // starts from a snapshot too) and the stream reconnects, or the next poll asks for everything.
      deliver(link.resync ? { ...update, cursor: null } : update);
      if (link.resync) link.controller?.abort();
    },
    report: (state, error) => status({ state, lastContactAt, error }),
    fail: (error) =>
      report(
        offline() ? 'offline' : 'error',
        error instanceof JobTrackerHttpError
          ? { status: error.status, code: error.code, message: error.message }
          : { code: 'network', message: 'The job server cannot be reached.' },
      ),
    contact() {
      lastContactAt = Date.now();
    },
    arm(ms) {
      clearTimeout(timer);
      if (ms) timer = setTimeout(() => link.controller?.abort(), ms);
    },
    /** Sleeps for `ms`, or until woken (focus, network back) or stopped; true when the time ran out. */
    sleep: (ms) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(done, stopped ? 0 : ms, true);
        wakeUp = done;
        function done(timedOut?: boolean) {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve(!!timedOut && !stopped);
        }
      }),
  };
  const { take, report, contact, arm, sleep } = link;
  // Loaded with the client, not on first use: polling is the fallback for a network that fails, when a
  // chunk may not load either (a dead server or a broken link made the first poll wait on an import that
  // never came back).
  const polls = () => (poller ??= createPoller(link));

  /** One SSE connection, until it ends; true when it held: delivered `ready` and stayed open for seconds. */
  async function stream(): Promise<boolean> {
    const controller = new AbortController();
    link.controller = controller;
    const openedAt = Date.now();
    let ready = false;
    try {
      const from = cursor();
      arm(options.firstEventMs ?? (auto ? 3000 : 10_000));
      const response = await http.send('/jobs/stream', {
        headers: { Accept: 'text/event-stream', ...(from && { 'Last-Event-ID': from }) },
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw await JobTrackerHttpError.from(response);
      contact();
      const feed = createSseParser(({ event, data, id }) => {
        if (event === 'job') take({ kind: 'jobs', jobs: [JSON.parse(data)], cursor: id });
        else if (event === 'progress') take({ kind: 'jobs', jobs: [], cursor: id }, [JSON.parse(data)]);
        else if (event === 'ready') {
          take({ kind: 'jobs', jobs: [], cursor: JSON.parse(data).cursor });
          ready = true;
          link.failures = 0;
          report('live');
        } else if (event === 'snapshot' || event === 'reset') {
          const snapshot = JSON.parse(data) as StreamSnapshot;
          take({ kind: 'snapshot', jobs: snapshot.jobs, cursor: snapshot.cursor });
        }
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Any bytes prove the stream is not held back by a buffering proxy.
        contact();
        feed(value);
        arm(options.watchdogMs ?? 60_000);
      }
    } catch (error) {
      // With `auto`, a poll tells next whether the server or only the stream is out of reach.
      if (!auto && !controller.signal.aborted) link.fail(error);
    } finally {
      arm();
      controller.abort();
      link.controller = undefined;
    }
    return ready && (link.resync || Date.now() - openedAt >= HOLD_MS);
  }

  (async () => {
    report('connecting');
    while (!stopped) {
      if (offline()) {
        report('offline', { code: 'offline', message: 'The network is offline.' });
        await sleep(30_000);
      } else if (mode === 'poll') {
        if (!(await polls().turn(sseAgainAt))) mode = 'sse';
      } else {
        const held = await stream();
        if (stopped) break;
        if (held) {
          sseMisses = 0;
          report('connecting');
          await sleep(backoff(1, random));
          continue;
        }
        link.failures++;
        // A poll that answers while the stream fails means only the stream is blocked (a proxy that resets,
        // cuts or buffers it): poll, and try the stream again later. Else the server is away: back off.
        const poller = auto && polls();
        if (!poller || !(await poller.poll())) {
          await sleep(backoff(link.failures, random));
          continue;
        }
        mode = 'poll';
        sseAgainAt =
          Date.now() +
          Math.min(options.sseRetryMs ?? 300_000, (options.sseRetryFirstMs ?? 5000) * 2 ** sseMisses++);
        await poller.pace(sseAgainAt);
      }
    }
  })();

  return {
    wake() {
      link.wokeAt = Date.now();
      wakeUp?.();
      // A poll in flight may have been answered before the change: it is asked again at once.
      if (mode === 'poll') link.controller?.abort();
    },
    stop() {
      stopped = true;
      link.controller?.abort();
      wakeUp?.();
    },
  };
}
