import { JobTrackerHttpError } from '../errors/errors.js';
import { type JobListResponse, MAX_POLL_WAIT_MS } from '../wire.js';
import { backoff, type PollLink } from './connection.js';

/** A held poll not answered this long after its wait is given up (a half-open link). */
const HELD_POLL_GRACE_MS = 10_000;

/** The polling half of a connection. */
export type Poller = ReturnType<typeof createPoller>;

/**
 * Long polls with `since` and `wait`, for a connection whose stream is blocked or that only polls: the
 * server holds a poll until something changes (up to `pollIdleMs`, at most 30 s). Loaded the first time
 * a connection polls. A held poll that fails while a short one answers (a proxy or host that cuts or
 * times out held requests) leaves polls short for `holdRetryMs` (60 s).
 */
export function createPoller(link: PollLink) {
  const { options } = link;
  const { http, cursor, busy, pollActiveMs: activeMs = 3000, pollIdleMs: idleMs = 25_000 } = options;
  let etag: string | null | undefined;
  /** When the last poll was sent, and whether it answered: only then may the next be held. */
  let polledAt = 0;
  let polled = false;
  /** Polls are not held before this: a held poll failed while a short one answered. */
  let holdAgainAt = 0;
  /** The last poll was held and brought nothing: the server held it its whole wait, or does not hold polls. */
  let heldQuiet = false;

  /**
   * One poll, held by the server up to `wait` ms until something changes; true when it answered (or a
   * wake ended it). A failed held poll reports nothing: a short poll tells next whether the server is away.
   */
  async function poll(wait = 0): Promise<boolean> {
    const controller = new AbortController();
    const sentAt = Date.now();
    link.controller = controller;
    polledAt = sentAt;
    if (wait) link.arm(wait + HELD_POLL_GRACE_MS);
    try {
      const since = cursor() ?? '0';
      link.resync = false;
      const response = await http.send(
        `/jobs?since=${encodeURIComponent(since)}${wait ? `&wait=${wait}` : ''}`,
        { headers: etag ? { 'If-None-Match': etag } : {}, signal: controller.signal },
      );
      let changed: unknown;
      if (response.status !== 304) {
        if (!response.ok) throw await JobTrackerHttpError.from(response);
        const body = (await response.json()) as JobListResponse;
        changed = body.reset || body.jobs.length || body.progress?.length;
        // After changes, more are likely: an ETag would only cost bytes. After a quiet answer, a 304 may follow.
        etag = changed ? null : response.headers.get('etag');
        link.take(
          { kind: body.reset ? 'snapshot' : 'jobs', jobs: body.jobs, cursor: body.cursor },
          body.progress,
        );
      }
      heldQuiet = !(changed || !wait);
      link.contact();
      link.failures = 0;
      polled = true;
      link.report('polling');
      return true;
    } catch (error) {
      if (link.wokeAt >= sentAt) return true;
      polled = false;
      // Stopping aborts it too; a held poll's failure is for the short poll after it to tell.
      if (!wait && !controller.signal.aborted) link.fail(error);
      return false;
    } finally {
      link.arm();
      link.controller = undefined;
    }
  }

  /**
   * Waits before the next poll (or until `sseAgainAt`): no sooner than `pollActiveMs` after the last one was sent while jobs are
   * active (it takes the changes of that time together) or while the next poll will be held; else (short
   * polls, or a server that answered a held poll at once with nothing) `pollIdleMs`. A held poll that
   * waited its whole time is followed at once. An idle wait ends early when a job starts meanwhile, when
   * the stream is due to be tried again, or when woken.
   */
  async function pace(sseAgainAt: number) {
    for (let left: number; link.wokeAt < polledAt; ) {
      left =
        polledAt +
        (busy() || (polled && !heldQuiet && Date.now() >= holdAgainAt) ? activeMs : idleMs) -
        Date.now();
      if (
        left <= 0 ||
        Date.now() >= sseAgainAt ||
        !(await link.sleep(Math.min(left, activeMs, sseAgainAt - Date.now())))
      )
        break;
    }
  }

  return {
    poll,
    pace,
    /** One turn of polling (paused while hidden); false when the stream is due to be tried again (`sseAgainAt`). */
    async turn(sseAgainAt: number): Promise<boolean> {
      if (options.hidden()) await link.sleep(60_000);
      else if (Date.now() >= sseAgainAt) return false;
      else {
        // Held no longer than until a blocked stream is due to be tried again.
        const wait =
          polled && Date.now() >= holdAgainAt
            ? Math.min(idleMs, MAX_POLL_WAIT_MS, sseAgainAt - Date.now())
            : 0;
        if (await poll(wait)) await pace(sseAgainAt);
        // A failed held poll is followed at once by a short one: if that answers, something on the way
        // cuts held requests, and polls stay short for a while.
        else if (wait) holdAgainAt = Date.now() + (options.holdRetryMs ?? 60_000);
        else await link.sleep(Math.max(backoff(++link.failures, options.random), 1000));
      }
      return true;
    },
  };
}
