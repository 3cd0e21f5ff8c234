/**
 * Benchmark 3: RSS per open SSE connection and CPU per delivered event in one jobtracker server process,
 * against a bare node:http SSE server. Method, counts (BENCH_CONNECTION*) and limits: bench/notes/connections.md.
 */
import {
  deliveryProfile,
  EVENTS,
  externalPerConnKb,
  FD_RESERVE,
  fannedUs,
  heapPerConnKb,
  JOBS,
  kb,
  type Measured,
  N,
  netUs,
  PAIRS,
  PER_CLIENT_PROCESS,
  type Phase,
  perCallUs,
  perConnKb,
  perConnSettledKb,
  perConnSimpleKb,
  prepare,
  profileNote,
  progressBody,
  RSS_STEPS,
  rewarm,
  SETTLE_MS,
  sum,
  TABS,
  type Target,
  users,
  WORKER_CONCURRENCY,
  windowPair,
  windows,
  writevShare,
} from './connections/measure.js';
import { grouped, roundTo } from './lib/format.js';
import { type PairedFigure, paired, spread } from './lib/pairs.js';
import { figure, report, stopwatch } from './lib/report.js';
import {
  HttpClient,
  LoadClients,
  mean,
  runningJobs,
  startBareServer,
  startOurServer,
} from './lib/sse-harness.js';
import { createTeardown, exitWhenDone } from './lib/teardown.js';

