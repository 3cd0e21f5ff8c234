/** Ingest benchmark: counts, the worker-side load (jobs, progress specs, measured windows) and per-window metrics. */
import { signToken } from '@jobtracker/server';
import { type ClaimedLease, type LoadServer, type LoadWindow, mergeWindows } from '../lib/load-control.js';
import { type LoadSpec, runLoad } from '../lib/load-generator.js';
import { envCount, envNumber } from '../lib/report.js';

export const JOBS = envCount('BENCH_INGEST_JOBS', 1000);
export const BATCH = Math.min(1000, envCount('BENCH_INGEST_BATCH', 100));
export const SECONDS = envNumber('BENCH_INGEST_SECONDS', 8);
export const SINGLE_SECONDS = envNumber('BENCH_INGEST_SINGLE_SECONDS', 4);
export const NAIVE_SECONDS = envNumber('BENCH_INGEST_NAIVE_SECONDS', 2);
export const CONNECTIONS = envCount('BENCH_INGEST_CONNECTIONS', 64);
export const BATCH_CONNECTIONS = envCount('BENCH_INGEST_BATCH_CONNECTIONS', 8);
export const THREADS = envCount('BENCH_INGEST_THREADS', 1);
export const ROUNDS = envCount('BENCH_INGEST_ROUNDS', 2);
export const DURABLE = envCount('BENCH_INGEST_DURABLE', 20);
export const WARMUP_SECONDS = 2; // per route
export const FLOOR_SECONDS = 1; // per floor, per round
export const PROFILE_MS = 2000;
export const TARGET = 20_000;

export const SECRET = 'bench-ingest-secret-0123456789abcdef';
export const WORKER_KEY = 'bench-ingest-worker-key-0123456789';
export const TYPE = 'bench.ingest';

/** Runs `task` over `items`, `concurrency` at a time, in order of start. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}

export async function call<T>(url: string, path: string, token: string, body: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Creates `count` jobs for a user and claims each through the worker HTTP API. */
export async function createAndClaim(url: string, count: number): Promise<ClaimedLease[]> {
  const token = signToken({ sub: 'bench-user', expiresInSeconds: 3600 }, SECRET);
  await pool(
    Array.from({ length: count }, (_, i) => i),
    16,
    (i) => call(url, '/api/jobs', token, { type: TYPE, scope: `job-${i}`, title: `Ingest job ${i}` }),
  );
  const claims = await pool(
    Array.from({ length: count }, (_, i) => i),
    16,
    (i) =>
      call<{ job: { id: string }; leaseToken: string }>(url, '/api/worker/claim', WORKER_KEY, {
        types: [TYPE],
        workerId: `worker-${i}`,
        leaseMs: 3_600_000,
      }),
  );
  return claims.map((claim) => ({ id: claim.job.id, leaseToken: claim.leaseToken }));
}

/**
 * Progress may not go down within an attempt: each window sends a value at or above everything sent
 * before (capped below the 99 the durability check sends last). Windows on the job server never
 * overlap, so no job sees a lower value after a higher one.
 */
let progressBase = 1;
export function nextProgress(): number {
  const value = Math.min(98, progressBase);
  progressBase += 0.5;
  return value;
}

export type Route = 'batch' | 'single';

export function progressSpec(route: Route, jobs: ClaimedLease[]): LoadSpec {
  const authorization = `Bearer ${WORKER_KEY}`;
  return route === 'batch'
    ? { kind: 'progress-batch', jobs, authorization, progress: nextProgress(), batch: BATCH }
    : { kind: 'progress', jobs, authorization, progress: nextProgress() };
}

export type Window = LoadWindow;

export async function window(
  server: LoadServer,
  jobs: ClaimedLease[],
  route: Route,
  seconds: number,
): Promise<Window> {
  await server.mark();
  const load = await runLoad({
    url: server.url,
    spec: progressSpec(route, jobs),
    connections: route === 'batch' ? BATCH_CONNECTIONS : CONNECTIONS,
    threads: THREADS,
    seconds,
  });
  const stats = await server.stats();
  if (load.socketErrors > 0 || load.failed > load.responses * 0.001 || load.refused > load.accepted * 0.001) {
    throw new Error(
      `the ${route} load got ${load.failed} failed answers, ${load.refused} refused updates and ${load.socketErrors} socket errors`,
    );
  }
  return { load, server: stats };
}

/** Several windows of one design as one, with the flush counters too. */
export function merge(windows: Window[]): Window {
  const sum = (pick: (w: Window) => number) => windows.reduce((total, w) => total + pick(w), 0);
  const merged = mergeWindows(windows);
  const gaps = windows.map((w) => w.server.minGapMs).filter((gap): gap is number => gap !== null);
  return {
    load: merged.load,
    server: {
      ...merged.server,
      transactionMs: sum((w) => w.server.transactionMs),
      updateMs: sum((w) => w.server.updateMs),
      appendMs: sum((w) => w.server.appendMs),
      rowWrites: sum((w) => w.server.rowWrites),
      eventsAppended: sum((w) => w.server.eventsAppended),
      jobsWritten: Math.max(...windows.map((w) => w.server.jobsWritten)),
      minGapMs: gaps.length > 0 ? Math.min(...gaps) : null,
    },
  };
}

/** Accepted updates per second. */
export const perSecond = (w: Window) => w.load.accepted / w.load.seconds;
export const txPerSecond = (w: Window) => w.server.transactions / (w.server.windowMs / 1000);
export const txPer1000 = (w: Window) => (w.server.transactions * 1000) / w.load.accepted;
/** Commits of one job's row per second, at the peak: 1 / the shortest gap between two of them. */
export const peakCommitsPerJob = (w: Window) => (w.server.minGapMs === null ? 0 : 1000 / w.server.minGapMs);
/** Server CPU per accepted update, and per request. */
export const cpuUs = (w: Window) => ((w.server.cpuUserMs + w.server.cpuSystemMs) * 1000) / w.load.accepted;
export const cpuPerRequestUs = (w: Window) =>
  ((w.server.cpuUserMs + w.server.cpuSystemMs) * 1000) / w.load.responses;
export const share = (ms: number, w: Window) => ms / w.server.windowMs;
export const flushUs = (w: Window) => (w.server.transactionMs * 1000) / w.load.accepted;
export const msPerTx = (w: Window) => w.server.transactionMs / Math.max(1, w.server.transactions);
export const cpuShare = (w: Window) => (w.server.cpuUserMs + w.server.cpuSystemMs) / w.server.windowMs;
export const loadShare = (w: Window) => w.load.cpuMs / (w.load.seconds * 1000);
