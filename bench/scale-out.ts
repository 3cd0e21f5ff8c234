/**
 * Scale-out: several API instances on one PostgreSQL database. Measures the latency of a progress update
 * from the worker's call to the client's parse (p50/p95/p99 at fixed rates: a light one and a modest
 * one) and the highest rate of events delivered (a closed loop of worker calls), in three set-ups:
 *
 *   A  one instance on SQLite (a temporary file): the product's default, for context;
 *   B  one instance on PostgreSQL, worker calls and streams on it: the baseline of "versus one";
 *   C  two instances on PostgreSQL (one schema), streams on instance 1, worker calls to instance 2.
 *
 *   node --conditions=jobtracker-source --import tsx bench/scale-out.ts      (npm run bench -- scale-out)
 *
 * BENCH_SCALE_STREAMS (200: users, one stream and one running job each, per set-up), BENCH_SCALE_RATES
 * ("50,200" updates/s, one latency phase each), BENCH_SCALE_PHASE_MS (4000 measured per set-up and phase),
 * BENCH_SCALE_INFLIGHT (64 worker calls outstanding in the closed loop), BENCH_SCALE_PG_URL
 * (postgres://postgres@127.0.0.1:5432/postgres), BENCH_PROFILE=0 leaves out the CPU profiles of the
 * PostgreSQL instances (a separate, unmeasured stretch of the closed loop).
 *
 * All three set-ups run side by side (each PostgreSQL one in a fresh schema jt_bench_<random>, dropped at
 * the end, or by the next run when this one is interrupted), and each phase visits them in windows
 * ordered A B C C B A, half the phase each: load from other processes on this shared machine then falls
 * on all three alike. The sender (this process,
 * keep-alive http.Agent) posts `POST /api/worker/jobs/:id/progress` with the message `t=<epoch ms>`, and
 * the SSE client processes (sse-load.ts) subtract it from their parse time, as in latency.ts. The closed
 * loop counts the `job` frames the clients parsed. CPU of the servers, PostgreSQL and the machine comes
 * from /proc; what the set-up's PostgreSQL connections were doing (waiting for a lock, idle in a
 * transaction…) from pg_stat_activity, sampled every 25 ms.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { grouped, roundTo } from './lib/format.js';
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
const PHASE_MS = Math.max(1000, envNumber('BENCH_SCALE_PHASE_MS', 4000));
const IN_FLIGHT = Math.max(1, Math.floor(envNumber('BENCH_SCALE_INFLIGHT', 64)));
const PG_URL = process.env.BENCH_SCALE_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const PROFILE = envNumber('BENCH_PROFILE', 1) > 0;
const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const WINDOW_ORDER = ['A', 'B', 'C', 'C', 'B', 'A'] as const;
const WINDOW_MS = PHASE_MS / 2;
const WINDOW_WARM_MS = 500;
const WARMUP_CALLS = 300;
const DRAIN_MS = 5000;
const PROFILE_MS = 1500;
/** % of a core that other processes may use before the notes call the machine busy. */
const OTHER_CPU_QUIET = 10;
const CORES = os.availableParallelism();
/** Each PostgreSQL instance's pool (PgStore's default). */
const POOL_SIZE = 10;

type SetupKey = (typeof WINDOW_ORDER)[number];

interface Setup {
  key: SetupKey;
  label: string;
  /** The instance the clients stream from. */
  streams: OurServer;
  /** The instance the worker calls go to (the same one outside C). */
  worker: OurServer;
  instances: OurServer[];
  schema: string | null;
  /** One progress call for the i-th user's job, stamped with its send time. */
  send: (i: number) => Promise<number>;
  api: HttpClient;
}

interface LatencyTally {
  rate: number;
  ok: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  latencies: number[];
  roundTrips: number[];
}

interface ThroughputTally {
  measuredMs: number;
  ok: number;
  frames: number;
  errors: number;
  firstError: string | null;
  /** Accepted updates that had not reached the clients DRAIN_MS after a window's loop stopped. */
  missing: number;
  roundTrips: number[];
  latencies: number[];
  /** CPU, ms, per instance (streams first when there are two). */
  serverMs: number[];
  postgresMs: number;
  clientMs: number;
  senderMs: number;
  machineMs: number;
  backendTotals: Map<string, number>;
  backendSamples: number;
  profiles: ProfileSummary[];
}

