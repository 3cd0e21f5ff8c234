// A server child for the ingest and polling benchmarks, instrumented over IPC. Started by
// `startLoadServer()` (bench/lib/load-control.ts); its configuration comes in BENCH_LOAD_SERVER (JSON).
//
// - `tracker`: the real jobtracker server (`startServer` from @jobtracker/server) on a file SQLite
//   database, with the store's `transaction` wrapped to count transactions, row writes and their time.
// - `bare-304`: a bare node:http handler answering `If-None-Match` with the same 304 (same headers).
// - `bare-post`: a bare node:http handler that reads a JSON body and answers a fixed JSON body.
// - `hono-304`, `hono-post`: the same two answers from a one-route Hono app on @hono/node-server, the
//   framework and adapter the job API runs on, without any of the job API's own work.
// Every mode reports its CPU time, event loop utilisation and RSS; `profile` samples the main thread
// with the V8 profiler and sums the time by package (load-profile.ts; BENCH_PROFILE_DEBUG=1 also prints the hottest
// functions on stderr).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { type JobRecord, type RunningServer, startServer, verifyToken } from '@jobtracker/server';
import {
  listJobsQuery,
  Mutex,
  progressBatchBody,
  progressBody,
} from '@jobtracker/test-support/server-internals';
import { Hono } from 'hono';
import type {
  CommitStats,
  LoadServerConfig,
  LoadServerReply,
  LoadServerRequest,
  MicroResult,
  ServerStats,
} from './load-control.js';
import { profile } from './load-profile.js';

const config = JSON.parse(process.env.BENCH_LOAD_SERVER ?? '{}') as LoadServerConfig;

// ---- counters ------------------------------------------------------------------------------------

const counters = {
  transactions: 0,
  transactionMs: 0,
  updateMs: 0,
  appendMs: 0,
  rowWrites: 0,
  eventsAppended: 0,
  /** Per job: when its row was last written, and the shortest gap between two writes in this window. */
  lastWrite: new Map<string, number>(),
  minGapMs: Number.POSITIVE_INFINITY,
  jobsWritten: new Set<string>(),
};
let markCpu = process.cpuUsage();
let markElu: EventLoopUtilization = performance.eventLoopUtilization();
let markAt = performance.now();

function mark(): void {
  counters.transactions = 0;
  counters.transactionMs = 0;
  counters.updateMs = 0;
  counters.appendMs = 0;
  counters.rowWrites = 0;
  counters.eventsAppended = 0;
  counters.minGapMs = Number.POSITIVE_INFINITY;
  counters.jobsWritten.clear();
  counters.lastWrite.clear();
  markCpu = process.cpuUsage();
  markElu = performance.eventLoopUtilization();
  markAt = performance.now();
}

function stats(): ServerStats {
  const cpu = process.cpuUsage(markCpu);
  const elu = performance.eventLoopUtilization(markElu);
  return {
    windowMs: performance.now() - markAt,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    eventLoopUtilization: elu.utilization,
    rssBytes: process.memoryUsage().rss,
    transactions: counters.transactions,
    transactionMs: counters.transactionMs,
    updateMs: counters.updateMs,
    appendMs: counters.appendMs,
    rowWrites: counters.rowWrites,
    eventsAppended: counters.eventsAppended,
    jobsWritten: counters.jobsWritten.size,
    minGapMs: Number.isFinite(counters.minGapMs) ? counters.minGapMs : null,
  };
}

// ---- accepted → committed ----------------------------------------------------------------------

const commits = {
  /** Per job: the version and time of each acknowledged progress update not yet committed. */
  pending: new Map<string, { version: number; at: number }[]>(),
  latencyMs: new Map<number, number>(),
  committed: 0,
  maxLogRowsPerJobPerFlush: 0,
  transactions: 0,
};

