/**
 * Scale-out: several API instances on one PostgreSQL database. Measures the latency a progress update
 * takes from the worker's call to the client's parse (p50/p95/p99 at fixed rates: a light one and a
 * modest one) and the highest rate of events delivered (a closed loop of worker calls), in three
 * set-ups in one run:
 *
 *   A  one instance on SQLite (a temporary file): the product's default, for context;
 *   B  one instance on PostgreSQL, worker calls and streams on it: the baseline of "versus one";
 *   C  two instances on PostgreSQL (one schema), streams on instance 1, worker calls to instance 2.
 *
 *   node --conditions=source --import tsx bench/scale-out.ts      (npm run bench -- scale-out)
 *
 * BENCH_SCALE_STREAMS (200: users, one stream and one running job each), BENCH_SCALE_RATES ("50,200"
 * updates/s, one latency phase each), BENCH_SCALE_PHASE_MS (4000 measured per phase, after 1000
 * unmeasured), BENCH_SCALE_INFLIGHT (64 worker calls outstanding in the throughput phase),
 * BENCH_SCALE_PG_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_PROFILE=0 leaves out the CPU
 * profiles of the PostgreSQL instances (taken after the measured throughput phase, under the same load).
 * Each PostgreSQL set-up gets a fresh schema (jt_bench_<random>), dropped at the end.
 *
 * The sender (this process, keep-alive http.Agent) posts `POST /api/worker/jobs/:id/progress` with the
 * message `t=<epoch ms>`, and the SSE client processes (sse-load.ts) subtract it from their parse time,
 * as in latency.ts. Throughput counts the `job` frames the clients parsed during the measured phase.
 * Server, PostgreSQL and whole-machine CPU come from /proc; what the set-up's PostgreSQL connections are
 * doing (waiting for a lock, idle in a transaction…) from pg_stat_activity, sampled every 25 ms.
 */

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { envNumber, type Figure, figure, percentile, report, stopwatch } from './lib/report.js';
import {
  atRate,
  closedLoop,
  epochNow,
  HttpClient,
  LoadClients,
  machineCpuMs,
  type OurServer,
  procCpuMs,
  runningJobs,
  sleep,
  startOurServer,
  startOurServerOn,
} from './lib/sse-harness.js';
import type { ProfileSummary } from './lib/sse-probe.js';

const STREAMS = Math.max(1, Math.floor(envNumber('BENCH_SCALE_STREAMS', 200)));
const RATES = (process.env.BENCH_SCALE_RATES || '50,200').split(',').map((rate) => {
  const value = Number(rate);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`BENCH_SCALE_RATES: bad rate "${rate}"`);
  return value;
});
const PHASE_MS = Math.max(500, envNumber('BENCH_SCALE_PHASE_MS', 4000));
const WARM_MS = 1000;
const IN_FLIGHT = Math.max(1, Math.floor(envNumber('BENCH_SCALE_INFLIGHT', 64)));
const PG_URL = process.env.BENCH_SCALE_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const WARMUP_CALLS = 300;
const DRAIN_MS = 5000;
const PROFILE = envNumber('BENCH_PROFILE', 1) > 0;
const PROFILE_MS = 1500;

type SetupKey = 'A' | 'B' | 'C';

interface Setup {
  key: SetupKey;
  label: string;
  /** The instance the clients stream from. */
  streams: OurServer;
  /** The instance the worker calls go to (the same one outside C). */
  worker: OurServer;
  instances: OurServer[];
  schema: string | null;
}

interface LatencyPhase {
  rate: number;
  achieved: number;
  errors: number;
  firstError: string | null;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  rttP50: number;
  rttP99: number;
}

interface ThroughputPhase {
  /** Worker calls answered 2xx per second, during the measured phase. */
  accepted: number;
  /** `job` frames parsed by the clients per second, during the measured phase. */
  delivered: number;
  errors: number;
  firstError: string | null;
  /** Frames still missing once the loop stopped and DRAIN_MS passed (0: every accepted update arrived). */
  missing: number;
  rttP50: number;
  rttP99: number;
  /** Latency under that load, send → parse. */
  p50: number;
  p99: number;
  /** CPU, % of one core, per instance (streams first when there are two). */
  serverCpu: number[];
  postgresCpu: number;
  senderCpu: number;
  clientCpu: number;
  machineCpu: number;
  /** Server CPU (all instances) and PostgreSQL CPU per delivered event, µs. */
  serverUsPerEvent: number;
  postgresUsPerEvent: number;
  /** Mean number of the set-up's PostgreSQL connections in each state (null on SQLite). */
  backends: Record<string, number> | null;
  /** CPU profiles of the instances (streams first), taken after the measured phase under the same load. */
  profiles: ProfileSummary[];
}

