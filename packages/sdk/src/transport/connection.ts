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
  pollActiveMs?: number;
  pollIdleMs?: number;
  /** No bytes for this long (heartbeats come every 15 s) and the stream is taken for dead. */
  watchdogMs?: number;
  /** A stream that opens but delivers nothing this long is broken (a buffering proxy): 3 s with `auto`, else 10 s. */
  firstEventMs?: number;
  /** The longest wait between tries of SSE while polling instead of it (5 min). */
  sseRetryMs?: number;
  /** The first wait before SSE is tried again after falling back to polling (5 s); it doubles after each failed try. */
  sseRetryFirstMs?: number;
  random?: () => number;
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
 * Runs the client's link to the server until stopped: SSE (resuming from the cursor), or polling with
 * `since` and `If-None-Match`, falling back from one to the other as `transport` allows. Owns its own
 * reconnect loop; never throws.
 */
export function startConnection(options: ConnectionOptions): Connection {
  const random = options.random ?? Math.random;
  const auto = options.transport === 'auto';
  const activeMs = options.pollActiveMs ?? 2000;
  const idleMs = options.pollIdleMs ?? 15_000;
  let stopped = false;
  let controller: AbortController | null = null;
  let wakeUp: (() => void) | null = null;
  let lastContactAt: number | null = null;
  let etag: string | null = null;
  let mode: 'sse' | 'poll' = options.transport === 'poll' ? 'poll' : 'sse';
  let sseAgainAt = 0;
  /** Stream attempts that failed in a row while polls answered: paces the next attempt. */
  let sseMisses = 0;
  let failures = 0;

  const report = (state: ConnectionState, error?: ConnectionStatus['error']) =>
    options.status(error ? { state, lastContactAt, error } : { state, lastContactAt });
  const contact = () => {
    lastContactAt = Date.now();
  };
  const fail = (error: unknown) =>
    report(
      options.offline() ? 'offline' : 'error',
      error instanceof JobTrackerHttpError
        ? { status: error.status, code: error.code, message: error.message }
        : { code: 'network', message: 'The job server cannot be reached.' },
    );

  /** Sleeps for `ms`, or until woken (focus, network back) or stopped; true when the time ran out. */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(done, stopped ? 0 : ms, true);
      function done(timedOut?: boolean) {
        clearTimeout(timer);
        wakeUp = null;
        resolve(!!timedOut && !stopped);
      }
      wakeUp = done;
    });

  /** One SSE connection, until it ends; true when it held: delivered `ready` and stayed open for seconds. */
  async function stream(): Promise<boolean> {
    controller = new AbortController();
    const { signal } = controller;
    const openedAt = Date.now();
    let ready = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller?.abort(), ms);
    };
    try {
      const cursor = options.cursor();
      arm(options.firstEventMs ?? (auto ? 3000 : 10_000));
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
          ready = true;
          failures = 0;
          report('live');
        }
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Any bytes prove the stream is not held back by a buffering proxy.
        contact();
        feed(value);
        arm(options.watchdogMs ?? 45_000);
      }
    } catch (error) {
      // With `auto`, a poll tells next whether the server or only the stream is out of reach.
      if (!auto && !signal.aborted) fail(error);
    } finally {
      clearTimeout(watchdog);
      controller?.abort();
      controller = null;
    }
    return ready && Date.now() - openedAt >= HOLD_MS;
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
      if (!stopped) fail(error);
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
        const held = await stream();
        if (stopped) break;
        if (held) {
          sseMisses = 0;
          report('connecting');
          await sleep(backoff(1, random));
          continue;
        }
        failures++;
        // A poll that answers while the stream fails means only the stream is blocked (a proxy that resets,
        // cuts or buffers it): poll, and try the stream again later. Else the server is away: back off.
        if (!auto || !(await poll())) {
          await sleep(backoff(failures, random));
          continue;
        }
        mode = 'poll';
        sseAgainAt =
          Date.now() +
          Math.min(options.sseRetryMs ?? 300_000, (options.sseRetryFirstMs ?? 5000) * 2 ** sseMisses++);
      } else if (options.hidden()) {
        await sleep(60_000);
        continue;
      } else if (auto && Date.now() >= sseAgainAt) {
        mode = 'sse';
        continue;
      } else if (!(await poll())) {
        await sleep(Math.max(backoff(++failures, random), 1000));
        continue;
      }
      // An idle wait ends early when a job starts meanwhile (its progress should show at once) or when
      // the stream is due to be tried again.
      for (let waited = 0; waited < idleMs; waited += activeMs) {
        if (
          !(await sleep(Math.min(activeMs, idleMs - waited))) ||
          options.busy() ||
          (auto && Date.now() >= sseAgainAt)
        )
          break;
      }
    }
  })();

  return {
    wake: () => wakeUp?.(),
    stop() {
      stopped = true;
      controller?.abort();
      wakeUp?.();
    },
  };
}