function acknowledged(job: { id: string; version: number }): void {
  const waiting = commits.pending.get(job.id);
  const entry = { version: job.version, at: performance.now() };
  if (waiting) waiting.push(entry);
  else commits.pending.set(job.id, [entry]);
}

function committedAt(rows: readonly { id: string; version: number }[], at: number): void {
  commits.transactions++;
  for (const row of rows) {
    const waiting = commits.pending.get(row.id);
    if (!waiting) continue;
    let taken = 0;
    while (taken < waiting.length && (waiting[taken] as { version: number }).version <= row.version) {
      const ms = Math.floor(at - (waiting[taken] as { at: number }).at);
      commits.latencyMs.set(ms, (commits.latencyMs.get(ms) ?? 0) + 1);
      commits.committed++;
      taken++;
    }
    if (taken === waiting.length) commits.pending.delete(row.id);
    else waiting.splice(0, taken);
  }
}

function takeCommits(): CommitStats {
  let uncommitted = 0;
  for (const waiting of commits.pending.values()) uncommitted += waiting.length;
  const taken: CommitStats = {
    latencyMs: Object.fromEntries(commits.latencyMs),
    committed: commits.committed,
    uncommitted,
    maxLogRowsPerJobPerFlush: commits.maxLogRowsPerJobPerFlush,
    transactions: commits.transactions,
  };
  commits.latencyMs.clear();
  commits.committed = 0;
  commits.maxLogRowsPerJobPerFlush = 0;
  commits.transactions = 0;
  return taken;
}

// ---- micro measurements --------------------------------------------------------------------------

/** Runs `call` repeatedly for about `ms`, `concurrency` at a time; the mean wall time per call in µs. */
async function perCall(ms: number, concurrency: number, call: (i: number) => unknown): Promise<number> {
  return (await timed(ms, concurrency, call)).us;
}