interface SetupRun {
  setup: SetupKey;
  label: string;
  latency: LatencyPhase[];
  throughput: ThroughputPhase;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const users = () => Array.from({ length: STREAMS }, (_, i) => `user-${i}`);

/** CPU of every `postgres` process (postmaster, backends, WAL writer…) by pid, ms. */
function postgresCpuByPid(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      byPid.set(Number(entry), procCpuMs(Number(entry)));
    } catch {
      // exited meanwhile
    }
  }
  return byPid;
}

function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpuByPid()) total += ms - (before.get(pid) ?? 0);
  return total;
}

async function withPg<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function requirePostgres(): Promise<string> {
  try {
    return await withPg(async (client) => {
      const { rows } = await client.query<{ version: string; fsync: string; sync: string }>(
        "SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, " +
          "current_setting('synchronous_commit') AS sync",
      );
      const row = rows[0];
      return `PostgreSQL ${row?.version} (fsync ${row?.fsync}, synchronous_commit ${row?.sync})`;
    });
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        `Start the local one with: ${START_PG} (or point BENCH_SCALE_PG_URL at a PostgreSQL 15+ database).`,
    );
  }
}

/** The servers' URL: their connections carry the schema's name, to tell them apart in pg_stat_activity. */
function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('application_name', schema);
  return url.toString();
}

const dropSchema = (schema: string) =>
  withPg((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

/**
 * Samples what the set-up's busy PostgreSQL connections are doing (pg_stat_activity, every 25 ms) until
 * `stop()`: the mean number of connections in each state, e.g. waiting for a lock, or idle in a
 * transaction while the server prepares its next statement.
 */
function sampleBackends(applicationName: string): { stop: () => Promise<Record<string, number>> } {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  const totals = new Map<string, number>();
  let samples = 0;
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ what: string; count: number }>(
        `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'running')
                     ELSE state END AS what, count(*)::int AS count
           FROM pg_stat_activity
          WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()
          GROUP BY 1`,
        [applicationName],
      );
      samples++;
      for (const row of rows) totals.set(row.what, (totals.get(row.what) ?? 0) + row.count);
      await sleep(25);
    }
  })().finally(() => client.end().catch(() => {}));
  return {
    stop: async () => {
      running = false;
      await done;
      return Object.fromEntries(
        [...totals.entries()]
          .map(([what, count]) => [what, round(count / Math.max(1, samples), 2)] as const)
          .sort((x, y) => y[1] - x[1]),
      );
    },
  };
}

const describeBackends = (backends: Record<string, number>) =>
  Object.entries(backends)
    .map(([what, count]) => `${what} ${count}`)
    .join(', ');

function describeProfile(profile: ProfileSummary): string {
  const share = (ms: number) => `${Math.round((100 * ms) / Math.max(1, profile.busyMs))}%`;
  return (
    `busy ${Math.round((100 * profile.busyMs) / profile.wallMs)}% of ${profile.wallMs.toFixed(0)} ms; ` +
    `${profile.buckets
      .slice(0, 8)
      .map((bucket) => `${bucket.name} ${share(bucket.ms)}`)
      .join(', ')}; top: ${profile.top
      .slice(0, 6)
      .map((entry) => `${entry.name} ${share(entry.ms)}`)
      .join(', ')}`
  );
}

/** Runs `call` with `concurrency` in flight until `stop()` resolves; resolves with the calls made. */
function closedLoopUntil(
  concurrency: number,
  call: (i: number) => Promise<number>,
  onAnswer: (status: number, roundTripMs: number) => void,
): { stop: () => Promise<number> } {
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
      return next;
    },
  };
}

function progressSender(setup: Setup, jobs: { id: string; leaseToken: string }[]) {
  const api = new HttpClient(setup.worker.port, IN_FLIGHT);
  const headers = { authorization: `Bearer ${setup.worker.workerKey}`, 'content-type': 'application/json' };
  return {
    api,
    send: (i: number) => {
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
    },
  };
}

