import { grouped, roundTo } from '../lib/format.js';
import { type Figure, figure, percentile, report } from '../lib/report.js';
import {
  CORES,
  DRAIN_MS,
  formatMs,
  IN_FLIGHT,
  type LatencyTally,
  OTHER_CPU_QUIET,
  PHASE_MS,
  POOL_SIZE,
  pct,
  RATES,
  type Run,
  type SetupKey,
  STREAMS,
  WINDOW_MS,
  WINDOW_ORDER,
  WINDOW_WARM_MS,
} from './config.js';
import { backendsMatching, meanBackends } from './postgres.js';
import { describeProfile } from './setups.js';

export function reportRuns(
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
    ].join(' '),
    notes,
  });
}
