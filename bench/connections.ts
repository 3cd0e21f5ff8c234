/**
 * Benchmark 3: RSS per open SSE connection and CPU per delivered event in one jobtracker server process,
 * against a bare node:http SSE server. Method, counts (BENCH_CONNECTION*) and limits: bench/notes/connections.md.
 */
import {
  EVENTS,
  externalPerConnKb,
  FD_RESERVE,
  fannedUs,
  heapPerConnKb,
  JOBS,
  kb,
  type Measured,
  measure,
  N,
  netUs,
  PER_CLIENT_PROCESS,
  type Phase,
  perCallUs,
  perConnKb,
  perConnSettledKb,
  perConnSimpleKb,
  profileNote,
  progressBody,
  RSS_STEPS,
  SETTLE_MS,
  sum,
  TABS,
  users,
  WORKER_CONCURRENCY,
  windows,
  writevShare,
} from './connections/measure.js';
import { grouped } from './lib/format.js';
import { figure, report, stopwatch } from './lib/report.js';
import {
  HttpClient,
  handOverToBare,
  LoadClients,
  mean,
  runningJobs,
  startOurServer,
} from './lib/sse-harness.js';
import { createTeardown, exitWhenDone } from './lib/teardown.js';

async function main() {
  const startedAt = new Date().toISOString();
  const total = stopwatch();
  const log = (line: string) => console.log(`[connections ${(total() / 1000).toFixed(0)} s] ${line}`);
  const clients = await LoadClients.start(Math.max(2, Math.ceil(N / PER_CLIENT_PROCESS)));
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
    const oursMeasured = await measure(
      {
        server: ours,
        secret: ours.secret,
        send: (kind, i) => progress((kind === 'sub' ? subJobs : nosubJobs)[i % JOBS] as (typeof subJobs)[0]),
      },
      clients,
      log,
    );
    const { bare, sample } = await handOverToBare(clients, stopOurs);

    // ---- bare node:http ----
    const bareApi = new HttpClient(bare.port, WORKER_CONCURRENCY);
    const stopBare = teardown.add(async () => {
      await bare.stop();
      bareApi.close();
    });
    const bareMeasured = await measure(
      {
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
      },
      clients,
      log,
    );
    await stopBare();

    // ---- report ----
    const frameBytes = Buffer.byteLength(`id: ${Date.now() * 1000}\nevent: job\ndata: ${sample}\n\n`);
    const o = oursMeasured;
    const b = bareMeasured;
    const oursKb = perConnKb(o);
    const bareKb = perConnKb(b);
    const rssMet = oursKb <= 25 && oursKb <= 1.5 * bareKb;
    const netMet = netUs(o) <= 1.5 * netUs(b);
    const fullCount = N >= 20_000;
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
      figure('CPU per delivered event (net of the progress call)', kb(netUs(o)), 'µs', {
        baseline: { name: 'bare node:http', value: kb(netUs(b)) },
        target: '≤ 1.5× bare',
        met: netMet,
      }),
      figure('CPU per progress call, no stream open', kb(perCallUs(o)), 'µs', {
        baseline: { name: 'bare node:http relay', value: kb(perCallUs(b)) },
      }),
      figure(`CPU per progress call delivered to ${TABS} streams`, kb(fannedUs(o)), 'µs', {
        baseline: { name: 'bare node:http relay', value: kb(fannedUs(b)) },
      }),
    ];
    const notes: string[] = [];
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
        `CPU per delivered event missed: ${kb(netUs(o))} µs against ${kb(netUs(b))} µs (each measured as ` +
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
      },
      explanation: [
        `One jobtracker process held ${o.ready.toLocaleString('en-US')} open job streams (one per browser tab)`,
        `at ${kb(oursKb)} KB of RSS each, ${(oursKb / bareKb).toFixed(2)}× a bare node:http SSE server`,
        `(${kb(bareKb)} KB): 1 GB of RAM holds about ${Math.floor((1024 * 1024) / oursKb).toLocaleString('en-US')}`,
        `idle tabs. Writing one progress event to one open tab cost ${kb(netUs(o))} µs of server CPU`,
        `(${(netUs(o) / netUs(b)).toFixed(2)}× bare), so one core writes about`,
        `${grouped(1e6 / netUs(o))} events a second to open tabs; accepting the`,
        `worker's progress call that causes them costs ${kb(perCallUs(o))} µs more per update`,
        `(${(perCallUs(o) / perCallUs(b)).toFixed(2)}× a bare relay; benchmarks 4 and 5 measure that path).`,
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
