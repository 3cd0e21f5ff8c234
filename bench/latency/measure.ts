/** Latency benchmark: counts, and one server measured phase by phase (rate, latency, CPU, event loop delay). */
import { roundTo } from '../lib/format.js';
import { envNumber, envRates, percentile } from '../lib/report.js';
import {
  atRate,
  closedLoop,
  epochNow,
  type LoadClients,
  machineCpuMs,
  type ServerChild,
  sleep,
} from '../lib/sse-harness.js';
import type { ProfileSummary } from '../lib/sse-probe.js';

export const CONNECTIONS = envNumber('BENCH_LATENCY_CONNECTIONS', 1000);
export const RATES = envRates('BENCH_LATENCY_RATES', '200,2000,10000');
/** One measured window; each rate runs PAIRS windows on each server, the two servers taking turns. */
export const PHASE_MS = envNumber('BENCH_LATENCY_PHASE_MS', 1500);
export const PAIRS = Math.max(1, Math.round(envNumber('BENCH_LATENCY_PAIRS', 5)));
export const WARM_MS = 500;
export const IN_FLIGHT = Math.max(1, envNumber('BENCH_LATENCY_INFLIGHT', 64));
export const PROFILE = envNumber('BENCH_PROFILE', 1) > 0;
export const PROFILE_MS = 2000;
/** Updates per call in the extra phase at the top rate through the batch progress route (0 or 1: none). */
export const BATCH = Math.floor(envNumber('BENCH_LATENCY_BATCH', 20));
export const WARMUP_CALLS = 4000;
export const TOP_RATE = Math.max(...RATES);
export const TARGET_RATE = 10_000;
export const TARGET_P99_MS = 5;

export interface Target {
  server: ServerChild;
  secret: string;
  /** One progress call for the i-th stream's user, carrying the send time. */
  send(i: number): Promise<number>;
  /** One call carrying `size` updates, for streams i·size … i·size + size − 1 (batch progress). */
  sendMany(i: number, size: number): Promise<number>;
  /** Closes idle keep-alive connections (before a window: the other server had the last turn). */
  dropIdle(): void;
}

export interface PhaseResult {
  rate: number;
  /** Updates per worker call. */
  batch: number;
  achieved: number;
  ok: number;
  errors: number;
  firstError: string | null;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  rttP50: number;
  rttP99: number;
  /** Share of one core, %. */
  serverCpu: number;
  serverUsPerCall: number;
  senderCpu: number;
  clientCpu: number;
  /** All processes on the machine, % of one core (200% = both cores busy). */
  machineCpu: number;
  eldP99: number;
  eldMax: number;
  /** Turns of the server's event loop that held it ≥ 20 ms, per second, and their mean length. */
  stallsPerSec: number;
  stallMeanMs: number;
}

export const users = (count: number) => Array.from({ length: count }, (_, i) => `user-${i}`);
/** A progress update stamped with the send time, which the client subtracts from its parse time. */
export const progressUpdate = (leaseToken: string) => ({
  leaseToken,
  progress: 50,
  message: `t=${epochNow().toFixed(3)}`,
  leaseMs: 3_600_000,
});
export const progressBody = (leaseToken: string) => JSON.stringify(progressUpdate(leaseToken));

export async function runPhase(
  target: Target,
  clients: LoadClients,
  rate: number,
  batch = 1,
): Promise<PhaseResult> {
  const { server } = target;
  const send = batch === 1 ? target.send : (i: number) => target.sendMany(i, batch);
  const callRate = rate / batch;
  // As many updates outstanding as without batching: a batching worker keeps a few calls in flight.
  const inFlight = Math.max(2, Math.ceil(IN_FLIGHT / batch));
  await atRate(callRate, WARM_MS, inFlight, send);
  await sleep(100);
  await clients.latencyStart();
  await server.eld(true);
  const cpu = {
    server: server.cpuMs(),
    clients: clients.cpuMs(),
    sender: process.cpuUsage(),
    machine: machineCpuMs().busy,
  };
  const result = await atRate(callRate, PHASE_MS, inFlight, send);
  const updates = result.ok * batch;
  const seconds = result.elapsedMs / 1000;
  const serverCpuMs = server.cpuMs() - cpu.server;
  const clientCpuMs = clients.cpuMs() - cpu.clients;
  const machineMs = machineCpuMs().busy - cpu.machine;
  const sender = process.cpuUsage(cpu.sender);
  const stats = await server.stats();
  await sleep(300);
  const latencies = await clients.latencyStop();
  return {
    rate,
    batch,
    achieved: updates / seconds,
    ok: updates,
    errors: result.errors,
    firstError: result.firstError,
    delivered: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    min: percentile(latencies, 0),
    rttP50: percentile(result.roundTrips, 50),
    rttP99: percentile(result.roundTrips, 99),
    serverCpu: serverCpuMs / 10 / seconds,
    serverUsPerCall: (serverCpuMs * 1000) / Math.max(1, updates),
    senderCpu: (sender.user + sender.system) / 1e4 / seconds,
    clientCpu: clientCpuMs / 10 / seconds,
    machineCpu: machineMs / 10 / seconds,
    eldP99: stats.eldP99,
    eldMax: stats.eldMax,
    stallsPerSec: stats.stalls / seconds,
    stallMeanMs: stats.stalls > 0 ? stats.stallMsTotal / stats.stalls : 0,
  };
}

