import type { TokenOption } from '../auth/token.js';
import { createHttp } from '../http/http.js';
import type { JobMap } from '../store/jobs.js';
import {
  type ConnectionStatus,
  type SyncMessage,
  startConnection,
  type Transport,
} from '../transport/connection.js';
import type { DismissJobRequest, Job, JobListResponse, JobProgressDelta } from '../wire.js';

export interface FakeStream {
  push(text: string): void;
  end(): void;
  headers: Headers;
  /** Aborted when the client gives the stream up. */
  signal: AbortSignal;
}

/** A request the fake API answers, as its handlers see it. */
export interface FakeRequest {
  url: URL;
  headers: Headers;
  signal: AbortSignal | undefined;
}

/**
 * A fake job API: answers polls (`GET /jobs?…`) from `poll`, `GET /jobs/:id` from `job`,
 * `POST /jobs/:id/:action` from `action` (with the JSON body, if any), and hands each stream request to
 * `onStream`.
 */
export function fakeServer(handlers: {
  onStream(stream: FakeStream): Response | undefined;
  poll?: (request: FakeRequest) => Response | Promise<Response>;
  job?: (id: string, request: FakeRequest) => Response | Promise<Response>;
  action?: (id: string, action: string, body: unknown, request: FakeRequest) => Response | Promise<Response>;
}) {
  const requests: { path: string; headers: Headers; at: number }[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    requests.push({ path: url.pathname + url.search, headers, at: performance.now() });
    const request: FakeRequest = { url, headers, signal: init?.signal ?? undefined };
    if (url.pathname.endsWith('/jobs/stream')) {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          controller = c;
        },
      });
      const gone = new AbortController();
      init?.signal?.addEventListener('abort', () => {
        gone.abort();
        try {
          controller.error(new DOMException('aborted', 'AbortError'));
        } catch {}
      });
      const stream: FakeStream = {
        push: (text) => controller.enqueue(new TextEncoder().encode(text)),
        signal: gone.signal,
        // A stream the client already aborted stays errored: ending it later is a no-op.
        end: () => {
          try {
            controller.close();
          } catch {}
        },
        headers,
      };
      return (
        handlers.onStream(stream) ?? new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
      );
    }
    const action = /\/jobs\/([^/?]+)\/(\w+)$/.exec(url.pathname);
    if (action && handlers.action) {
      const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
      return handlers.action(decodeURIComponent(action[1] as string), action[2] as string, body, request);
    }
    const job = /\/jobs\/([^/?]+)$/.exec(url.pathname);
    if (job && handlers.job) return handlers.job(decodeURIComponent(job[1] as string), request);
    if (!job && !action && handlers.poll) return handlers.poll(request);
    return new Response('{}', { status: 404 });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

export function run(
  fetch: typeof globalThis.fetch,
  transport: Transport,
  {
    token,
    ...extra
  }: {
    watchdogMs?: number;
    firstEventMs?: number;
    sseRetryMs?: number;
    sseRetryFirstMs?: number;
    pollActiveMs?: number;
    pollIdleMs?: number;
    holdRetryMs?: number;
    busy?: () => boolean;
    hidden?: () => boolean;
    token?: TokenOption;
  } = {},
) {
  const delivered: SyncMessage[] = [];
  const statuses: ConnectionStatus[] = [];
  let cursor: string | null = null;
  /** The jobs the client would hold: merged by version, replaced by a snapshot. */
  let jobs: Record<string, Job> = {};
  const { stop, wake } = startConnection({
    http: createHttp({ baseUrl: 'http://jobs.test/api', fetch, token }),
    transport,
    cursor: () => cursor,
    job: (id) => jobs[id],
    deliver: (message) => {
      delivered.push(message);
      if (message.cursor !== undefined) cursor = message.cursor;
      if (message.kind === 'snapshot') jobs = {};
      for (const job of message.jobs) {
        if ((jobs[job.id]?.version ?? 0) < job.version || message.kind === 'snapshot') jobs[job.id] = job;
      }
    },
    status: (status) => statuses.push(status),
    busy: () => true,
    hidden: () => false,
    offline: () => false,
    pollActiveMs: 20,
    random: () => 0.01,
    ...extra,
  });
  return {
    delivered,
    statuses,
    stop,
    wake,
    state: () => statuses.at(-1)?.state,
    jobs: (): JobMap => jobs,
    cursor: () => cursor,
  };
}