async function main() {
  const startedAt = new Date().toISOString();
  const total = stopwatch();
  const log = (line: string) => console.log(`[connections ${(total() / 1000).toFixed(0)} s] ${line}`);
  // Both servers hold their streams for the whole run, so their windows can take turns.
  const clients = await LoadClients.start(Math.max(2, Math.ceil((2 * N) / PER_CLIENT_PROCESS)));
  const teardown = createTeardown();
  teardown.add(() => clients.stop());
  try {
    // ---- jobtracker ----
    const ours = await startOurServer();
    log(`jobtracker: listening on port ${ours.port} (open files limit ${ours.fdLimit})`);
    const oursApi = new HttpClient(ours.port, WORKER_CONCURRENCY);
    const stopOurs = teardown.add(async () => {
      await ours.stop();
      oursApi.close();
    });
    const subJobs = await runningJobs(oursApi, ours, users('user', JOBS), 'bench.sub');
    const nosubJobs = await runningJobs(oursApi, ours, users('nosub', JOBS), 'bench.nosub');
    log(`jobtracker: started, ${JOBS * 2} jobs running`);
    const progress = (job: { id: string; leaseToken: string }) =>
      oursApi
        .request(
          'POST',
          `/api/worker/jobs/${job.id}/progress`,
          { authorization: `Bearer ${ours.workerKey}`, 'content-type': 'application/json' },
          progressBody(job.leaseToken),
        )
        .then((answer) => answer.status);
    const oursTarget: Target = {
      server: ours,
      secret: ours.secret,
      send: (kind, i) => progress((kind === 'sub' ? subJobs : nosubJobs)[i % JOBS] as (typeof subJobs)[0]),
    };
    const oursPrep = await prepare(oursTarget, clients, log);
    // The bare server writes the job frame jobtracker delivered, so both write frames of the same size.
    const sample = await clients.sampleFrame();
    if (!sample) throw new Error('no job frame was delivered by jobtracker');

    // ---- bare node:http ----
    const bare = await startBareServer(sample);
    const bareApi = new HttpClient(bare.port, WORKER_CONCURRENCY);
    const stopBare = teardown.add(async () => {
      await bare.stop();
      bareApi.close();
    });
    const bareTarget: Target = {
      server: bare,
      secret: bare.secret,
      send: (kind, i) =>
        bareApi
          .request(
            'POST',
            `/publish/${kind === 'sub' ? 'user' : 'nosub'}-${i % JOBS}`,
            { 'content-type': 'application/json' },
            progressBody('lease'),
          )
          .then((answer) => answer.status),
    };
    const barePrep = await prepare(bareTarget, clients, log);

    // ---- CPU windows, the two servers taking turns ----
    // Each pair: on each server one window without subscribers and one with, orders alternating (ABBA)
    // so drift cancels out; a server's two windows are measured again when its heartbeat round fell in them.
    const sides = [
      {
        target: oursTarget,
        api: oursApi,
        prep: oursPrep,
        sub: [] as Phase[],
        nosub: [] as Phase[],
        rounds: 0,
      },
      {
        target: bareTarget,
        api: bareApi,
        prep: barePrep,
        sub: [] as Phase[],
        nosub: [] as Phase[],
        rounds: 0,
      },
    ];
    for (const side of sides) await rewarm(side.target);
    for (let pair = 0; pair < PAIRS; pair++) {
      const kinds = pair % 2 === 0 ? (['nosub', 'sub'] as const) : (['sub', 'nosub'] as const);
      for (const side of pair % 2 === 0 ? sides : [...sides].reverse()) {
        side.api.dropIdle();
        const measured = await windowPair(side.target, clients, side.prep.ready, kinds);
        side.rounds += measured.heartbeatRounds;
        for (const p of measured.pair) side[p.kind].push(p);
      }
      const net = (side: (typeof sides)[0]) =>
        netUs({ sub: side.sub.slice(-1), nosub: side.nosub.slice(-1) });
      const [o, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
      log(
        `pair ${pair + 1}/${PAIRS}: CPU per delivered event ${roundTo(net(o), 1)} µs, bare ${roundTo(net(b), 1)} µs ` +
          `(${roundTo(net(o) / net(b), 2)}×)`,
      );
    }
    const [oursSide, bareSide] = sides as [(typeof sides)[0], (typeof sides)[0]];
    const oursMeasured: Measured = {
      ...oursPrep,
      sub: oursSide.sub,
      nosub: oursSide.nosub,
      heartbeatRoundsInWindows: oursSide.rounds,
      profile: await deliveryProfile(oursTarget),
    };
    const bareMeasured: Measured = {
      ...barePrep,
      sub: bareSide.sub,
      nosub: bareSide.nosub,
      heartbeatRoundsInWindows: bareSide.rounds,
      profile: await deliveryProfile(bareTarget),
    };
    await stopOurs();
    await stopBare();

    // ---- report ----
    const frameBytes = Buffer.byteLength(`id: ${Date.now() * 1000}\nevent: job\ndata: ${sample}\n\n`);
    const o = oursMeasured;
    const b = bareMeasured;
    const oursKb = perConnKb(o);
    const bareKb = perConnKb(b);
    const rssMet = oursKb <= 25 && oursKb <= 1.5 * bareKb;
    // Per pair: each server's windows of that pair; the figure is the median, the ratio the median ratio.
    const perPair = (m: Measured, pick: (w: Pick<Measured, 'sub' | 'nosub'>) => number) =>
      m.sub.map((sub, i) => pick({ sub: [sub], nosub: [m.nosub[i] as Phase] }));
    const net = paired(perPair(o, netUs), perPair(b, netUs));
    const call = paired(perPair(o, perCallUs), perPair(b, perCallUs));
    const fanned = paired(perPair(o, fannedUs), perPair(b, fannedUs));
    const pairedFigure = (name: string, p: PairedFigure, baseline: string, extra = {}) => ({
      ...figure(name, kb(p.value), 'µs', { baseline: { name: baseline, value: kb(p.baseline) }, ...extra }),
      ratio: p.ratio,
    });
    const netMet = net.ratio <= 1.5;
    const fullCount = N >= 20_000;
    const openUs = (m: Measured) => (m.openCpuMs * 1000) / Math.max(1, m.ready);
    const openMet = openUs(o) <= 2 * openUs(b);
    const stallFigures = o.stalls.map((stall) => {
      const bareStall = b.stalls.find((x) => x.level === stall.level);
      const met = stall.eldMaxMs <= 20;
      const perStreamUs = (x: { eldMaxMs: number; streams: number }) =>
        roundTo((x.eldMaxMs * 1000) / Math.max(1, x.streams), 1);
      return figure(
        `event-loop stall of one heartbeat round at ${stall.level.toLocaleString('en-US')} streams`,
        roundTo(stall.eldMaxMs, 2),
        'ms',
        {
          ...(bareStall
            ? { baseline: { name: 'bare node:http', value: roundTo(bareStall.eldMaxMs, 2) } }
            : {}),
          target: '≤ 20 ms at 20,000 streams',
          met,
          ...(met
            ? {}
            : {
                reason:
                  `One heartbeat round on ${stall.streams.toLocaleString('en-US')} streams held the loop ` +
                  `${roundTo(stall.eldMaxMs, 1)} ms, ${perStreamUs(stall)} µs per stream` +
                  (bareStall ? ` (bare ${perStreamUs(bareStall)} µs per stream).` : '.'),
              }),
        },
      );
    });
    const figures = [
      figure('SSE streams held by one process', o.ready, 'streams', {
        baseline: { name: 'bare node:http', value: b.ready },
        target: fullCount ? '≥ 20,000' : '≥ 20,000 (checked with BENCH_CONNECTIONS=20000)',
        ...(fullCount ? { met: o.ready >= 20_000 } : {}),
      }),
      figure('RSS per connection', kb(oursKb), 'KB', {
        baseline: { name: 'bare node:http', value: kb(bareKb) },
        target: '≤ 25 KB and ≤ 1.5× bare',
        met: rssMet,
      }),
      pairedFigure('CPU per delivered event (net of the progress call)', net, 'bare node:http', {
        target: '≤ 1.5× bare',
        met: netMet,
      }),
      pairedFigure('CPU per progress call, no stream open', call, 'bare node:http relay'),
      pairedFigure(`CPU per progress call delivered to ${TABS} streams`, fanned, 'bare node:http relay'),
      figure('CPU to open a stream', kb(openUs(o)), 'µs', {
        baseline: { name: 'bare node:http', value: kb(openUs(b)) },
        target: '≤ 2× bare',
        met: openMet,
        ...(openMet
          ? {}
          : {
              reason: `Opening a stream cost ${Math.round(openUs(o))} µs of server CPU against bare's ${Math.round(openUs(b))} µs; about half of it is the snapshot's query of finished jobs (drizzle builds and libsql prepares it for every stream; bench/notes/connections.md).`,
            }),
      }),
      ...stallFigures,
    ];
    const notes: string[] = [
      `CPU windows interleaved: ${PAIRS} pairs, in each the two servers took turns (both held their streams ` +
        'throughout), each server one window with and one without subscribers; the CPU figures are medians ' +
        'over the pairs, their ratios the median of the per-pair ratios (spread in the parameters). ' +
        `Heartbeat rounds that fell in a window (its pair was measured again): jobtracker ` +
        `${roundTo(o.heartbeatRoundsInWindows, 2)}, bare ${roundTo(b.heartbeatRoundsInWindows, 2)}. ` +
        'RSS and the CPU to open streams are measured once per server, while it opened its streams.',
    ];
    if (!fullCount) {
      notes.push(
        `This run held ${N.toLocaleString('en-US')} streams (the default, to stay within the time budget); ` +
          'the ≥ 20,000 target is checked with BENCH_CONNECTIONS=20000.',
      );
    }
    if (o.attempted < N) {
      notes.push(
        `${N.toLocaleString('en-US')} streams were asked for, ${o.attempted.toLocaleString('en-US')} opened: one ` +
          `file descriptor per connection, and the server process may open ${ours.fdLimit.toLocaleString('en-US')} ` +
          `(less ${FD_RESERVE} kept for its database and the worker's connections). Raising that limit ` +
          '(prlimit, systemd LimitNOFILE) needs CAP_SYS_RESOURCE, which this machine does not grant; memory and ' +
          `CPU are not the limit (${kb(oursKb)} KB and the CPU figures above per stream).`,
      );
    }
    if (o.failed > 0) {
      notes.push(
        `${o.failed} of ${o.attempted} streams failed to open (${o.errors.slice(0, 2).join('; ') || 'no error text'}).`,
      );
    }
    const breakdown = (m: Measured) =>
      `live V8 heap ${kb(heapPerConnKb(m))} KB, external ${kb(externalPerConnKb(m))} KB, the rest (free ` +
      'heap pages, malloc, native) ' +
      `${kb(perConnKb(m) - heapPerConnKb(m) - externalPerConnKb(m))} KB`;
    notes.push(
      `Where the memory per stream goes (slopes over the steps): jobtracker ${breakdown(o)}; bare ${breakdown(b)}.`,
    );
    if (!rssMet) {
      notes.push(
        `RSS per connection missed (${kb(oursKb)} KB against ${kb(bareKb)} KB): the difference is in the ` +
          'objects above that the bare server does not keep per stream; keeping only the response, the ' +
          'subscription and the cursor per stream brings it to the bare figure.',
      );
    }
    if (!netMet) {
      notes.push(
        `CPU per delivered event missed: ${kb(net.value)} µs against ${kb(net.baseline)} µs (each measured as ` +
          'CPU with a subscriber minus the same calls without one).',
      );
    }
    for (const m of [o, b]) {
      const spread = (list: Phase[]) =>
        Math.max(...list.map((p) => p.cpuMs)) - Math.min(...list.map((p) => p.cpuMs));
      const signal = mean(m.sub.map((p) => p.cpuMs)) - mean(m.nosub.map((p) => p.cpuMs));
      const noise = spread(m.sub) + spread(m.nosub);
      if (noise > 0.5 * signal) {
        notes.push(
          `${m === o ? 'jobtracker' : 'bare node:http'}: the CPU per delivered event is uncertain in this run: ` +
            `windows of the same kind differed by up to ${noise} ms against a ${Math.round(signal)} ms difference ` +
            'between the kinds (a busy machine; see the windows in the parameters).',
        );
      }
    }
    notes.push(...profileNote('jobtracker', o.profile), ...profileNote('bare node:http', b.profile));
    report({
      bench: 'connections',
      title: 'Concurrent SSE connections: memory and CPU per stream',
      startedAt,
      durationMs: total(),
      figures,
      params: {
        connectionsAsked: N,
        connectionsOpened: o.attempted,
        progressCallsPerPhase: EVENTS,
        usersWithJob: JOBS,
        tabsPerUserWithJob: TABS,
        rssSteps: RSS_STEPS,
        settleMs: SETTLE_MS,
        clientProcesses: clients.pids.length,
        serverFdLimit: ours.fdLimit,
        frameBytes,
        oursStreamsOpenedPerSec: Math.round(o.ready / (o.openMs / 1000)),
        bareStreamsOpenedPerSec: Math.round(b.ready / (b.openMs / 1000)),
        oursRssBeforeMB: Number((o.rssBeforeKb / 1024).toFixed(1)),
        bareRssBeforeMB: Number((b.rssBeforeKb / 1024).toFixed(1)),
        oursKbPerConnSimple: kb(perConnSimpleKb(o)),
        bareKbPerConnSimple: kb(perConnSimpleKb(b)),
        oursKbPerConnNoFinalGc: kb(perConnSettledKb(o)),
        bareKbPerConnNoFinalGc: kb(perConnSettledKb(b)),
        oursFramesDelivered: `${sum(o.sub, 'delivered')}/${sum(o.sub, 'calls') * TABS}`,
        bareFramesDelivered: `${sum(b.sub, 'delivered')}/${sum(b.sub, 'calls') * TABS}`,
        oursWindowsCpuMs: windows(o),
        bareWindowsCpuMs: windows(b),
        windowPairs: PAIRS,
        'ratio per pair, CPU per delivered event': spread(net),
        'ratio per pair, CPU per progress call': spread(call),
        'ratio per pair, CPU per fanned-out call': spread(fanned),
        oursHeartbeatRoundsInWindows: roundTo(o.heartbeatRoundsInWindows, 2),
        bareHeartbeatRoundsInWindows: roundTo(b.heartbeatRoundsInWindows, 2),
        oursOpenCpuMs: o.openCpuMs,
        bareOpenCpuMs: b.openCpuMs,
        heartbeatStalls: [o, b]
          .map(
            (m) =>
              `${m === o ? 'ours' : 'bare'}: ` +
              m.stalls
                .map(
                  (x) =>
                    `${roundTo(x.eldMaxMs, 1)} ms (timer late ${roundTo(x.stallMaxMs, 1)} ms) at ${x.streams}`,
                )
                .join(', '),
          )
          .join('; '),
      },
      explanation: [
        `One jobtracker process held ${o.ready.toLocaleString('en-US')} open job streams (one per browser tab)`,
        `at ${kb(oursKb)} KB of RSS each, ${(oursKb / bareKb).toFixed(2)}× a bare node:http SSE server`,
        `(${kb(bareKb)} KB): 1 GB of RAM holds about ${Math.floor((1024 * 1024) / oursKb).toLocaleString('en-US')}`,
        `idle tabs. Writing one progress event to one open tab cost ${kb(net.value)} µs of server CPU`,
        `(${(net.value / net.baseline).toFixed(2)}× bare), so one core writes about`,
        `${grouped(1e6 / net.value)} events a second to open tabs; accepting the`,
        `worker's progress call that causes them costs ${kb(call.value)} µs more per update`,
        `(${(call.value / call.baseline).toFixed(2)}× a bare relay; benchmarks 4 and 5 measure that path).`,
        writevShare(o.profile) && writevShare(b.profile)
          ? `In the delivery profiles the write syscall (writev) alone was ${writevShare(o.profile)} of ` +
            `jobtracker's CPU and ${writevShare(b.profile)} of the bare server's.`
          : '',
      ].join(' '),
      notes,
    });
  } finally {
    await teardown.run();
  }
}

exitWhenDone(main);