/** Opens the streams on one server and warms its progress path; the other server's streams stay open. */
export async function prepare(
  target: Target,
  clients: LoadClients,
  log: (line: string) => void,
): Promise<void> {
  const { server } = target;
  const opened = await clients.open(server.port, users(CONNECTIONS), target.secret);
  if (opened.ready !== CONNECTIONS) {
    throw new Error(
      `${server.name}: ${opened.ready}/${CONNECTIONS} streams opened: ${opened.errors.join('; ')}`,
    );
  }
  await closedLoop(WARMUP_CALLS, 32, async (i) => {
    await target.send(i);
  });
  log(`${server.name}: ${CONNECTIONS} streams open, warmed up`);
}

/** The rates measured, in order: each offered rate one update per call, then the top rate in batches. */
export const PLAN = [
  ...RATES.map((rate) => ({ rate, batch: 1 })),
  ...(BATCH > 1 ? [{ rate: TOP_RATE, batch: BATCH }] : []),
];

/** One window at `rate` on one server, checked and logged. */
export async function window(
  target: Target,
  clients: LoadClients,
  { rate, batch }: { rate: number; batch: number },
  log: (line: string) => void,
): Promise<PhaseResult> {
  const { server } = target;
  target.dropIdle();
  const phase = await runPhase(target, clients, rate, batch);
  if (phase.errors > 0) throw new Error(`${server.name}: ${phase.errors} calls failed: ${phase.firstError}`);
  log(
    `${server.name} @ ${rate}/s${batch > 1 ? ` in calls of ${batch}` : ''}: achieved ${Math.round(phase.achieved)}/s, p50 ${roundTo(phase.p50, 2)} ms, ` +
      `p99 ${roundTo(phase.p99, 2)} ms, max ${roundTo(phase.max, 2)} ms (${phase.delivered}/${phase.ok} delivered; ` +
      `server CPU ${Math.round(phase.serverCpu)}%, loop delay max ${roundTo(phase.eldMax, 2)} ms; ` +
      `whole machine ${Math.round(phase.machineCpu)}% of 200%)`,
  );
  return phase;
}

/** After the windows: the loop's longest hold after a burst of one update per job, and a CPU profile. */
export async function afterWindows(
  target: Target,
  log: (line: string) => void,
): Promise<{ profile: ProfileSummary | null; blockAfterBurstMs: number }> {
  const { server } = target;
  // One update on every job, then a quiet second and a half with nothing arriving: the longest the event
  // loop was then held is what a burst of updates costs the loop afterwards (for jobtracker: the flush
  // that commits them).
  await sleep(1500);
  await closedLoop(CONNECTIONS, 32, async (i) => {
    await target.send(i);
  });
  await server.eld(true);
  await sleep(1500);
  const quiet = await server.stats();
  await server.eld(false);
  log(
    `${server.name}: after one update on each of ${CONNECTIONS} jobs, the loop was held up to ${roundTo(quiet.eldMax, 2)} ms`,
  );
  let profile: ProfileSummary | null = null;
  if (PROFILE) {
    await server.profileStart();
    await atRate(TOP_RATE, PROFILE_MS, IN_FLIGHT, target.send);
    profile = await server.profileStop();
  }
  return { profile, blockAfterBurstMs: quiet.eldMax };
}