export const snapshot = (cursor: string) =>
  `id: ${cursor}\nevent: snapshot\ndata: {"jobs":[],"cursor":"${cursor}"}\n\n` +
  `id: ${cursor}\nevent: ready\ndata: {"cursor":"${cursor}"}\n\n`;
export const pollAnswer = () => Response.json({ jobs: [], cursor: '7' }, { headers: { ETag: '"7-x"' } });
export const isPoll = (request: { path: string }) => request.path.startsWith('/api/jobs?since=');
export const isStream = (request: { path: string }) => request.path.endsWith('/jobs/stream');
export const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] as number));
/** Timers may fire a hair before the period as `performance.now()` measures it. */
export const SLACK_MS = 3;

/** A whole job at `version`, as the API sends it. */
export function wireJob(id: string, fields: Partial<Job> = {}): Job {
  return {
    id,
    type: 'report',
    scope: null,
    title: null,
    status: 'running',
    progress: null,
    message: null,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 3,
    retryOf: null,
    version: 1,
    createdAt: '2030-01-01T00:00:00.000Z',
    startedAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    completedAt: null,
    dismissedAt: null,
    ...fields,
  };
}

/** SSE frames as the API writes them. */
export const jobFrame = (job: Job, cursor: number | string) =>
  `id: ${cursor}\nevent: job\ndata: ${JSON.stringify(job)}\n\n`;
export const progressFrame = (delta: JobProgressDelta, cursor: number | string) =>
  `id: ${cursor}\nevent: progress\ndata: ${JSON.stringify(delta)}\n\n`;
export const readyFrame = (cursor: number | string) =>
  `id: ${cursor}\nevent: ready\ndata: {"cursor":"${cursor}"}\n\n`;

interface LogEntry {
  cursor: number;
  job: Job;
  /** True when this change was a progress report. */
  progress: boolean;
}

/**
 * A fake job API with state, as the real one behaves: a change log under rising cursors; streams get a
 * snapshot (or the replay after `Last-Event-ID`, whole jobs) then `ready`, then live `job` events and
 * `progress` deltas; a `since` poll answers whole jobs, and one coalesced delta (with `from`) per job whose
 * only changes since were progress reports; with `wait` it is held until a change or the wait runs out
 * (then 304 to a matching `If-None-Match`); `GET /jobs/:id` answers `{ job }`; `POST /jobs/:id/dismiss`
 * sets or clears `dismissedAt` (a `job` event when it changes, the job unchanged when it was so already).
 */