async function measureLatency(
  rate: number,
  send: (i: number) => Promise<number>,
  clients: LoadClients,
): Promise<LatencyPhase> {
  await atRate(rate, WARM_MS, IN_FLIGHT, send);
  await sleep(100);
  await clients.latencyStart();
  const result = await atRate(rate, PHASE_MS, IN_FLIGHT, send);
  await sleep(300);
  const latencies = await clients.latencyStop();
  return {
    rate,
    achieved: result.ok / (result.elapsedMs / 1000),
    errors: result.errors,
    firstError: result.firstError,
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    rttP50: percentile(result.roundTrips, 50),
    rttP99: percentile(result.roundTrips, 99),
  };
}

async function measureThroughput(
  setup: Setup,
  send: (i: number) => Promise<number>,
  clients: LoadClients,
): Promise<ThroughputPhase> {
  const framesBefore = (await clients.counts()).jobs;
  let ok = 0;
  let errors = 0;
  let firstError: string | null = null;
  let measuring = false;
  const roundTrips: number[] = [];
  const loop = closedLoopUntil(IN_FLIGHT, send, (status, roundTripMs) => {
    if (status >= 200 && status < 300) {
      ok++;
      if (measuring) roundTrips.push(roundTripMs);
    } else {
      errors++;
      firstError ??= status === 0 ? 'connection error' : `HTTP ${status}`;
    }
  });
  await sleep(WARM_MS);
  await clients.latencyStart();
  const start = {
    at: performance.now(),
    ok,
    frames: (await clients.counts()).jobs,
    servers: setup.instances.map((server) => server.cpuMs()),
    postgres: postgresCpuByPid(),
    clients: clients.cpuMs(),
    sender: process.cpuUsage(),
    machine: machineCpuMs().busy,
  };
  const sampler = setup.schema ? sampleBackends(setup.schema) : null;
  measuring = true;
  await sleep(PHASE_MS);
  measuring = false;
  const backends = sampler ? await sampler.stop() : null;
  const framesAtEnd = (await clients.counts()).jobs;
  const seconds = (performance.now() - start.at) / 1000;
  const okInPhase = ok - start.ok;
  const serverCpuMs = setup.instances.map((server, i) => server.cpuMs() - (start.servers[i] ?? 0));
  const postgresMs = postgresCpuSince(start.postgres);
  const clientMs = clients.cpuMs() - start.clients;
  const sender = process.cpuUsage(start.sender);
  const machineMs = machineCpuMs().busy - start.machine;
  const latencies = await clients.latencyStop();
  const profiles: ProfileSummary[] = [];
  if (PROFILE && setup.schema) {
    await Promise.all(setup.instances.map((server) => server.profileStart()));
    await sleep(PROFILE_MS);
    for (const server of setup.instances) profiles.push(await server.profileStop());
  }
  await loop.stop();
  const expected = framesBefore + ok;
  const deadline = Date.now() + DRAIN_MS;
  let frames = (await clients.counts()).jobs;
  while (frames < expected && Date.now() < deadline) {
    await sleep(50);
    frames = (await clients.counts()).jobs;
  }
  const delivered = (framesAtEnd - start.frames) / seconds;
  const serverMsTotal = serverCpuMs.reduce((sum, ms) => sum + ms, 0);
  const eventsInPhase = Math.max(1, framesAtEnd - start.frames);
  return {
    accepted: okInPhase / seconds,
    delivered,
    errors,
    firstError,
    missing: expected - frames,
    rttP50: percentile(roundTrips, 50),
    rttP99: percentile(roundTrips, 99),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpu: serverCpuMs.map((ms) => ms / 10 / seconds),
    postgresCpu: postgresMs / 10 / seconds,
    senderCpu: (sender.user + sender.system) / 1e4 / seconds,
    clientCpu: clientMs / 10 / seconds,
    machineCpu: machineMs / 10 / seconds,
    serverUsPerEvent: (serverMsTotal * 1000) / eventsInPhase,
    postgresUsPerEvent: (postgresMs * 1000) / eventsInPhase,
    backends,
    profiles,
  };
}

