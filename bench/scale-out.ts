/**
 * Scale-out: events/s and added latency across two API instances on one PostgreSQL database, against one
 * instance (and one SQLite instance for context). Pieces in bench/scale-out/; method, counts
 * (BENCH_SCALE_*) and physical limits: bench/notes/scale-out.md.
 */
import { roundTo } from './lib/format.js';
import { percentile, stopwatch } from './lib/report.js';
import { LoadClients } from './lib/sse-harness.js';
import { createTeardown, exitWhenDone } from './lib/teardown.js';
import {
  CORES,
  emptyThroughput,
  type LatencyTally,
  PG_URL,
  PROFILE,
  pct,
  RATES,
  type Run,
  type Setup,
  type SetupKey,
  STREAMS,
  WARMUP_CALLS,
  WINDOW_ORDER,
} from './scale-out/config.js';
import { dropSchema, dropStaleSchemas, meanBackends, requirePostgres } from './scale-out/postgres.js';
import { reportRuns } from './scale-out/report.js';
import { cpuOfOthers, describeProfile, prepare, startSetup } from './scale-out/setups.js';
import { latencyWindow, profileUnderLoad, throughputWindow } from './scale-out/windows.js';

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
  const teardown = createTeardown();
  // Steps run last-registered first: streams closed, servers stopped, clients ended, schemas dropped.
  teardown.add(async () => {
    for (const base of started)
      if (base.schema) await dropSchema(base.schema).catch((error) => console.error(error));
  });
  teardown.add(() => clients.stop());
  teardown.add(() => {
    for (const { setup } of runs.values()) setup.api.close();
  });
  teardown.add(async () => {
    for (const base of started) for (const server of base.instances) await server.stop();
  });
  teardown.add(() => clients.closeAll());
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
    await teardown.run();
  }
  reportRuns(startedAt, total(), postgres, clients.pids.length, runs, otherCpu);
}

exitWhenDone(main);
