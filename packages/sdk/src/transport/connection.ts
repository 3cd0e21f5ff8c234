import { JobTrackerHttpError } from '../errors/errors.js';
import type { Http } from '../http/http.js';
import { createSseParser } from '../sse/parse.js';
import type { Job, JobListResponse, StreamSnapshot } from '../wire.js';

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

/** What a connection delivers: a snapshot to take whole, or jobs to merge; each with the cursor it brings. */
export type SyncMessage =
  | { kind: 'snapshot'; jobs: Job[]; cursor: string }
  | { kind: 'jobs'; jobs: Job[]; cursor: string };

export interface ConnectionOptions {
  http: Http;
  transport: Transport;
  cursor(): string | null;
  deliver(message: SyncMessage): void;
  status(status: ConnectionStatus): void;
  /** True while jobs are active: polling runs faster then. */
  busy(): boolean;
  /** True while nobody is looking: polling pauses. */
  hidden(): boolean;
  offline(): boolean;
  /** Calls `wake` when the page is shown or focused, or the network returns. Returns an unsubscribe. */
  onWake(wake: () => void): () => void;
  pollActiveMs?: number;
  pollIdleMs?: number;
  /** No bytes for this long (heartbeats come every 15 s) and the stream is taken for dead. */
  watchdogMs?: number;
  /** A stream that opens but delivers nothing this long is behind a buffering proxy: poll instead. */
  firstEventMs?: number;
  /** After falling back to polling, try SSE again this much later. */
  sseRetryMs?: number;
  random?: () => number;
}

const SSE_FAILURES_BEFORE_POLLING = 3;

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
 * Runs the client's link to the server until stopped: SSE (resuming from the cursor), or polling with
 * `since` and `If-None-Match`, falling back from one to the other as `transport` allows. Owns its own
 * reconnect loop; never throws.
 */
export function startConnection(options: ConnectionOptions): () => void {
  const random = options.random ?? Math.random;
  const watchdogMs = options.watchdogMs ?? 45_000;
  const firstEventMs = options.firstEventMs ?? 10_000;
  let stopped = false;
  let controller: AbortController | null = null;
  let wakeUp: (() => void) | null = null;
  let lastContactAt: number | null = null;
  let etag: string | null = null;
  let mode: 'sse' | 'poll' = options.transport === 'poll' ? 'poll' : 'sse';
  let sseAgainAt = 0;
  let failures = 0;

  const report = (state: ConnectionState, error?: ConnectionStatus['error']) =>
    options.status(error ? { state, lastContactAt, error } : { state, lastContactAt });
  const contact = () => {
    lastContactAt = Date.now();
  };
  const failure = (error: unknown): ConnectionStatus['error'] =>
    error instanceof JobTrackerHttpError
      ? { status: error.status, code: error.code, message: error.message }
      : { code: 'network', message: 'The job server cannot be reached.' };

  /** Sleeps for `ms`, or until woken (focus, network back) or stopped. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });
  const unsubscribeWake = options.onWake(() => wakeUp?.());

  /**
   * One SSE connection, until it ends: `delivered` anything, stayed `silent` (a buffering proxy), was
   * `refused` with an HTTP error, or found the server `unreachable`.
   */
  async function stream(): Promise<'delivered' | 'silent' | 'refused' | 'unreachable'> {
    controller = new AbortController();
    const { signal } = controller;
    let delivered = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller?.abort(), ms);
    };
    try {
      const cursor = options.cursor();
      arm(firstEventMs);
      const response = await options.http.send('/jobs/stream', {
        headers: cursor
          ? { Accept: 'text/event-stream', 'Last-Event-ID': cursor }
          : { Accept: 'text/event-stream' },
        signal,
      });
      if (!response.ok || !response.body) throw await JobTrackerHttpError.from(response);
      contact();
      const feed = createSseParser(({ event, data, id }) => {
        if (event === 'job') {
          options.deliver({
            kind: 'jobs',
            jobs: [JSON.parse(data) as Job],
            cursor: id ?? options.cursor() ?? '',
          });
        } else if (event === 'snapshot' || event === 'reset') {
          const snapshot = JSON.parse(data) as StreamSnapshot;
          options.deliver({ kind: 'snapshot', jobs: snapshot.jobs, cursor: snapshot.cursor });
        } else if (event === 'ready') {
          const { cursor } = JSON.parse(data) as { cursor: string };
          options.deliver({ kind: 'jobs', jobs: [], cursor });
          failures = 0;
          report('live');
        }
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Any bytes prove the stream is not held back by a buffering proxy.
        delivered = true;
        contact();
        feed(value);
        arm(watchdogMs);
      }
      return delivered ? 'delivered' : 'silent';
    } catch (error) {
      if (stopped || (signal.aborted && delivered)) return 'delivered';
      if (signal.aborted) return 'silent';
      report(options.offline() ? 'offline' : 'error', failure(error));
      return error instanceof JobTrackerHttpError ? 'refused' : 'unreachable';
    } finally {
      clearTimeout(watchdog);
      controller?.abort();
      controller = null;
    }
  }

  async function poll(): Promise<boolean> {
    controller = new AbortController();
    try {
      const cursor = options.cursor() ?? '0';
      const response = await options.http.send(`/jobs?since=${encodeURIComponent(cursor)}`, {
        headers: etag ? { 'If-None-Match': etag } : {},
        signal: controller.signal,
      });
      if (response.status !== 304) {
        if (!response.ok) throw await JobTrackerHttpError.from(response);
        const body = (await response.json()) as JobListResponse;
        etag = response.headers.get('etag');
        options.deliver({ kind: body.reset ? 'snapshot' : 'jobs', jobs: body.jobs, cursor: body.cursor });
      }
      contact();
      failures = 0;
      report('polling');
      return true;
    } catch (error) {
      if (!stopped) report(options.offline() ? 'offline' : 'error', failure(error));
      return false;
    } finally {
      controller = null;
    }
  }

  (async () => {
    report('connecting');
    while (!stopped) {
      if (options.offline()) {
        report('offline', { code: 'offline', message: 'The network is offline.' });
        await sleep(30_000);
        continue;
      }
      if (mode === 'sse') {
        const outcome = await stream();
        if (stopped) break;
        if (outcome === 'delivered') {
          report('connecting');
          await sleep(backoff(1, random));
          continue;
        }
        failures++;
        // Only a stream that fails while the server answers calls for polling: an unreachable server
        // fails both ways, and the stream comes back first.
        const refusedOften = outcome === 'refused' && failures >= SSE_FAILURES_BEFORE_POLLING;
        if (options.transport === 'auto' && (outcome === 'silent' || refusedOften)) {
          mode = 'poll';
          sseAgainAt = Date.now() + (options.sseRetryMs ?? 5 * 60_000);
          continue;
        }
        await sleep(backoff(failures, random));
        continue;
      }
      if (options.hidden()) {
        await sleep(60_000);
        continue;
      }
      const ok = await poll();
      if (stopped) break;
      if (options.transport === 'auto' && ok && Date.now() >= sseAgainAt) {
        mode = 'sse';
        continue;
      }
      if (!ok) failures++;
      const interval = options.busy() ? (options.pollActiveMs ?? 2000) : (options.pollIdleMs ?? 15_000);
      await sleep(ok ? interval : Math.max(backoff(failures, random), 1000));
    }
  })();

  return () => {
    stopped = true;
    unsubscribeWake();
    controller?.abort();
    wakeUp?.();
  };
}