async function startSetup(key: SetupKey): Promise<Setup> {
  if (key === 'A') {
    const server = await startOurServer();
    return {
      key,
      label: 'one instance, SQLite',
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
        label: 'one instance, PostgreSQL',
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
      label: 'two instances, PostgreSQL',
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

async function runSetup(setup: Setup, clients: LoadClients, log: (line: string) => void): Promise<SetupRun> {
  const jobsApi = new HttpClient(setup.worker.port, 16);
  const jobs = await runningJobs(jobsApi, setup.worker, users(), 'bench.scale-out');
  jobsApi.close();
  const opened = await clients.open(setup.streams.port, users(), setup.streams.secret);
  if (opened.ready !== STREAMS) {
    throw new Error(`${setup.label}: ${opened.ready}/${STREAMS} streams opened: ${opened.errors.join('; ')}`);
  }
  const { api, send } = progressSender(setup, jobs);
  try {
    await closedLoop(WARMUP_CALLS, 16, async (i) => {
      const status = await send(i);
      if (status !== 200) throw new Error(`${setup.label}: warm-up progress call answered ${status}`);
    });
    const latency: LatencyPhase[] = [];
    for (const rate of RATES) {
      const phase = await measureLatency(rate, send, clients);
      if (phase.errors > 0)
        throw new Error(`${setup.label}: ${phase.errors} calls failed: ${phase.firstError}`);
      log(
        `${setup.key} ${setup.label} @ ${rate}/s: achieved ${Math.round(phase.achieved)}/s, p50/p95/p99 ` +
          `${round(phase.p50)}/${round(phase.p95)}/${round(phase.p99)} ms, max ${round(phase.max)} ms ` +
          `(${phase.samples} samples), call round trip p50 ${round(phase.rttP50)} ms`,
      );
      latency.push(phase);
    }
    const throughput = await measureThroughput(setup, send, clients);
    if (throughput.errors > 0) {
      throw new Error(`${setup.label}: ${throughput.errors} calls failed: ${throughput.firstError}`);
    }
    log(
      `${setup.key} ${setup.label}, ${IN_FLIGHT} in flight: ${Math.round(throughput.delivered)} events/s ` +
        `delivered (${Math.round(throughput.accepted)} calls/s accepted, ${throughput.missing} missing after ` +
        `the drain), call round trip p50/p99 ${round(throughput.rttP50)}/${round(throughput.rttP99)} ms, ` +
        `latency p50/p99 ${round(throughput.p50)}/${round(throughput.p99)} ms; CPU: servers ` +
        `${throughput.serverCpu.map((cpu) => `${Math.round(cpu)}%`).join(' + ')}, PostgreSQL ` +
        `${Math.round(throughput.postgresCpu)}%, sender ${Math.round(throughput.senderCpu)}%, clients ` +
        `${Math.round(throughput.clientCpu)}%, machine ${Math.round(throughput.machineCpu)}% of 200%` +
        (throughput.backends ? `; PostgreSQL connections: ${describeBackends(throughput.backends)}` : ''),
    );
    for (const [i, profile] of throughput.profiles.entries()) {
      log(`${setup.key} instance ${i + 1} profile: ${describeProfile(profile)}`);
    }
    return { setup: setup.key, label: setup.label, latency, throughput };
  } finally {
    api.close();
  }
}

async function main() {
  const startedAt = new Date().toISOString();
  const total = stopwatch();
  const log = (line: string) => console.log(`[scale-out ${(total() / 1000).toFixed(0)} s] ${line}`);
  const postgres = await requirePostgres();
  log(`${postgres} at ${new URL(PG_URL).host}`);
  const clients = await LoadClients.start(2);
  const schemas: string[] = [];
  const runs = new Map<SetupKey, SetupRun>();
  try {
    for (const key of ['A', 'B', 'C'] as const) {
      const setup = await startSetup(key);
      if (setup.schema) schemas.push(setup.schema);
      try {
        runs.set(key, await runSetup(setup, clients, log));
      } finally {
        await clients.closeAll();
        for (const server of setup.instances) await server.stop();
      }
    }
  } finally {
    await clients.stop();
    for (const schema of schemas) await dropSchema(schema).catch((error) => console.error(error));
  }

  reportRuns(startedAt, total(), postgres, clients.pids.length, runs);
}

const formatMs = (value: number) => `${round(value)} ms`;
const pct = (value: number) => `${Math.round(value)}%`;
const sumOf = (backends: Record<string, number> | null, match: (what: string) => boolean) =>
  Object.entries(backends ?? {}).reduce((sum, [what, count]) => (match(what) ? sum + count : sum), 0);

function reportRuns(
  startedAt: string,
  durationMs: number,
  postgres: string,
  clientProcesses: number,
  runs: Map<SetupKey, SetupRun>,
): void {
  const a = runs.get('A') as SetupRun;
  const b = runs.get('B') as SetupRun;
  const c = runs.get('C') as SetupRun;
  const at = (run: SetupRun, i: number) => run.latency[i] as LatencyPhase;
  const latencyFigures = RATES.flatMap((rate, i) =>
    (['p50', 'p95', 'p99'] as const).flatMap((p) => [
      figure(`${p} at ${rate}/s, one PostgreSQL instance`, round(at(b, i)[p]), 'ms', {
        baseline: { name: 'one SQLite instance', value: round(at(a, i)[p]) },
      }),
      figure(`${p} at ${rate}/s, two instances (streams on 1, worker on 2)`, round(at(c, i)[p]), 'ms', {
        baseline: { name: 'one PostgreSQL instance', value: round(at(b, i)[p]) },
      }),
    ]),
  );
  const throughputFigures: Figure[] = [
    figure('events/s delivered, two instances', Math.round(c.throughput.delivered), 'events/s', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(b.throughput.delivered) },
    }),
    figure('events/s delivered, one PostgreSQL instance', Math.round(b.throughput.delivered), 'events/s', {
      baseline: { name: 'one SQLite instance', value: Math.round(a.throughput.delivered) },
    }),
    figure(
      `worker call round trip p50 at ${IN_FLIGHT} in flight, two instances`,
      round(c.throughput.rttP50),
      'ms',
      {
        baseline: { name: 'one PostgreSQL instance', value: round(b.throughput.rttP50) },
      },
    ),
    figure('server CPU per event, two instances (both)', Math.round(c.throughput.serverUsPerEvent), 'µs', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(b.throughput.serverUsPerEvent) },
    }),
    figure('PostgreSQL CPU per event, two instances', Math.round(c.throughput.postgresUsPerEvent), 'µs', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(b.throughput.postgresUsPerEvent) },
    }),
  ];

  const params: Record<string, string | number> = {
    streams: STREAMS,
    rates: RATES.join(','),
    phaseMs: PHASE_MS,
    warmMsPerPhase: WARM_MS,
    inFlight: IN_FLIGHT,
    postgres,
    clientProcesses,
  };
  for (const run of [a, b, c]) {
    for (const l of run.latency) {
      params[`${run.setup}@${l.rate}`] =
        `${run.label}: achieved ${Math.round(l.achieved)}/s, ${l.samples} samples, max ${formatMs(l.max)}, ` +
        `call rtt p50/p99 ${round(l.rttP50)}/${round(l.rttP99)} ms`;
    }
    const t = run.throughput;
    params[`${run.setup} closed loop`] =
      `${run.label}: ${Math.round(t.delivered)} events/s delivered, ${Math.round(t.accepted)} calls/s accepted, ` +
      `${t.missing} missing after the drain, call rtt p50/p99 ${round(t.rttP50)}/${round(t.rttP99)} ms, ` +
      `latency p50/p99 ${round(t.p50)}/${round(t.p99)} ms, CPU servers ${t.serverCpu.map(pct).join(' + ')} ` +
      `(${Math.round(t.serverUsPerEvent)} µs/event), PostgreSQL ${pct(t.postgresCpu)} ` +
      `(${Math.round(t.postgresUsPerEvent)} µs/event), sender ${pct(t.senderCpu)}, clients ` +
      `${pct(t.clientCpu)}, machine ${pct(t.machineCpu)} of 200%` +
      (t.backends ? `; PostgreSQL connections (mean): ${describeBackends(t.backends)}` : '');
  }

  const light = 0;
  const modest = RATES.length - 1;
  const added = (p: 'p50' | 'p95' | 'p99', i: number) => formatMs(at(c, i)[p] - at(b, i)[p]);
  const notes: string[] = [
    `Same machine for everything: ${os.availableParallelism()} cores shared by the server instances, ` +
      `${postgres}, the sender and ${clientProcesses} SSE client processes. In C's closed loop the machine was ` +
      `${pct(c.throughput.machineCpu)} busy of 200% (servers ${c.throughput.serverCpu.map(pct).join(' + ')}, ` +
      `PostgreSQL ${pct(c.throughput.postgresCpu)}, sender ${pct(c.throughput.senderCpu)}, clients ` +
      `${pct(c.throughput.clientCpu)}): these figures describe this box, not two instances on two machines.`,
    `Added latency of the second instance (C − B): ${RATES.map(
      (rate, i) => `at ${rate}/s p50 ${added('p50', i)}, p95 ${added('p95', i)}, p99 ${added('p99', i)}`,
    ).join('; ')}. In B the writing instance reads the log itself before it answers the worker; in C ` +
      'instance 1 hears the NOTIFY sent at commit and reads the log with one query for all its streams. ' +
      `Versus SQLite (A), which publishes before it writes, PostgreSQL costs the commit first: at ` +
      `${RATES[light]}/s the worker's call took p50 ${formatMs(at(b, light).rttP50)} on B against ` +
      `${formatMs(at(a, light).rttP50)} on A.`,
  ];
  const backends = b.throughput.backends;
  if (backends) {
    const lockWait = sumOf(backends, (what) => what.startsWith('Lock:'));
    const idleInTransaction = sumOf(backends, (what) => what.startsWith('idle in transaction'));
    const wal = sumOf(backends, (what) => what.startsWith('IO:WAL'));
    const running = sumOf(backends, (what) => what === 'running');
    const writer = b.throughput.profiles[0];
    notes.push(
      `Where the closed loop's ceiling comes from (B, ${IN_FLIGHT} calls in flight, ` +
        `${Math.round(b.throughput.delivered)} events/s): of the instance's 10 pooled connections, on average ` +
        `${round(lockWait, 1)} were waiting for a row lock another transaction held (mostly the one-row event ` +
        `counter, held from the cursor's UPDATE to COMMIT), ${round(idleInTransaction, 1)} were idle inside a ` +
        `transaction waiting for the server's next statement, ${round(wal, 1)} were flushing WAL and ` +
        `${round(running, 1)} running a statement; the other calls queued for a pool connection in the ` +
        `server (round trip p50 ${formatMs(b.throughput.rttP50)}). So commits are serialised and each holds the ` +
        'counter across the rest of its statements (INSERT event, pg_notify, COMMIT), every one a round trip ' +
        `to a Node process that was ${pct(b.throughput.serverCpu[0] ?? 0)} of a core busy` +
        (writer
          ? ` (profile: ${writer.buckets
              .slice(0, 4)
              .map((bucket) => `${bucket.name} ${pct((100 * bucket.ms) / Math.max(1, writer.busyMs))}`)
              .join(', ')} of its busy time)`
          : '') +
        `; the disk is not the limit (WAL flushes were ${round(wal, 1)} connections on average). A second ` +
        'instance adds no write capacity: the writes still serialise on the same row, and the reading ' +
        `instance costs ${pct(c.throughput.serverCpu[0] ?? 0)} of a core and its log reads on the same 2 cores.`,
    );
  }
  notes.push(
    'Only the single-update route (POST /api/worker/jobs/:id/progress, one transaction per call) is driven; ' +
      `at ${RATES[modest]}/s one PostgreSQL instance runs at ${pct(
        (100 * (RATES[modest] as number)) / Math.max(1, b.throughput.delivered),
      )} of its closed-loop ceiling here, so that phase's p95/p99 are mostly queueing and vary from run to run.`,
  );
  for (const run of [a, b, c]) {
    for (const l of run.latency) {
      if (l.achieved < 0.95 * l.rate) {
        notes.push(
          `${run.setup} (${run.label}) reached only ${Math.round(l.achieved)}/s of ${l.rate}/s offered.`,
        );
      }
    }
    if (run.throughput.missing !== 0) {
      notes.push(
        `${run.setup} (${run.label}): ${run.throughput.missing} accepted updates had not reached the clients ` +
          `${DRAIN_MS / 1000} s after the loop stopped.`,
      );
    }
  }

  report({
    bench: 'scale-out',
    title: 'Scale-out: two instances on PostgreSQL versus one',
    startedAt,
    durationMs,
    params,
    figures: [...latencyFigures, ...throughputFigures],
    explanation: [
      'Two jobtracker instances sharing one PostgreSQL database delivered',
      `${Math.round(c.throughput.delivered).toLocaleString('en-US')} events/s to streams on instance 1 from`,
      `worker calls on instance 2, against ${Math.round(b.throughput.delivered).toLocaleString('en-US')}/s`,
      `for one PostgreSQL instance and ${Math.round(a.throughput.delivered).toLocaleString('en-US')}/s for`,
      `one SQLite instance. At ${RATES[light]} updates/s a progress update reached a client`,
      `${formatMs(at(c, light).p50)} (p50) after the worker sent it across two instances, against`,
      `${formatMs(at(b, light).p50)} on one PostgreSQL instance and ${formatMs(at(a, light).p50)} on SQLite.`,
      '\n\nPhysical limits: on PostgreSQL each progress call is one transaction that commits (a WAL flush)',
      'before it is published, and commits are ordered by one counter row held until COMMIT, so the',
      'write rate is bounded by how fast one transaction at a time gets through its last statements; a',
      'second instance adds a NOTIFY and a log read before its streams see the event. Everything runs on',
      'one 2-core machine, the database and the load generator included.',
    ].join(' '),
    notes,
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
