import { JobTrackerHttpError } from '../errors/errors.js';
import type { Http } from '../http/http.js';
import { createSseParser } from '../sse/parse.js';
import type { JobUpdate } from '../store/job-stores.js';
import {
  type Job,
  type JobListResponse,
  type JobProgressDelta,
  MAX_POLL_WAIT_MS,
  type StreamSnapshot,
} from '../wire.js';

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

/** A held poll not answered this long after its wait is given up (a half-open link). */
const HELD_POLL_GRACE_MS = 10_000;

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
 * `since` and `wait`, falling back from one to the other as `transport` allows. Owns its own reconnect
 * loop; never throws.
 *
 * Progress deltas (SSE `progress` events, a poll's `progress` list) are applied only on top of the
 * version they name, and ignored on a version held or passed. One on any other version (a job not held,
 * or a change missed) is never applied: the client starts over from a snapshot. The delivered cursor is
 * dropped at once, so whoever resumes from it (another tab, the next page) starts over too.
 */
export function startConnection(options: ConnectionOptions): Connection {
  const {
    http,
    cursor,
    job,
    deliver,
    status,
    busy,
    hidden,
    offline,
    random = Math.random,
    pollActiveMs: activeMs = 3000,
    pollIdleMs: idleMs = 25_000,
  } = options;
  const auto = options.transport === 'auto';
  let stopped = false;
  let controller: AbortController | undefined;
  let wakeUp: ((timedOut?: boolean) => void) | undefined;
  let lastContactAt: number | null = null;
  let etag: string | null | undefined;
  let mode = options.transport === 'poll' ? 'poll' : 'sse';
  let sseAgainAt = 0;
  /** Stream attempts that failed in a row while polls answered: paces the next attempt. */
  let sseMisses = 0;
  let failures = 0;
  /** When the last poll was sent, and whether it answered: only then may the next be held. */
  let polledAt = 0;
  let polled = false;
  /** Polls are not held before this: a held poll failed while a short one answered. */
  let holdAgainAt = 0;
  /** The last poll was held and brought nothing: the server held it its whole wait, or does not hold polls. */
  let heldQuiet = false;
  let wokeAt = -1;
  /** A delta did not apply: the client starts over from a snapshot (a stream that ends for it did not fail). */
  let resync = false;

  const report = (state: ConnectionState, error?: ConnectionStatus['error']) =>
    status({ state, lastContactAt, error });
  const contact = () => {
    lastContactAt = Date.now();
  };
  const fail = (error: unknown) =>
    report(
      offline() ? 'offline' : 'error',
      error instanceof JobTrackerHttpError
        ? { status: error.status, code: error.code, message: error.message }
        : { code: 'network', message: 'The job server cannot be reached.' },
    );

  /** Aborts the request in flight unless re-armed or cleared within `ms`: a stream's watchdog, a held poll's limit. */
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller?.abort(), ms);
  };

  /** Sleeps for `ms`, or until woken (focus, network back) or stopped; true when the time ran out. */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(done, stopped ? 0 : ms, true);
      wakeUp = done;
      function done(timedOut?: boolean) {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve(!!timedOut && !stopped);
      }
    });

  /** Delivers what the server sent, deltas applied where they may be, and fetches the jobs they could not bring up to date. */
  function take(update: SyncMessage, deltas: JobProgressDelta[] = []) {
    // While resyncing, only the snapshot that ends it is taken.
    if (stopped || (resync && update.kind !== 'snapshot')) return;
    resync = false;
    const jobs = update.jobs as Job[];
    for (const { from, ...delta } of deltas) {
      const held = job(delta.id);
      if (held?.version === (from ?? delta.version - 1)) jobs.push({ ...held, ...delta });
      else resync ||= !(held && held.version >= delta.version);
    }
    // A delta on a version not held is never applied: the cursor is dropped (whoever resumes from it
    // starts from a snapshot too) and the stream reconnects, or the next poll asks for everything.
    deliver(resync ? { ...update, cursor: null } : update);
    if (resync) controller?.abort();
  }

  /** One SSE connection, until it ends; true when it held: delivered `ready` and stayed open for seconds. */
  async function stream(): Promise<boolean> {
    controller = new AbortController();
    const { signal } = controller;
    const openedAt = Date.now();
    let ready = false;
    try {
      const from = cursor();
      arm(options.firstEventMs ?? (auto ? 3000 : 10_000));
      const response = await http.send('/jobs/stream', {
        headers: { Accept: 'text/event-stream', ...(from && { 'Last-Event-ID': from }) },
        signal,
      });
      if (!response.ok || !response.body) throw await JobTrackerHttpError.from(response);
      contact();
      const feed = createSseParser(({ event, data, id }) => {
        if (event === 'job') take({ kind: 'jobs', jobs: [JSON.parse(data)], cursor: id });
        else if (event === 'progress') take({ kind: 'jobs', jobs: [], cursor: id }, [JSON.parse(data)]);
        else if (event === 'ready') {
          take({ kind: 'jobs', jobs: [], cursor: JSON.parse(data).cursor });
          ready = true;
          failures = 0;
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
        arm(options.watchdogMs ?? 45_000);
      }
    } catch (error) {
      // With `auto`, a poll tells next whether the server or only the stream is out of reach.
      if (!auto && !signal.aborted) fail(error);
    } finally {
      clearTimeout(timer);
      controller?.abort();
      controller = undefined;
    }
    return ready && (resync || Date.now() - openedAt >= HOLD_MS);
  }

  /**
   * One poll, held by the server up to `wait` ms until something changes; true when it answered (or a
   * wake ended it). A failed held poll reports nothing: a short poll tells next whether the server is away.
   */
  async function poll(wait = 0): Promise<boolean> {
    const own = new AbortController();
    const sentAt = Date.now();
    controller = own;
    polledAt = sentAt;
    if (wait) arm(wait + HELD_POLL_GRACE_MS);
    try {
      const since = cursor() ?? '0';
      resync = false;
      const response = await http.send(
        `/jobs?since=${encodeURIComponent(since)}${wait ? `&wait=${wait}` : ''}`,
        { headers: etag ? { 'If-None-Match': etag } : {}, signal: own.signal },
      );
      let changed: unknown;
      if (response.status !== 304) {
        if (!response.ok) throw await JobTrackerHttpError.from(response);
        const body = (await response.json()) as JobListResponse;
        changed = body.reset || body.jobs.length || body.progress?.length;
        // After changes, more are likely: an ETag would only cost bytes. After a quiet answer, a 304 may follow.
        etag = changed ? null : response.headers.get('etag');
        take({ kind: body.reset ? 'snapshot' : 'jobs', jobs: body.jobs, cursor: body.cursor }, body.progress);
      }
      heldQuiet = !(changed || !wait);
      contact();
      failures = 0;
      polled = true;
      report('polling');
      return true;
    } catch (error) {
      if (wokeAt >= sentAt) return true;
      polled = false;
      if (!stopped && !wait) fail(error);
      return false;
    } finally {
      clearTimeout(timer);
      controller = undefined;
    }
  }

  (async () => {
    report('connecting');
    while (!stopped) {
      if (offline()) {
        report('offline', { code: 'offline', message: 'The network is offline.' });
        await sleep(30_000);
        continue;
      }
      if (mode > 'poll') {
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
      } else if (hidden()) {
        await sleep(60_000);
        continue;
      } else if (auto && Date.now() >= sseAgainAt) {
        mode = 'sse';
        continue;
      } else {
        const wait = polled && Date.now() >= holdAgainAt ? Math.min(idleMs, MAX_POLL_WAIT_MS) : 0;
        if (!(await poll(wait))) {
          // A failed held poll is followed at once by a short one: if that answers, something on the way
          // cuts held requests, and polls stay short for a while.
          if (wait) holdAgainAt = Date.now() + (options.holdRetryMs ?? 60_000);
          else await sleep(Math.max(backoff(++failures, random), 1000));
          continue;
        }
      }
      // The next poll goes no sooner than `pollActiveMs` after this one was sent while jobs are active (it
      // takes the changes of that time together) or while the next poll will be held; else (short polls, or
      // a server that answered a held poll at once with nothing) `pollIdleMs`. A held poll that waited its
      // whole time is followed at once. An idle wait ends early when a job starts meanwhile, when the
      // stream is due to be tried again, or when woken.
      for (let left: number; wokeAt < polledAt; ) {
        left =
          polledAt +
          (busy() || (polled && !heldQuiet && Date.now() >= holdAgainAt) ? activeMs : idleMs) -
          Date.now();
        if (left <= 0 || (auto && Date.now() >= sseAgainAt) || !(await sleep(Math.min(left, activeMs))))
          break;
      }
    }
  })();

  return {
    wake() {
      wokeAt = Date.now();
      wakeUp?.();
      // A poll in flight may have been answered before the change: it is asked again at once.
      if (mode === 'poll') controller?.abort();
    },
    stop() {
      stopped = true;
      controller?.abort();
      wakeUp?.();
    },
  };
}
