/**
 * Benchmark 4: update latency, worker progress call to client parse, against a bare node:http relay.
 * Method, counts (BENCH_LATENCY_*) and physical limits: bench/notes/latency.md.
 */
import {
  afterWindows,
  BATCH,
  CONNECTIONS,
  IN_FLIGHT,
  PAIRS,
  PHASE_MS,
  type PhaseResult,
  PLAN,
  PROFILE_MS,
  prepare,
  progressBody,
  progressUpdate,
  RATES,
  TARGET_P99_MS,
  TARGET_RATE,
  type Target,
  TOP_RATE,
  users,
  WARM_MS,
  window,
} from './latency/measure.js';
import { grouped, roundTo } from './lib/format.js';
import { median, paired, spread } from './lib/pairs.js';
import { figure, report, stopwatch } from './lib/report.js';
import { HttpClient, LoadClients, runningJobs, startBareServer, startOurServer } from './lib/sse-harness.js';
import type { ProfileSummary } from './lib/sse-probe.js';
import { createTeardown, exitWhenDone } from './lib/teardown.js';

async function main() {
  const startedAt = new Date().toISOString();
  const total = stopwatch();
  const log = (line: string) => console.log(`[latency ${(total() / 1000).toFixed(0)} s] ${line}`);
  // Both servers hold their streams for the whole run (2 × CONNECTIONS sockets on the clients' side).
  const clients = await LoadClients.start(Math.max(2, Math.ceil((2 * CONNECTIONS) / 8000)));
  const teardown = createTeardown();
  teardown.add(() => clients.stop());
  try {
    // ---- jobtracker ----
    const ours = await startOurServer();
    const oursApi = new HttpClient(ours.port, IN_FLIGHT);
    const stopOurs = teardown.add(async () => {
      await ours.stop();
      oursApi.close();
    });
    const jobs = await runningJobs(oursApi, ours, users(CONNECTIONS), 'bench.latency');
    const headers = { authorization: `Bearer ${ours.workerKey}`, 'content-type': 'application/json' };
    const oursTarget: Target = {
      server: ours,
      dropIdle: () => oursApi.dropIdle(),
      secret: ours.secret,
      send: (i) => {
        const job = jobs[i % jobs.length] as (typeof jobs)[0];
        return oursApi
          .request('POST', `/api/worker/jobs/${job.id}/progress`, headers, progressBody(job.leaseToken))
          .then((answer) => answer.status);
      },
      sendMany: (i, size) => {
        const updates = Array.from({ length: size }, (_, k) => {
          const job = jobs[(i * size + k) % jobs.length] as (typeof jobs)[0];
          return { id: job.id, ...progressUpdate(job.leaseToken) };
        });
        return oursApi
          .request('POST', '/api/worker/progress', headers, JSON.stringify({ updates }))
          .then((answer) => answer.status);
      },
    };
    await prepare(oursTarget, clients, log);
    // The bare relay writes the job frame jobtracker delivered, so both write frames of the same size.
    const sample = await clients.sampleFrame();
    if (!sample) throw new Error('no job frame was delivered by jobtracker');
    const bare = await startBareServer(sample);

    // ---- bare node:http relay ----
    const bareApi = new HttpClient(bare.port, IN_FLIGHT);
    const stopBare = teardown.add(async () => {
      await bare.stop();
      bareApi.close();
    });
    const bareHeaders = { 'content-type': 'application/json' };
    const bareTarget: Target = {
      server: bare,
      dropIdle: () => bareApi.dropIdle(),
      secret: bare.secret,
      send: (i) =>
        bareApi
          .request('POST', `/publish/user-${i % CONNECTIONS}`, bareHeaders, progressBody('lease'))
          .then((answer) => answer.status),
      sendMany: (i, size) => {
        const updates = Array.from({ length: size }, (_, k) => ({
          id: `user-${(i * size + k) % CONNECTIONS}`,
          ...progressUpdate('lease'),
        }));
        return bareApi
          .request('POST', '/publish-many', bareHeaders, JSON.stringify({ updates }))
          .then((answer) => answer.status);
      },
    };
    await prepare(bareTarget, clients, log);

    // Windows: for each rate, the two servers take turns (ABBA across pairs, so drift cancels out).
    const windows = PLAN.map(() => ({ ours: [] as PhaseResult[], bare: [] as PhaseResult[] }));
    for (let pair = 0; pair < PAIRS; pair++) {
      for (const [i, step] of PLAN.entries()) {
        const turn = windows[i] as (typeof windows)[0];
        const order = pair % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const);
        for (const side of order) {
          turn[side].push(await window(side === 'ours' ? oursTarget : bareTarget, clients, step, log));
        }
      }
      log(`pair ${pair + 1}/${PAIRS} done`);
    }
    // The window whose p99 is its rate's median stands for the rate in the notes.
    const representative = (list: PhaseResult[]) => {
      const middle = median(list.map((p) => p.p99));
      return list.reduce((best, p) => (Math.abs(p.p99 - middle) < Math.abs(best.p99 - middle) ? p : best));
    };
    const oursAfter = await afterWindows(oursTarget, log);
    await stopOurs();
    const bareAfter = await afterWindows(bareTarget, log);
    await stopBare();
    const oursRun = { phases: windows.map((w) => representative(w.ours)), ...oursAfter };
    const bareRun = { phases: windows.map((w) => representative(w.bare)), ...bareAfter };

    // ---- report ----
    const pairedOf = (i: number, pick: (p: PhaseResult) => number) =>
      paired(
        (windows[i] as (typeof windows)[0]).ours.map(pick),
        (windows[i] as (typeof windows)[0]).bare.map(pick),
      );
    const spreads: Record<string, string> = {};
    const figures = PLAN.flatMap(({ rate, batch }, i) => {
      const atTarget = rate === TARGET_RATE && batch === 1;
      const label = `${rate.toLocaleString('en-US')}/s${batch > 1 ? ` (${batch} per call)` : ''}`;
      const one = (
        name: string,
        pick: (p: PhaseResult) => number,
        unit: string,
        digits: number,
        extra = {},
      ) => {
        const p = pairedOf(i, pick);
        spreads[name] = spread(p);
        return {
          ...figure(name, roundTo(p.value, digits), unit, {
            baseline: { name: 'bare relay', value: roundTo(p.baseline, digits) },
            ...extra,
          }),
          ratio: p.ratio,
        };
      };
      const p99 = pairedOf(i, (p) => p.p99);
      const achieved = pairedOf(i, (p) => p.achieved);
      return [
        one(`p50 at ${label}`, (p) => p.p50, 'ms', 2),
        one(
          `p99 at ${label}`,
          (p) => p.p99,
          'ms',
          2,
          atTarget
            ? {
                target: `≤ 1.5× bare (same run); ≤ ${TARGET_P99_MS} ms on a quiet machine`,
                met: p99.ratio <= 1.5,
                ...(p99.ratio <= 1.5
                  ? {}
                  : {
                      reason:
                        `At ${label} the server used ${Math.round(median(windows[i]?.ours.map((p) => p.serverUsPerCall) ?? []))} µs of CPU ` +
                        `per update (bare ${Math.round(median(windows[i]?.bare.map((p) => p.serverUsPerCall) ?? []))} µs) on one event loop, so calls queue.`,
                    }),
              }
            : {},
        ),
        one(
          `achieved rate at ${label} offered`,
          (p) => p.achieved,
          'updates/s',
          0,
          atTarget
            ? {
                target: '≥ 0.8× bare (same run)',
                met: achieved.ratio >= 0.8,
                ...(achieved.ratio >= 0.8
                  ? {}
                  : {
                      reason: `The server's CPU per update caps one event loop near ${grouped(1e6 / median(windows[i]?.ours.map((p) => p.serverUsPerCall) ?? []))} updates/s, on a core shared with sender and clients.`,
                    }),
              }
            : {},
        ),
      ];
    });
    const params: Record<string, string | number> = {
      connections: CONNECTIONS,
      rates: RATES.join(','),
      windowMs: PHASE_MS,
      warmMsPerWindow: WARM_MS,
      windowPairs: PAIRS,
      maxInFlight: IN_FLIGHT,
      batchPerCall: Math.max(BATCH, 1),
      clientProcesses: clients.pids.length,
    };
    for (const [name, run] of [
      ['ours', oursRun],
      ['bare', bareRun],
    ] as const) {
      for (const phase of run.phases) {
        params[`${name}@${phase.rate}${phase.batch > 1 ? `x${phase.batch}` : ''}`] =
          `achieved ${Math.round(phase.achieved)}/s, delivered ${phase.delivered}/${phase.ok}, ` +
          `max ${roundTo(phase.max, 2)} ms, call rtt p50/p99 ${roundTo(phase.rttP50, 2)}/${roundTo(phase.rttP99, 2)} ms, ` +
          `server CPU ${Math.round(phase.serverCpu)}% (${Math.round(phase.serverUsPerCall)} µs/update), ` +
          `loop delay p99/max ${roundTo(phase.eldP99, 2)}/${roundTo(phase.eldMax, 2)} ms, ` +
          `${roundTo(phase.stallsPerSec, 1)} stalls ≥ 20 ms/s (mean ${roundTo(phase.stallMeanMs, 1)} ms), ` +
          `sender ${Math.round(phase.senderCpu)}%, clients ${Math.round(phase.clientCpu)}%, ` +
          `machine ${Math.round(phase.machineCpu)}% of 200%`;
      }
    }
    for (const [name, text] of Object.entries(spreads)) params[`ratio per pair, ${name}`] = text;
    const notes: string[] = [
      `Windows interleaved: each rate ran ${PAIRS} windows of ${PHASE_MS / 1000} s on each server, the two taking turns ` +
        '(both held their streams throughout); every figure is the median of its windows, every ratio the median ' +
        'of the per-pair ratios (the spread per figure is in the parameters).',
    ];
    const top = oursRun.phases.find((phase) => phase.rate === TARGET_RATE && phase.batch === 1);
    const bareTop = bareRun.phases.find((phase) => phase.rate === TARGET_RATE && phase.batch === 1);
    if (CONNECTIONS < 5000 || PHASE_MS < 2000) {
      notes.push(
        `Default counts (${CONNECTIONS} streams, ${PHASE_MS / 1000} s windows) to fit the time budget; the issue's ` +
          'figure uses BENCH_LATENCY_CONNECTIONS=5000 BENCH_LATENCY_PHASE_MS=2000.',
      );
    }
    const sqliteShare = (profile: ProfileSummary | null) =>
      profile
        ? (100 *
            profile.buckets.filter((b) => /drizzle|libsql/i.test(b.name)).reduce((sum, b) => sum + b.ms, 0)) /
          Math.max(1, profile.busyMs)
        : Number.NaN;
    if (top && bareTop && !(top.p99 <= TARGET_P99_MS && top.achieved >= 0.95 * TARGET_RATE)) {
      const capacity = 1e6 / top.serverUsPerCall;
      notes.push(
        `p99 at 10,000/s missed. Throughput: the server took ${grouped(top.achieved)} ` +
          `progress calls/s (bare relay ${grouped(bareTop.achieved)}/s) at ` +
          `${Math.round(top.serverCpu)}% of a core and ${Math.round(top.serverUsPerCall)} µs of CPU per call ` +
          `(bare ${Math.round(bareTop.serverUsPerCall)} µs), a ceiling near ` +
          `${grouped(capacity)} calls/s for one event loop; the worker call's round ` +
          `trip was p50/p99 ${roundTo(top.rttP50, 2)}/${roundTo(top.rttP99, 2)} ms. The sender ` +
          `(${Math.round(top.senderCpu)}% of a core) and the SSE clients (${Math.round(top.clientCpu)}%) ` +
          `share the 2 cores with it; the whole machine was ${Math.round(top.machineCpu)}% busy of 200% ` +
          `(${Math.max(0, Math.round(top.machineCpu - top.serverCpu - top.senderCpu - top.clientCpu))}% ` +
          'in other processes and the kernel).',
      );
    }
    const missedP99 = oursRun.phases.filter((phase) => phase.p99 > TARGET_P99_MS);
    if (missedP99.length > 0) {
      const perRate = (run: { phases: PhaseResult[] }) =>
        run.phases
          .map(
            (phase) =>
              `${roundTo(phase.eldMax, 2)} ms at ${phase.rate}/s${phase.batch > 1 ? ` ×${phase.batch}` : ''}`,
          )
          .join(', ');
      const sqlite = oursRun.profile
        ? ` SQLite (drizzle-orm + libsql) was ${Math.round(sqliteShare(oursRun.profile))}% of the server's CPU in the profile.`
        : '';
      notes.push(
        `Event loop: jobtracker's longest event loop delay was ${perRate(oursRun)} (bare relay: ` +
          `${perRate(bareRun)}). After one progress update on each of the ${CONNECTIONS.toLocaleString('en-US')} ` +
          `jobs and nothing else arriving, its event loop was held ${roundTo(oursRun.blockAfterBurstMs, 2)} ms at ` +
          `once (bare relay ${roundTo(bareRun.blockAfterBurstMs, 2)} ms). The once-a-second progress flush is ` +
          'the only write due then; it is written outside the engine lock in slices of 100 rows that yield ' +
          'to the event loop (libsql blocks the thread while a statement runs), which alone holds the loop ' +
          'at most 5–9 ms for 1,000 jobs (measured by the engine on its own), so the rest of this stall is ' +
          `not the row writes and is not attributed yet (a GC after the burst and the commit's fsync are candidates).${sqlite}`,
      );
    }
    const batched = oursRun.phases.find((phase) => phase.batch > 1);
    const bareBatched = bareRun.phases.find((phase) => phase.batch > 1);
    if (notes.length > (CONNECTIONS < 5000 || PHASE_MS < 2000 ? 2 : 1)) {
      notes.push(
        'What would fix it: move SQLite writes to a worker thread (the driver is synchronous, so even the ' +
          'sliced flush and each commit run on the event loop), and spend fewer µs per worker call in the engine ' +
          '(the call is answered before Hono, so what is left is the engine, the flush and the two writes; see the profile)' +
          (batched && bareBatched
            ? `. Batching is measured above: ${batched.batch} updates per call reached ` +
              `${grouped(batched.achieved)} updates/s at ` +
              `${Math.round(batched.serverUsPerCall)} µs of server CPU each (bare ` +
              `${Math.round(bareBatched.serverUsPerCall)} µs), p99 ${roundTo(batched.p99, 2)} ms (bare ` +
              `${roundTo(bareBatched.p99, 2)} ms).`
            : '.'),
      );
    }
    if (oursRun.profile) {
      const p = oursRun.profile;
      const share = (ms: number) => `${((100 * ms) / Math.max(1, p.busyMs)).toFixed(0)}%`;
      notes.push(
        `jobtracker CPU profile at ${TOP_RATE.toLocaleString('en-US')}/s offered (${PROFILE_MS / 1000} s, ` +
          `separate run; busy ${Math.round((100 * p.busyMs) / p.wallMs)}% of the time), self time by area: ` +
          `${p.buckets
            .slice(0, 10)
            .map((b) => `${b.name} ${share(b.ms)}`)
            .join(', ')}; by function: ${p.top
            .slice(0, 6)
            .map((f) => `${f.name} ${share(f.ms)}`)
            .join(', ')}.`,
      );
    }
    const first = oursRun.phases[0] as PhaseResult;
    report({
      bench: 'latency',
      title: 'Update latency: worker progress call to client parse',
      startedAt,
      durationMs: total(),
      figures,
      params,
      explanation: [
        `A progress update reaches the user's open tab ${roundTo(first.p50, 2)} ms (p50) after the worker sends it`,
        `at ${first.rate.toLocaleString('en-US')} updates/s (p99 ${roundTo(first.p99, 2)} ms), against`,
        `${roundTo((bareRun.phases[0] as PhaseResult).p50, 2)} ms for a bare relay that only parses and fans out.`,
      ].join(' '),
      notes,
    });
  } finally {
    await teardown.run();
  }
}

exitWhenDone(main);
