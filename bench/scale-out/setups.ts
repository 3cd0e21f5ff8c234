/** Scale-out benchmark: the three set-ups (A SQLite, B one PostgreSQL instance, C two), started and warmed up. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  closedLoop,
  epochNow,
  HttpClient,
  type LoadClients,
  type OurServer,
  runningJobs,
  startOurServer,
  startOurServerOn,
} from '../lib/sse-harness.js';
import type { ProfileSummary } from '../lib/sse-probe.js';
import { IN_FLIGHT, pct, type Setup, type SetupKey, STREAMS, users, WARMUP_CALLS } from './config.js';
import { dropSchema, postgresCpuByPid, postgresCpuSince, schemaUrl } from './postgres.js';

export function describeProfile(profile: ProfileSummary, areas = 8): string {
  const share = (ms: number) => pct((100 * ms) / Math.max(1, profile.busyMs));
  return `${profile.buckets
    .slice(0, areas)
    .map((bucket) => `${bucket.name} ${share(bucket.ms)}`)
    .join(', ')}`;
}

/** Time all CPUs spent in processes (user, nice, system) from /proc/stat, ms: not interrupts, not steal. */
export function processCpuMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 4);
  return fields.reduce((sum, field) => sum + Number(field), 0) * 10;
}

/**
 * From now on, the CPU of processes that are not part of the benchmark (all processes' time minus the
 * servers, PostgreSQL, the SSE clients and this process), as % of one core: `otherSince()`.
 */
export function cpuOfOthers(instances: OurServer[], clients: LoadClients): { otherSince: () => number } {
  const oursMs = () => {
    const sender = process.cpuUsage();
    return (
      instances.reduce((sum, server) => sum + server.cpuMs(), 0) +
      clients.cpuMs() +
      (sender.user + sender.system) / 1000
    );
  };
  const start = { at: performance.now(), all: processCpuMs(), ours: oursMs(), postgres: postgresCpuByPid() };
  return {
    otherSince: () => {
      const seconds = (performance.now() - start.at) / 1000;
      const ours = oursMs() - start.ours + postgresCpuSince(start.postgres);
      return Math.max(0, (processCpuMs() - start.all - ours) / 10 / seconds);
    },
  };
}

/** Runs `call` with `concurrency` in flight until `stop()`, reporting each answer. */
export function closedLoopUntil(
  concurrency: number,
  call: (i: number) => Promise<number>,
  onAnswer: (status: number, roundTripMs: number) => void,
): { stop: () => Promise<void> } {
  let running = true;
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const sentAt = performance.now();
      const status = await call(next++).catch(() => 0);
      onAnswer(status, performance.now() - sentAt);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

export async function startSetup(key: SetupKey): Promise<Omit<Setup, 'send' | 'api'>> {
  if (key === 'A') {
    const server = await startOurServer();
    return {
      key,
      label: 'one SQLite instance',
      streams: server,
      worker: server,
      instances: [server],
      schema: null,
    };
  }
  const schema = `jt_bench_${randomBytes(6).toString('hex')}`;
  const credentials = {
    secret: randomBytes(24).toString('base64url'),
    workerKey: randomBytes(24).toString('base64url'),
  };
  const db = schemaUrl(schema);
  try {
    if (key === 'B') {
      const server = await startOurServerOn(db, credentials, 'jobtracker pg');
      return {
        key,
        label: 'one PostgreSQL instance',
        streams: server,
        worker: server,
        instances: [server],
        schema,
      };
    }
    // One after the other: the first applies the migrations, the second finds them applied.
    const first = await startOurServerOn(db, credentials, 'jobtracker pg 1');
    const second = await startOurServerOn(db, credentials, 'jobtracker pg 2').catch(async (error) => {
      await first.stop();
      throw error;
    });
    return {
      key,
      label: 'two PostgreSQL instances',
      streams: first,
      worker: second,
      instances: [first, second],
      schema,
    };
  } catch (error) {
    await dropSchema(schema).catch(() => {});
    throw error;
  }
}

/** Running jobs for every user, their streams open on the streaming instance, the worker path warmed up. */
export async function prepare(base: Omit<Setup, 'send' | 'api'>, clients: LoadClients): Promise<Setup> {
  const jobsApi = new HttpClient(base.worker.port, 16);
  const jobs = await runningJobs(jobsApi, base.worker, users(), 'bench.scale-out');
  jobsApi.close();
  const opened = await clients.open(base.streams.port, users(), base.streams.secret);
  if (opened.ready !== STREAMS) {
    throw new Error(`${base.label}: ${opened.ready}/${STREAMS} streams opened: ${opened.errors.join('; ')}`);
  }
  const api = new HttpClient(base.worker.port, IN_FLIGHT);
  const headers = { authorization: `Bearer ${base.worker.workerKey}`, 'content-type': 'application/json' };
  const send = (i: number) => {
    const job = jobs[i % jobs.length] as (typeof jobs)[0];
    const body = JSON.stringify({
      leaseToken: job.leaseToken,
      progress: 50,
      message: `t=${epochNow().toFixed(3)}`,
      leaseMs: 3_600_000,
    });
    return api
      .request('POST', `/api/worker/jobs/${job.id}/progress`, headers, body)
      .then((answer) => answer.status);
  };
  await closedLoop(WARMUP_CALLS, 16, async (i) => {
    const status = await send(i);
    if (status !== 200) throw new Error(`${base.label}: warm-up progress call answered ${status}`);
  });
  return { ...base, send, api };
}