async function timed(ms: number, concurrency: number, call: (i: number) => unknown) {
  let done = 0;
  const started = performance.now();
  const deadline = started + ms;
  const lane = async () => {
    while (performance.now() < deadline) await call(done++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { us: ((performance.now() - started) * 1000) / done, calls: done };
}

// ---- the servers ---------------------------------------------------------------------------------

let tracker: RunningServer | null = null;
let originalProgress: RunningServer['tracker']['engine']['progress'] | null = null;

async function startTracker(): Promise<number> {
  if (config.mode !== 'tracker') throw new Error('not a tracker');
  const running = await startServer({
    port: 0,
    db: config.db,
    secret: config.secret,
    workerKey: config.workerKey,
    engine: config.progressFlushMs === undefined ? {} : { progressFlushMs: config.progressFlushMs },
  });
  tracker = running;
  const store = running.tracker.store;
  const transaction = store.transaction.bind(store);
  store.transaction = (work) => {
    const started = performance.now();
    counters.transactions++;
    const written: { id: string; version: number }[] = [];
    const logRows = new Map<string, number>();
    return transaction((tx) => {
      const noteRow = (job: JobRecord) => {
        written.push({ id: job.id, version: job.version });
        const now = performance.now();
        const last = counters.lastWrite.get(job.id);
        if (last !== undefined && job.status === 'running')
          counters.minGapMs = Math.min(counters.minGapMs, now - last);
        counters.lastWrite.set(job.id, now);
        counters.rowWrites++;
        counters.jobsWritten.add(job.id);
      };
      return work({
        insertJob: (job) => tx.insertJob(job),
        lockJob: (id) => tx.lockJob(id),
        lockJobs: (ids) => tx.lockJobs(ids),
        lockNextPending: (types) => tx.lockNextPending(types),
        updateJob: async (job, expectedVersion) => {
          const begun = performance.now();
          try {
            const written = await tx.updateJob(job, expectedVersion);
            if (written) noteRow(job);
            return written;
          } finally {
            counters.updateMs += performance.now() - begun;
          }
        },
        updateJobs: async (updates) => {
          const begun = performance.now();
          try {
            const moved = await tx.updateJobs(updates);
            // The rows whose version had moved on were left as they were: not written.
            const skipped = new Set(moved);
            for (const { job } of updates) if (!skipped.has(job.id)) noteRow(job);
            return moved;
          } finally {
            counters.updateMs += performance.now() - begun;
          }
        },
        appendEvents: (events) => {
          const begun = performance.now();
          counters.eventsAppended += events.length;
          for (const event of events) {
            const rows = (logRows.get(event.jobId) ?? 0) + 1;
            logRows.set(event.jobId, rows);
            commits.maxLogRowsPerJobPerFlush = Math.max(commits.maxLogRowsPerJobPerFlush, rows);
          }
          return tx.appendEvents(events).finally(() => {
            counters.appendMs += performance.now() - begun;
          });
        },
        insertIdempotencyKey: (record) => tx.insertIdempotencyKey(record),
      });
    })
      .then((result) => {
        committedAt(written, performance.now());
        return result;
      })
      .finally(() => {
        counters.transactionMs += performance.now() - started;
      });
  };
  const engine = running.tracker.engine;
  const progress = engine.progress.bind(engine);
  const progressMany = engine.progressMany.bind(engine);
  engine.progress = async (id, leaseToken, update) => {
    const job = await progress(id, leaseToken, update);
    acknowledged(job);
    return job;
  };
  engine.progressMany = async (updates) => {
    const outcomes = await progressMany(updates);
    for (const outcome of outcomes) if ('job' in outcome) acknowledged(outcome.job);
    return outcomes;
  };
  originalProgress = engine.progress;
  return running.port;
}

/**
 * The naive design: every progress update is its own transaction, committed before the ack. (The
 * engine's `progressFlushMs: 0` is not that: it still answers before committing, and its next-tick
 * flush takes every update that arrived meanwhile in one transaction.)
 */
function setNaive(naive: boolean): void {
  if (!tracker || !originalProgress) throw new Error('no tracker');
  const engine = tracker.tracker.engine;
  const progress = originalProgress;
  if (!naive) {
    engine.progress = progress;
    return;
  }
  const oneAtATime = new Mutex();
  engine.progress = (id, leaseToken, update) =>
    oneAtATime.run(async () => {
      const job = await progress(id, leaseToken, update);
      await engine.flush();
      return job;
    });
}

async function micro(request: Extract<LoadServerRequest, { cmd: 'micro' }>): Promise<MicroResult> {
  if (!tracker) throw new Error('no tracker');
  const { auth, engine } = tracker.tracker;
  const base = `http://127.0.0.1:${tracker.port}`;
  const result: MicroResult = {};
  const ms = request.ms;
  if (request.progress) {
    const { jobs, workerKey, start } = request.progress;
    const job = (i: number) => jobs[i % jobs.length] as { id: string; leaseToken: string };
    // Progress stays at `start` (it may not go down, and concurrent calls can overtake each other);
    // a new message makes every call a visible change, as in the HTTP load.
    let counter = 0;
    const message = () => `step ${++counter}`;
    const body = JSON.stringify({ leaseToken: job(0).leaseToken, progress: 1 });
    const authRequest = new Request(`${base}/api/worker/jobs/${job(0).id}/progress`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workerKey}` },
    });
    result.workerAuthUs = await perCall(ms / 4, 1, () => auth.worker(authRequest));
    result.jsonParseUs = await perCall(ms / 4, 1, () => JSON.parse(body));
    const parsed = JSON.parse(body);
    result.zodProgressUs = await perCall(ms / 4, 1, () => progressBody.parse(parsed));
    if (request.progress.batch !== undefined) {
      const size = request.progress.batch;
      const batchBody = JSON.stringify({
        updates: Array.from({ length: size }, (_, i) => ({
          id: job(i).id,
          leaseToken: job(i).leaseToken,
          progress: start,
          message: `step ${i}`,
        })),
      });
      result.jsonParseBatchUs = (await perCall(ms / 4, 1, () => JSON.parse(batchBody))) / size;
      const parsedBatch = JSON.parse(batchBody);
      result.zodBatchUs = (await perCall(ms / 4, 1, () => progressBatchBody.parse(parsedBatch))) / size;
    }
    // Each run stays under the engine's 1 s flush period and starts right after a flush, so no flush
    // falls inside it; the flush of what it left is timed on its own.
    const window = Math.min(ms, 800);
    await engine.flush();
    const progressed = await timed(window, 64, (i) => {
      const { id, leaseToken } = job(i);
      return engine.progress(id, leaseToken, { progress: start, message: message() });
    });
    result.engineProgressUs = progressed.us;
    const flushStarted = performance.now();
    await engine.flush();
    result.flushPerUpdateUs = ((performance.now() - flushStarted) * 1000) / progressed.calls;
  }
  if (request.poll) {
    const { path, token, secret, ownerId, since } = request.poll;
    result.verifyTokenUs = await perCall(ms / 4, 1, () => verifyToken(token, secret));
    const query = Object.fromEntries(new URL(path, base).searchParams);
    result.zodQueryUs = await perCall(ms / 4, 1, () => listJobsQuery.parse(query));
    result.ownerCursorUs = await perCall(ms / 4, 1, () => engine.ownerCursor(ownerId));
    result.changesSinceUs = await perCall(ms / 4, 1, () => engine.changesSince(ownerId, since));
    const { app } = tracker.tracker;
    const url = new URL(path, base).href;
    const first = await app.fetch(new Request(url, { headers: { authorization: `Bearer ${token}` } }));
    const etag = first.headers.get('etag');
    await first.body?.cancel();
    if (etag) {
      const conditional = new Request(url, {
        headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
      });
      const answer = await app.fetch(conditional);
      if (answer.status === 304)
        result.appFetch304Us = await perCall(ms / 4, 1, () => app.fetch(conditional));
    }
  }
  return result;
}

function startBare(): Promise<number> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (config.mode === 'bare-304') {
      if (req.headers['if-none-match'] === config.etag) {
        res.writeHead(304, config.headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...config.headers, 'content-type': 'application/json' });
      res.end('{"jobs":[]}');
      return;
    }
    if (config.mode !== 'bare-post') return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(config.responseBody);
    });
  };
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function startHono(): Promise<number> {
  const app = new Hono();
  if (config.mode === 'hono-304') {
    const { etag, headers } = config;
    app.get('/api/jobs', (c) => {
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      if (c.req.header('if-none-match') === etag) return c.body(null, 304);
      return c.json({ jobs: [] });
    });
  } else if (config.mode === 'hono-post') {
    const answer = JSON.parse(config.responseBody) as unknown;
    app.post('/api/worker/jobs/:id/progress', async (c) => {
      JSON.parse(await c.req.text()); // as the job API's readJson reads a body
      return c.json(answer as Record<string, unknown>);
    });
  }
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    server.once('error', reject);
  });
}

// ---- IPC -----------------------------------------------------------------------------------------

async function answer(request: LoadServerRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'mark':
      mark();
      return null;
    case 'stats':
      return stats();
    case 'naive':
      setNaive(request.on);
      return null;
    case 'flush':
      await tracker?.tracker.engine.flush();
      return null;
    case 'commits':
      return takeCommits();
    case 'profile':
      return profile(request.ms);
    case 'micro':
      return micro(request);
    case 'close':
      await tracker?.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

const send = (reply: LoadServerReply) => process.send?.(reply);

process.on('message', (message: LoadServerRequest) => {
  answer(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error: unknown) => send({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));

const port =
  config.mode === 'tracker'
    ? await startTracker()
    : config.mode === 'hono-304' || config.mode === 'hono-post'
      ? await startHono()
      : await startBare();
send({ id: 0, ok: true, value: { port } });