export function fakeJobApi() {
  let cursor = 100;
  const log: LogEntry[] = [];
  const jobs = new Map<string, Job>();
  const streams = new Set<FakeStream>();
  const changed = new Set<() => void>();
  const etag = () => `"${cursor}-t"`;
  function publish(job: Job, progress: boolean) {
    cursor++;
    log.push({ cursor, job, progress });
    jobs.set(job.id, job);
    for (const stream of streams) {
      const { id, version, progress: value, message, updatedAt } = job;
      stream.push(
        progress
          ? progressFrame({ id, version, progress: value, message, updatedAt }, cursor)
          : jobFrame(job, cursor),
      );
    }
    for (const wake of [...changed]) wake();
    return job;
  }
  function changesSince(since: number): JobListResponse {
    const after = log.filter((entry) => entry.cursor > since);
    const whole: Job[] = [];
    const progress: JobProgressDelta[] = [];
    for (const id of new Set(after.map((entry) => entry.job.id))) {
      const mine = after.filter((entry) => entry.job.id === id);
      const last = (mine.at(-1) as LogEntry).job;
      const before = log.filter((entry) => entry.job.id === id && entry.cursor <= since).at(-1);
      if (before && mine.every((entry) => entry.progress)) {
        const { version, progress: value, message, updatedAt } = last;
        progress.push({ id, from: before.job.version, version, progress: value, message, updatedAt });
      } else whole.push(last);
    }
    return { jobs: whole, ...(progress.length ? { progress } : {}), cursor: String(cursor) };
  }
  const stats = { polls: 0, held: 0, jobFetches: 0 };
  /** Answers the next actions instead of acting, one each (`refuseNext`). */
  const refusals: (() => Response | Promise<Response>)[] = [];
  const notFound = () =>
    Response.json({ error: { code: 'not_found', message: 'No such job.' } }, { status: 404 });
  const api = fakeServer({
    onStream(stream) {
      const from = stream.headers.get('last-event-id');
      if (from) {
        for (const entry of log)
          if (entry.cursor > Number(from)) stream.push(jobFrame(entry.job, entry.cursor));
      } else {
        const snapshot = { jobs: [...jobs.values()], cursor: String(cursor) };
        stream.push(`id: ${cursor}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      }
      stream.push(readyFrame(cursor));
      streams.add(stream);
      stream.signal.addEventListener('abort', () => streams.delete(stream));
      return undefined;
    },
    async poll({ url, headers, signal }) {
      stats.polls++;
      const since = Number(url.searchParams.get('since') ?? 0);
      const wait = Number(url.searchParams.get('wait') ?? 0);
      if (wait > 0 && cursor <= since) {
        stats.held++;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            changed.delete(done);
            resolve();
          };
          const timer = setTimeout(done, wait);
          changed.add(done);
          signal?.addEventListener('abort', done);
        });
        if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      }
      if (headers.get('if-none-match') === etag())
        return new Response(null, { status: 304, headers: { ETag: etag() } });
      return Response.json(changesSince(since), { headers: { ETag: etag() } });
    },
    job(id) {
      stats.jobFetches++;
      const job = jobs.get(id);
      return job ? Response.json({ job }) : notFound();
    },
    action(id, action, body) {
      const refusal = refusals.shift();
      if (refusal) return refusal();
      const job = jobs.get(id);
      if (!job || action !== 'dismiss') return notFound();
      const dismissed = (body as DismissJobRequest | undefined)?.dismissed ?? true;
      if ((job.dismissedAt !== null) === dismissed) return Response.json({ job });
      const at = new Date(Date.parse(job.updatedAt) + 1000).toISOString();
      const next = { ...job, version: job.version + 1, updatedAt: at, dismissedAt: dismissed ? at : null };
      return Response.json({ job: publish(next, false) });
    },
  });
  return {
    ...api,
    stats,
    get cursor() {
      return String(cursor);
    },
    job: (id: string) => jobs.get(id),
    /** A whole-job change (created, started, finished…). */
    put: (job: Job) => publish(job, false),
    /** A progress report: the job's next version, sent as a delta. */
    progress(id: string, progress: number, message: string | null = null) {
      const held = jobs.get(id) as Job;
      const at = new Date(Date.parse(held.updatedAt) + 1000).toISOString();
      return publish({ ...held, version: held.version + 1, progress, message, updatedAt: at }, true);
    },
    /** Changes a job without telling anyone (a change whose event the client never sees). */
    quietly(job: Job) {
      cursor++;
      log.push({ cursor, job, progress: false });
      jobs.set(job.id, job);
    },
    /** Answers the next action (e.g. a dismiss) with `answer` instead of acting on it. */
    refuseNext(answer: () => Response | Promise<Response>) {
      refusals.push(answer);
    },
    /** Ends every open stream (a restart, a proxy that cuts them). */
    endStreams() {
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}