interface Run {
  setup: Setup;
  latency: LatencyTally[];
  throughput: ThroughputTally;
}

const formatMs = (value: number) => `${roundTo(value, 2)} ms`;
const pct = (value: number) => `${Math.round(value)}%`;
const users = () => Array.from({ length: STREAMS }, (_, i) => `user-${i}`);
const append = (into: number[], values: Iterable<number>) => {
  for (const value of values) into.push(value);
};

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

/** The servers' URL: their connections carry the schema's name, to find them in pg_stat_activity. */
function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('application_name', schema);
  return url.toString();
}

const dropSchema = (schema: string) =>
  withPg((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

/**
 * Drops the schemas of interrupted runs (an interrupt leaves through process.exit, with no time to drop
 * them): the jt_bench_ schemas no connection names, so never those of a run still going.
 */
async function dropStaleSchemas(): Promise<string[]> {
  const { rows } = await withPg((client) =>
    client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace
        WHERE nspname LIKE 'jt\\_bench\\_%'
          AND nspname NOT IN (SELECT application_name FROM pg_stat_activity)`,
    ),
  );
  for (const { name } of rows) await dropSchema(name);
  return rows.map((row) => row.name);
}

/**
 * Samples what the set-up's busy PostgreSQL connections are doing (pg_stat_activity, every 25 ms) until
 * `stop()`: per state (a wait event, `running`, `idle in transaction`), the connections summed over samples.
 */
function sampleBackends(applicationName: string): {
  stop: () => Promise<{ totals: Map<string, number>; samples: number }>;
} {
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
      return { totals, samples };
    },
  };
}

/** Mean connections per state, busiest first. */
function meanBackends(tally: ThroughputTally): [string, number][] {
  return [...tally.backendTotals.entries()]
    .map(([what, count]) => [what, count / Math.max(1, tally.backendSamples)] as [string, number])
    .sort((x, y) => y[1] - x[1]);
}

const backendsMatching = (tally: ThroughputTally, match: (what: string) => boolean) =>
  meanBackends(tally).reduce((sum, [what, count]) => (match(what) ? sum + count : sum), 0);

function describeProfile(profile: ProfileSummary, areas = 8): string {
  const share = (ms: number) => pct((100 * ms) / Math.max(1, profile.busyMs));
  return `${profile.buckets
    .slice(0, areas)
    .map((bucket) => `${bucket.name} ${share(bucket.ms)}`)
    .join(', ')}`;
}

/** Time all CPUs spent in processes (user, nice, system) from /proc/stat, ms: not interrupts, not steal. */
function processCpuMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 4);
  return fields.reduce((sum, field) => sum + Number(field), 0) * 10;
}

/**
 * From now on, the CPU of processes that are not part of the benchmark (all processes' time minus the
 * servers, PostgreSQL, the SSE clients and this process), as % of one core: `otherSince()`.
 */
function cpuOfOthers(instances: OurServer[], clients: LoadClients): { otherSince: () => number } {
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
function closedLoopUntil(
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

async function startSetup(key: SetupKey): Promise<Omit<Setup, 'send' | 'api'>> {
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
async function prepare(base: Omit<Setup, 'send' | 'api'>, clients: LoadClients): Promise<Setup> {
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

async function latencyWindow(setup: Setup, clients: LoadClients, tally: LatencyTally): Promise<void> {
  await atRate(tally.rate, WINDOW_WARM_MS, IN_FLIGHT, setup.send);
  await sleep(100);
  await clients.latencyStart();
  const result = await atRate(tally.rate, WINDOW_MS, IN_FLIGHT, setup.send);
  await sleep(300);
  append(tally.latencies, await clients.latencyStop());
  append(tally.roundTrips, result.roundTrips);
  tally.ok += result.ok;
  tally.errors += result.errors;
  tally.firstError ??= result.firstError;
  tally.elapsedMs += result.elapsedMs;
}

/** Waits until the clients have parsed `frames` job frames; answers how many are still missing. */
async function drain(clients: LoadClients, frames: number): Promise<number> {
  const deadline = Date.now() + DRAIN_MS;
  let parsed = (await clients.counts()).jobs;
  while (parsed < frames && Date.now() < deadline) {
    await sleep(50);
    parsed = (await clients.counts()).jobs;
  }
  return frames - parsed;
}

async function throughputWindow(setup: Setup, clients: LoadClients, tally: ThroughputTally): Promise<void> {
  const framesBefore = (await clients.counts()).jobs;
  let ok = 0;
  let measuring = false;
  const loop = closedLoopUntil(IN_FLIGHT, setup.send, (status, roundTripMs) => {
    if (status >= 200 && status < 300) {
      ok++;
      if (measuring) tally.roundTrips.push(roundTripMs);
    } else {
      tally.errors++;
      tally.firstError ??= status === 0 ? 'connection error' : `HTTP ${status}`;
    }
  });
  await sleep(WINDOW_WARM_MS);
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
  await sleep(WINDOW_MS);
  measuring = false;
  tally.frames += (await clients.counts()).jobs - start.frames;
  tally.ok += ok - start.ok;
  tally.measuredMs += performance.now() - start.at;
  for (const [i, server] of setup.instances.entries()) {
    tally.serverMs[i] = (tally.serverMs[i] ?? 0) + server.cpuMs() - (start.servers[i] ?? 0);
  }
  tally.postgresMs += postgresCpuSince(start.postgres);
  tally.clientMs += clients.cpuMs() - start.clients;
  const sender = process.cpuUsage(start.sender);
  tally.senderMs += (sender.user + sender.system) / 1000;
  tally.machineMs += machineCpuMs().busy - start.machine;
  if (sampler) {
    const { totals, samples } = await sampler.stop();
    for (const [what, count] of totals)
      tally.backendTotals.set(what, (tally.backendTotals.get(what) ?? 0) + count);
    tally.backendSamples += samples;
  }
  append(tally.latencies, await clients.latencyStop());
  await loop.stop();
  tally.missing += await drain(clients, framesBefore + ok);
}

/** CPU profiles of the set-up's instances over PROFILE_MS of the closed loop, outside the measured windows. */
async function profileUnderLoad(setup: Setup, clients: LoadClients): Promise<ProfileSummary[]> {
  const framesBefore = (await clients.counts()).jobs;
  let ok = 0;
  const loop = closedLoopUntil(IN_FLIGHT, setup.send, (status) => {
    if (status >= 200 && status < 300) ok++;
  });
  await sleep(WINDOW_WARM_MS);
  await Promise.all(setup.instances.map((server) => server.profileStart()));
  await sleep(PROFILE_MS);
  const profiles: ProfileSummary[] = [];
  for (const server of setup.instances) profiles.push(await server.profileStop());
  await loop.stop();
  await drain(clients, framesBefore + ok);
  return profiles;
}

const emptyThroughput = (): ThroughputTally => ({
  measuredMs: 0,
  ok: 0,
  frames: 0,
  errors: 0,
  firstError: null,
  missing: 0,
  roundTrips: [],
  latencies: [],
  serverMs: [],
  postgresMs: 0,
  clientMs: 0,
  senderMs: 0,
  machineMs: 0,
  backendTotals: new Map(),
  backendSamples: 0,
  profiles: [],
});

async function main() {
  const startedAt = new Date().toISOString();
  const total = stopwatch();
  const log = (line: string) => console.log(`[scale-out ${(total() / 1000).toFixed(0)} s] ${line}`);
  const postgres = await requirePostgres();
  log(`${postgres} at ${new URL(PG_URL).host}`);
  const stale = await dropStaleSchemas();
  if (stale.length > 0)
    log(`dropped ${stale.length} schema(s) left by interrupted runs: ${stale.join(', ')}`);
  const clients = await LoadClients.start(2);
  const started: Omit<Setup, 'send' | 'api'>[] = [];
  const runs = new Map<SetupKey, Run>();
  let otherCpu = 0;
  try {
    const starting = await Promise.allSettled((['A', 'B', 'C'] as const).map((key) => startSetup(key)));
    for (const outcome of starting) if (outcome.status === 'fulfilled') started.push(outcome.value);
    const failure = starting.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    for (const base of started) {
      const setup = await prepare(base, clients);
      runs.set(setup.key, { setup, latency: [], throughput: emptyThroughput() });
      log(`${setup.key} ${setup.label}: ${STREAMS} streams open, ${WARMUP_CALLS} warm-up calls done`);
    }
    const run = (key: SetupKey) => runs.get(key) as Run;
    const instances = started.flatMap((base) => base.instances);
    const others = cpuOfOthers(instances, clients);

    for (const rate of RATES) {
      for (const key of ['A', 'B', 'C'] as const) {
        run(key).latency.push({
          rate,
          ok: 0,
          errors: 0,
          firstError: null,
          elapsedMs: 0,
          latencies: [],
          roundTrips: [],
        });
      }
      for (const key of WINDOW_ORDER) {
        const tally = run(key).latency.at(-1) as LatencyTally;
        await latencyWindow(run(key).setup, clients, tally);
        if (tally.errors > 0) throw new Error(`${key}: ${tally.errors} calls failed: ${tally.firstError}`);
      }
      for (const key of ['A', 'B', 'C'] as const) {
        const tally = run(key).latency.at(-1) as LatencyTally;
        log(
          `${key} @ ${rate}/s: achieved ${Math.round(tally.ok / (tally.elapsedMs / 1000))}/s, p50/p95/p99 ` +
            `${roundTo(percentile(tally.latencies, 50), 2)}/${roundTo(percentile(tally.latencies, 95), 2)}/` +
            `${roundTo(percentile(tally.latencies, 99), 2)} ms (${tally.latencies.length} samples), call round trip ` +
            `p50 ${roundTo(percentile(tally.roundTrips, 50), 2)} ms`,
        );
      }
    }

    for (const key of WINDOW_ORDER) {
      const { setup, throughput } = run(key);
      await throughputWindow(setup, clients, throughput);
      if (throughput.errors > 0)
        throw new Error(`${key}: ${throughput.errors} calls failed: ${throughput.firstError}`);
    }
    for (const key of ['A', 'B', 'C'] as const) {
      const t = run(key).throughput;
      const seconds = t.measuredMs / 1000;
      log(
        `${key} closed loop: ${Math.round(t.frames / seconds)} events/s delivered (${Math.round(t.ok / seconds)} ` +
          `calls/s accepted, ${t.missing} missing), call round trip p50 ${roundTo(percentile(t.roundTrips, 50), 2)} ms; ` +
          `CPU servers ${t.serverMs.map((ms) => pct(ms / 10 / seconds)).join(' + ')}, PostgreSQL ` +
          `${pct(t.postgresMs / 10 / seconds)}, machine ${pct(t.machineMs / 10 / seconds)} of ${CORES * 100}%` +
          (t.backendSamples > 0
            ? `; connections: ${meanBackends(t)
                .map(([what, count]) => `${what} ${roundTo(count, 2)}`)
                .join(', ')}`
            : ''),
      );
    }
    if (PROFILE) {
      for (const key of ['B', 'C'] as const) {
        const { setup, throughput } = run(key);
        throughput.profiles = await profileUnderLoad(setup, clients);
        for (const [i, profile] of throughput.profiles.entries()) {
          log(
            `${key} instance ${i + 1} profile: busy ${pct((100 * profile.busyMs) / profile.wallMs)}; ${describeProfile(profile)}`,
          );
        }
      }
    }
    otherCpu = others.otherSince();
    log(`other processes on the machine: ${pct(otherCpu)} of a core on average while measuring`);
  } finally {
    await clients.closeAll().catch(() => {});
    for (const base of started) for (const server of base.instances) await server.stop();
    for (const { setup } of runs.values()) setup.api.close();
    await clients.stop();
    for (const base of started)
      if (base.schema) await dropSchema(base.schema).catch((error) => console.error(error));
  }
  reportRuns(startedAt, total(), postgres, clients.pids.length, runs, otherCpu);
}

function reportRuns(
  startedAt: string,
  durationMs: number,
  postgres: string,
  clientProcesses: number,
  runs: Map<SetupKey, Run>,
  otherCpu: number,
): void {
  const a = runs.get('A') as Run;
  const b = runs.get('B') as Run;
  const c = runs.get('C') as Run;
  const latency = (run: Run, i: number) => {
    const tally = run.latency[i] as LatencyTally;
    return {
      rate: tally.rate,
      achieved: tally.ok / (tally.elapsedMs / 1000),
      samples: tally.latencies.length,
      p50: percentile(tally.latencies, 50),
      p95: percentile(tally.latencies, 95),
      p99: percentile(tally.latencies, 99),
      max: percentile(tally.latencies, 100),
      rttP50: percentile(tally.roundTrips, 50),
      rttP99: percentile(tally.roundTrips, 99),
    };
  };
  const closed = (run: Run) => {
    const t = run.throughput;
    const seconds = t.measuredMs / 1000;
    const events = Math.max(1, t.frames);
    const serverMs = t.serverMs.reduce((sum, ms) => sum + ms, 0);
    const machine = t.machineMs / 10 / seconds;
    return {
      delivered: t.frames / seconds,
      accepted: t.ok / seconds,
      missing: t.missing,
      rttP50: percentile(t.roundTrips, 50),
      rttP99: percentile(t.roundTrips, 99),
      p50: percentile(t.latencies, 50),
      p99: percentile(t.latencies, 99),
      serverCpu: t.serverMs.map((ms) => ms / 10 / seconds),
      postgresCpu: t.postgresMs / 10 / seconds,
      senderCpu: t.senderMs / 10 / seconds,
      clientCpu: t.clientMs / 10 / seconds,
      machineCpu: machine,
      restCpu: Math.max(0, machine - (serverMs + t.postgresMs + t.senderMs + t.clientMs) / 10 / seconds),
      serverUsPerEvent: (serverMs * 1000) / events,
      postgresUsPerEvent: (t.postgresMs * 1000) / events,
    };
  };
  const [ca, cb, cc] = [closed(a), closed(b), closed(c)];

  const latencyFigures = RATES.flatMap((rate, i) =>
    (['p50', 'p95', 'p99'] as const).flatMap((p) => [
      figure(`${p} at ${rate}/s, one PostgreSQL instance`, roundTo(latency(b, i)[p], 2), 'ms', {
        baseline: { name: 'one SQLite instance', value: roundTo(latency(a, i)[p], 2) },
      }),
      figure(
        `${p} at ${rate}/s, two instances (streams on 1, worker on 2)`,
        roundTo(latency(c, i)[p], 2),
        'ms',
        {
          baseline: { name: 'one PostgreSQL instance', value: roundTo(latency(b, i)[p], 2) },
        },
      ),
    ]),
  );
  const throughputFigures: Figure[] = [
    figure('events/s delivered, two instances', Math.round(cc.delivered), 'events/s', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(cb.delivered) },
    }),
    figure('events/s delivered, one PostgreSQL instance', Math.round(cb.delivered), 'events/s', {
      baseline: { name: 'one SQLite instance', value: Math.round(ca.delivered) },
    }),
    figure(
      `worker call round trip p50 at ${IN_FLIGHT} in flight, two instances`,
      roundTo(cc.rttP50, 2),
      'ms',
      {
        baseline: { name: 'one PostgreSQL instance', value: roundTo(cb.rttP50, 2) },
      },
    ),
    figure('server CPU per event, two instances (both)', Math.round(cc.serverUsPerEvent), 'µs', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(cb.serverUsPerEvent) },
    }),
    figure('PostgreSQL CPU per event, two instances', Math.round(cc.postgresUsPerEvent), 'µs', {
      baseline: { name: 'one PostgreSQL instance', value: Math.round(cb.postgresUsPerEvent) },
    }),
  ];

  const params: Record<string, string | number> = {
    streamsPerSetup: STREAMS,
    rates: RATES.join(','),
    measuredMsPerSetupAndPhase: PHASE_MS,
    windows: `${WINDOW_ORDER.join(' ')}, ${WINDOW_MS} ms each after ${WINDOW_WARM_MS} ms unmeasured`,
    inFlight: IN_FLIGHT,
    postgres,
    clientProcesses,
    otherProcessesCpu: `${pct(otherCpu)} of a core`,
  };
  for (const run of [a, b, c]) {
    const { key, label } = run.setup;
    for (const [i] of run.latency.entries()) {
      const l = latency(run, i);
      params[`${key}@${l.rate}`] =
        `${label}: achieved ${Math.round(l.achieved)}/s, ${l.samples} samples, max ${formatMs(l.max)}, ` +
        `call rtt p50/p99 ${roundTo(l.rttP50, 2)}/${roundTo(l.rttP99, 2)} ms`;
    }
    const t = closed(run);
    params[`${key} closed loop`] =
      `${label}: ${Math.round(t.delivered)} events/s delivered, ${Math.round(t.accepted)} calls/s accepted, ` +
      `${t.missing} missing after the drain, call rtt p50/p99 ${roundTo(t.rttP50, 2)}/${roundTo(t.rttP99, 2)} ms, ` +
      `latency p50/p99 ${roundTo(t.p50, 2)}/${roundTo(t.p99, 2)} ms, CPU servers ${t.serverCpu.map(pct).join(' + ')} ` +
      `(${Math.round(t.serverUsPerEvent)} µs/event), PostgreSQL ${pct(t.postgresCpu)} ` +
      `(${Math.round(t.postgresUsPerEvent)} µs/event), sender ${pct(t.senderCpu)}, clients ` +
      `${pct(t.clientCpu)}, the rest ${pct(t.restCpu)}, machine ${pct(t.machineCpu)} of ${CORES * 100}%` +
      (run.throughput.backendSamples > 0
        ? `; PostgreSQL connections (mean): ${meanBackends(run.throughput)
            .map(([what, count]) => `${what} ${roundTo(count, 2)}`)
            .join(', ')}`
        : '');
  }

  const light = 0;
  const modest = RATES.length - 1;
  const added = (p: 'p50' | 'p95' | 'p99', i: number) => formatMs(latency(c, i)[p] - latency(b, i)[p]);
  const notes: string[] = [
    `Same machine for everything: ${CORES} cores shared by the server instances, ` +
      `${postgres}, the sender and ${clientProcesses} SSE client processes. In C's closed loop the machine was ` +
      `${pct(cc.machineCpu)} busy of ${CORES * 100}% (servers ${cc.serverCpu.map(pct).join(' + ')}, PostgreSQL ` +
      `${pct(cc.postgresCpu)}, sender ${pct(cc.senderCpu)}, clients ${pct(cc.clientCpu)}, the rest ` +
      `${pct(cc.restCpu)}: kernel network work, VM steal, other processes): these figures describe this box, not two instances on two machines. ` +
      `Processes outside the benchmark used ${pct(otherCpu)} of a core on average over all measured phases` +
      (otherCpu > OTHER_CPU_QUIET
        ? ': more than a quiet machine. The PostgreSQL figures, whose ceiling is a chain of round trips ' +
          'through busy processes, drop first when the cores are shared; rerun on a quiet machine to quote them.'
        : '.'),
    `Added latency of the second instance (C − B): ${RATES.map(
      (rate, i) => `at ${rate}/s p50 ${added('p50', i)}, p95 ${added('p95', i)}, p99 ${added('p99', i)}`,
    ).join('; ')}. The worker's own call (its round trip, p50/p99) took ${RATES.map(
      (rate, i) =>
        `${roundTo(latency(c, i).rttP50, 2)}/${roundTo(latency(c, i).rttP99, 2)} ms in C against ` +
        `${roundTo(latency(b, i).rttP50, 2)}/${roundTo(latency(b, i).rttP99, 2)} ms in B at ${rate}/s`,
    ).join(
      ', ',
    )}: where the call's own tail is as long, the delay is queueing on the write side, not in the fan-out. ` +
      'In B the writing instance reads the log itself before it answers the worker; in C ' +
      'instance 1 hears the NOTIFY sent at commit and reads the log with one query for all its streams. ' +
      'Versus SQLite (A), which publishes before it writes, PostgreSQL costs the transaction first: at ' +
      `${RATES[light]}/s the worker's call took p50 ${formatMs(latency(b, light).rttP50)} on B against ` +
      `${formatMs(latency(a, light).rttP50)} on A (six statements in sequence: BEGIN, the rows' ` +
      'SELECT … FOR UPDATE, one UPDATE of the rows, one statement for the counter, the events and ' +
      'pg_notify, COMMIT, then the log read, each a round trip through the server’s event loop).',
  ];
  if (b.throughput.backendSamples > 0) {
    const lockWait = backendsMatching(b.throughput, (what) => what.startsWith('Lock:'));
    const idle = backendsMatching(b.throughput, (what) => what.startsWith('idle in transaction'));
    const wal = backendsMatching(b.throughput, (what) => what.startsWith('IO:WAL'));
    const writer = b.throughput.profiles[0];
    notes.push(
      `Where the closed loop's ceiling comes from (B, ${IN_FLIGHT} calls in flight, ` +
        `${Math.round(cb.delivered)} events/s): progress calls that arrive while a batch commits go ` +
        'together in the next transaction (group commit), so the commits, which take turns on the one-row ' +
        'event counter from the statement that appends the events to COMMIT, are few and carry many ' +
        `events. Of the instance's ${POOL_SIZE} pooled connections, on average ${roundTo(lockWait, 1)} were ` +
        `waiting for a lock, ${roundTo(idle, 1)} idle inside a transaction waiting for the server's next ` +
        `statement and ${roundTo(wal, 1)} flushing WAL; PostgreSQL used ${pct(cb.postgresCpu)} of a core. The ` +
        `writing instance used ${pct(cb.serverCpu[0] ?? 0)} of a core` +
        (writer ? ` (its profile: ${describeProfile(writer, 4)} of its busy time)` : '') +
        `: the limit is that one process's HTTP, transaction and delivery work on ${CORES} cores shared ` +
        'with everything else, not the disk. A second instance takes the worker calls off the streaming one ' +
        `and adds its own log reads (instance 1: ${pct(cc.serverCpu[0] ?? 0)} of a core).`,
    );
  }
  const modestRate = RATES[modest] as number;
  notes.push(
    'Only the single-update route (POST /api/worker/jobs/:id/progress) is driven; each call joins the ' +
      `next batch its instance commits. At ${modestRate}/s one PostgreSQL instance runs at ${pct((100 * modestRate) / Math.max(1, cb.delivered))} ` +
      `of its closed-loop ceiling here and two at ${pct((100 * modestRate) / Math.max(1, cc.delivered))} of ` +
      'theirs, so that phase’s p95/p99 are mostly queueing and move from run to run; the ' +
      `${RATES[light]}/s phase shows the path itself.`,
  );
  for (const run of [a, b, c]) {
    for (const [i] of run.latency.entries()) {
      const l = latency(run, i);
      if (l.achieved < 0.95 * l.rate) {
        notes.push(
          `${run.setup.key} (${run.setup.label}) reached only ${Math.round(l.achieved)}/s of ${l.rate}/s offered.`,
        );
      }
    }
    if (run.throughput.missing !== 0) {
      notes.push(
        `${run.setup.key} (${run.setup.label}): ${run.throughput.missing} accepted updates had not reached the ` +
          `clients ${DRAIN_MS / 1000} s after the loop stopped.`,
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
      `${grouped(cc.delivered)} events/s to streams on instance 1 from worker`,
      `calls on instance 2, against ${grouped(cb.delivered)}/s for one PostgreSQL`,
      `instance and ${grouped(ca.delivered)}/s for one SQLite instance. At`,
      `${RATES[light]} updates/s a progress update reached a client ${formatMs(latency(c, light).p50)} (p50)`,
      `after the worker sent it across two instances, against ${formatMs(latency(b, light).p50)} on one`,
      `PostgreSQL instance and ${formatMs(latency(a, light).p50)} on SQLite.`,
      '\n\nPhysical limits: on PostgreSQL each progress call is one transaction that commits (a WAL flush)',
      'before it is published, and every commit takes one counter row until COMMIT, so the write rate is',
      'bounded by how fast one transaction at a time gets through its last statements; a second instance',
      `adds a NOTIFY and a log read before its streams see the event. Everything runs on one ${CORES}-core`,
      'machine, the database and the load generator included.',
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
