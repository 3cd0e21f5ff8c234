// Ingest: worker progress updates per second and the SQLite transactions they cost, against one commit
// per update. Pieces in bench/ingest/; method, counts (BENCH_INGEST_*) and limits: bench/notes/ingest.md.
import { join } from 'node:path';
import { SqliteStore } from '@jobtracker/server';
import {
  BATCH,
  BATCH_CONNECTIONS,
  CONNECTIONS,
  call,
  cpuPerRequestUs,
  cpuShare,
  cpuUs,
  createAndClaim,
  DURABLE,
  FLOOR_SECONDS,
  flushUs,
  JOBS,
  loadShare,
  merge,
  msPerTx,
  NAIVE_SECONDS,
  nextProgress,
  PROFILE_MS,
  peakCommitsPerJob,
  perSecond,
  progressSpec,
  ROUNDS,
  type Route,
  SECONDS,
  SECRET,
  SINGLE_SECONDS,
  share,
  TARGET,
  THREADS,
  txPer1000,
  txPerSecond,
  WARMUP_SECONDS,
  type Window,
  WORKER_KEY,
  window,
} from './ingest/load.js';
import { grouped, percentOf as pct, signedMicros as plus, micros as us } from './lib/format.js';
import {
  type ClaimedLease,
  type CommitStats,
  describeProfile,
  killLoadServer,
  startLoadServer,
} from './lib/load-control.js';
import { loadTool, runLoad } from './lib/load-generator.js';
import { figure, report, stopwatch } from './lib/report.js';
import { createTeardown, temporaryFolder } from './lib/teardown.js';

const started = new Date();
const elapsed = stopwatch();
const teardown = createTeardown();
const dir = temporaryFolder(teardown, 'jobtracker-bench-ingest-');
const db = `file:${join(dir, 'jobs.db')}`;

try {
  const tool = loadTool();
  const server = await startLoadServer({ mode: 'tracker', db, secret: SECRET, workerKey: WORKER_KEY });
  teardown.add(() => killLoadServer(server));
  const setup = stopwatch();
  const jobs = await createAndClaim(server.url, JOBS);
  const durableJobs = jobs.slice(0, Math.min(DURABLE, jobs.length));
  const loadJobs = jobs.slice(durableJobs.length).length > 0 ? jobs.slice(durableJobs.length) : jobs;
  // One real answer of each route: the floors answer the same bytes.
  const first = loadJobs[0] as ClaimedLease;
  const singleAnswer = JSON.stringify(
    await call(server.url, `/api/worker/jobs/${first.id}/progress`, WORKER_KEY, {
      leaseToken: first.leaseToken,
      progress: 1,
      message: 'step 0',
    }),
  );
  const batchAnswer = await call<{ results: { id: string; version?: number }[] }>(
    server.url,
    '/api/worker/progress',
    WORKER_KEY,
    {
      updates: Array.from({ length: BATCH }, (_, i) => {
        const job = loadJobs[i % loadJobs.length] as ClaimedLease;
        return { id: job.id, leaseToken: job.leaseToken, progress: 1, message: `step ${-i}` };
      }),
    },
  );
  const acceptedInSample = batchAnswer.results.filter((result) => result.version !== undefined).length;
  if (acceptedInSample !== BATCH) {
    throw new Error(
      `the batch route accepted ${acceptedInSample} of ${BATCH} updates: ${JSON.stringify(batchAnswer)}`,
    );
  }
  const setupMs = setup();
  console.log(`ingest: ${JOBS} jobs created and claimed in ${(setupMs / 1000).toFixed(1)} s; load: ${tool}`);

  // Floors, with the same load and answers of the same size: a bare node:http handler (read the body,
  // JSON.parse, send the answer) for each route, and a one-route Hono app on @hono/node-server (the
  // framework and adapter the job API runs on) for the single-update route.
  const [bare, bareBatch, hono] = await Promise.all([
    startLoadServer({ mode: 'bare-post', responseBody: singleAnswer }),
    startLoadServer({ mode: 'bare-post', responseBody: JSON.stringify(batchAnswer) }),
    startLoadServer({ mode: 'hono-post', responseBody: singleAnswer }),
  ]);
  teardown.add(() => killLoadServer(bare));
  teardown.add(() => killLoadServer(bareBatch));
  teardown.add(() => killLoadServer(hono));

  // Warm-up (JIT: the first seconds of a fresh process run far slower; it is only warm-up, so the
  // floors warm up at the same time), then the designs and the floors take turns.
  await Promise.all([
    (async () => {
      await window(server, loadJobs, 'batch', WARMUP_SECONDS);
      await window(server, loadJobs, 'single', WARMUP_SECONDS);
    })(),
    window(bare, loadJobs, 'single', WARMUP_SECONDS),
    window(bareBatch, loadJobs, 'batch', WARMUP_SECONDS),
    window(hono, loadJobs, 'single', WARMUP_SECONDS),
  ]);
  await server.flush();
  const runs = {
    batch: [] as Window[],
    single: [] as Window[],
    naive: [] as Window[],
    bare: [] as Window[],
    bareBatch: [] as Window[],
    hono: [] as Window[],
  };
  const batchCommits: CommitStats[] = [];
  for (let turn = 0; turn < ROUNDS; turn++) {
    await server.commits();
    runs.batch.push(await window(server, loadJobs, 'batch', SECONDS / ROUNDS));
    await server.flush();
    batchCommits.push(await server.commits());
    runs.single.push(await window(server, loadJobs, 'single', SINGLE_SECONDS / ROUNDS));
    await server.flush();
    await server.naive(true);
    runs.naive.push(await window(server, loadJobs, 'single', NAIVE_SECONDS / ROUNDS));
    await server.naive(false);
    await server.flush();
    runs.bareBatch.push(await window(bareBatch, loadJobs, 'batch', FLOOR_SECONDS));
    runs.bare.push(await window(bare, loadJobs, 'single', FLOOR_SECONDS));
    runs.hono.push(await window(hono, loadJobs, 'single', FLOOR_SECONDS));
    const last = (list: Window[]) => grouped(perSecond(list[list.length - 1] as Window));
    console.log(
      `ingest: round ${turn + 1}/${ROUNDS}: batch route ${last(runs.batch)}, single route ${last(runs.single)}, naive ${last(runs.naive)} updates/s; ` +
        `floors: bare batch ${last(runs.bareBatch)} updates/s, bare ${last(runs.bare)}, Hono ${last(runs.hono)} req/s`,
    );
  }
  await Promise.all([bare.close(), bareBatch.close(), hono.close()]);
  const batch = merge(runs.batch);
  const single = merge(runs.single);
  const naive = merge(runs.naive);
  const bareWindow = merge(runs.bare);
  const bareBatchWindow = merge(runs.bareBatch);
  const honoWindow = merge(runs.hono);
  const engineWindows = merge([...runs.batch, ...runs.single]);

  // Where the time goes: a CPU profile of the server under each route's load, then each layer alone.
  const profileUnder = async (route: Route, ms: number) => {
    const [profile] = await Promise.all([
      server.profile(ms),
      runLoad({
        url: server.url,
        spec: progressSpec(route, loadJobs),
        connections: route === 'batch' ? BATCH_CONNECTIONS : CONNECTIONS,
        threads: THREADS,
        seconds: Math.ceil(ms / 1000 + 0.5),
      }),
    ]);
    await server.flush();
    return profile;
  };
  const batchProfile = await profileUnder('batch', PROFILE_MS);
  const singleProfile = await profileUnder('single', PROFILE_MS / 2);
  const micro = await server.micro({
    ms: 1200,
    progress: { jobs: loadJobs, workerKey: WORKER_KEY, start: nextProgress(), batch: BATCH },
  });

  // Terminal transitions: progress on some jobs (acked, not yet committed), then K completes; SIGKILL
  // the server right after the last ack and read the database it leaves behind.
  const unflushed = loadJobs.slice(0, Math.min(DURABLE, loadJobs.length));
  const unflushedValue = 99;
  await Promise.all(
    unflushed.map((job) =>
      call(server.url, `/api/worker/jobs/${job.id}/progress`, WORKER_KEY, {
        leaseToken: job.leaseToken,
        progress: unflushedValue,
      }),
    ),
  );
  await Promise.all(
    durableJobs.map((job) =>
      call(server.url, `/api/worker/jobs/${job.id}/complete`, WORKER_KEY, {
        leaseToken: job.leaseToken,
        result: { ok: true },
      }),
    ),
  );
  server.kill();
  await server.exited;
  const store = new SqliteStore({ url: db });
  let durable = 0;
  let progressKept = 0;
  let synchronous = '?';
  try {
    const level = await store.pragma('synchronous');
    synchronous = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][Number(level)] ?? String(level);
    for (const job of durableJobs) if ((await store.getJob(job.id))?.status === 'completed') durable++;
    for (const job of unflushed)
      if ((await store.getJob(job.id))?.progress === unflushedValue) progressKept++;
  } finally {
    await store.close();
  }
  console.log(`ingest: ${durable}/${durableJobs.length} completions durable after SIGKILL`);

  const accepted = perSecond(batch);
  const met = accepted >= TARGET;
  const singleRate = perSecond(single);
  const naiveRate = perSecond(naive);
  const naiveName = 'naive: 1 transaction per update before the ack (single-update route)';
  const peak = peakCommitsPerJob(engineWindows);
  const rowUs = (w: Window) => (w.server.updateMs * 1000) / Math.max(1, w.server.rowWrites);
  const eventUs = (w: Window) => (w.server.appendMs * 1000) / Math.max(1, w.server.eventsAppended);
  // Per accepted update on the batch route, the layers measured alone in the server process.
  const batchLayers =
    (micro.engineProgressUs ?? 0) +
    (micro.flushPerUpdateUs ?? 0) +
    (micro.zodBatchUs ?? 0) +
    (micro.jsonParseBatchUs ?? 0);
  const singleOwnUs = cpuUs(single) - cpuUs(honoWindow);

  const commitLatency = new Map<number, number>();
  for (const taken of batchCommits)
    for (const [ms, count] of Object.entries(taken.latencyMs))
      commitLatency.set(Number(ms), (commitLatency.get(Number(ms)) ?? 0) + count);
  const committed = batchCommits.reduce((sum, taken) => sum + taken.committed, 0);
  const commitQuantile = (q: number) => {
    let seen = 0;
    for (const ms of [...commitLatency.keys()].sort((a, b) => a - b)) {
      seen += commitLatency.get(ms) ?? 0;
      if (seen >= q * committed) return ms;
    }
    return Number.NaN;
  };
  const commitP50 = commitQuantile(0.5);
  const commitP99 = commitQuantile(0.99);
  const commitMax = Math.max(...commitLatency.keys());
  const logRowsPerJob = Math.max(...batchCommits.map((taken) => taken.maxLogRowsPerJobPerFlush));
  const commitMet = commitP99 <= 1500 && logRowsPerJob <= 1;

  const wireShare = batchProfile.hottest
    .filter((f) => f.name.startsWith('toWireJob') || f.name.includes('(job-record.ts)'))
    .reduce((sum, f) => sum + f.shareOfBusy, 0);
  const figures = [
    figure(
      `accepted progress updates/s, batch route (${BATCH} updates a request; engine: commit ≤ 1/s per job)`,
      accepted,
      'updates/s',
      {
        baseline: { name: naiveName, value: naiveRate },
        target: `≥ ${TARGET.toLocaleString('en-US')}/s`,
        met,
      },
    ),
    figure(
      'accepted progress updates/s, single-update route (one update a request)',
      singleRate,
      'updates/s',
      {
        baseline: { name: naiveName, value: naiveRate },
      },
    ),
    figure('batch route vs a bare node:http handler taking the same batch bodies', accepted, 'updates/s', {
      baseline: {
        name: 'bare node:http (read body, JSON.parse, same answer)',
        value: perSecond(bareBatchWindow),
      },
    }),
    figure('single-update route vs a bare node:http POST handler', singleRate, 'updates/s', {
      baseline: {
        name: 'bare node:http (read body, JSON.parse, same-size answer)',
        value: perSecond(bareWindow),
      },
    }),
    figure(
      'floor: one-route Hono app on @hono/node-server, same single-update POSTs',
      perSecond(honoWindow),
      'req/s',
      {
        baseline: { name: 'bare node:http', value: perSecond(bareWindow) },
      },
    ),
    figure('progress accepted → committed under 20k updates/s, p99', commitP99, 'ms', {
      baseline: { name: 'the engine’s flush period', value: 1000 },
      target: '≤ 1.5 s p99, ≤ 1 log row per job per flush',
      met: commitMet,
      ...(commitMet
        ? {}
        : {
            reason:
              logRowsPerJob > 1
                ? `a flush wrote up to ${logRowsPerJob} change-log rows for one job`
                : `flushes of ${msPerTx(batch).toFixed(0)} ms on top of the 1 s period under ${grouped(accepted)} updates/s`,
          }),
    }),
    figure('progress accepted → committed under the batch load, p50', commitP50, 'ms', {
      baseline: { name: 'the engine’s flush period', value: 1000 },
    }),
    figure('change-log rows of one job in one flush, most (batch load)', logRowsPerJob, 'rows', {
      baseline: { name: 'progress updates of one job per flush period', value: accepted / loadJobs.length },
    }),
    figure('SQLite transactions per second under the batch load', txPerSecond(batch), 'tx/s', {
      baseline: { name: 'naive', value: txPerSecond(naive) },
    }),
    figure('SQLite transactions per 1,000 accepted updates, batch route', txPer1000(batch), 'tx', {
      baseline: { name: 'naive', value: txPer1000(naive) },
    }),
    figure('SQLite transactions per 1,000 accepted updates, single-update route', txPer1000(single), 'tx', {
      baseline: { name: 'naive', value: txPer1000(naive) },
    }),
    figure('commits of one job per second (peak over both routes: 1 / shortest gap)', peak, '/job/s', {
      baseline: {
        name: 'updates received per job per second (batch route)',
        value: accepted / loadJobs.length,
      },
      target: '≤ 1 for progress',
      met: peak <= 1,
    }),
    figure('server CPU per accepted update, batch route', cpuUs(batch), 'µs', {
      baseline: { name: 'naive', value: cpuUs(naive) },
    }),
    figure('server CPU per accepted update, single-update route', cpuUs(single), 'µs', {
      baseline: { name: 'naive', value: cpuUs(naive) },
    }),
    figure(
      'completions durable after SIGKILL right after the last ack',
      durable,
      `of ${durableJobs.length}`,
      {
        baseline: { name: 'acknowledged', value: durableJobs.length },
        target: `${durableJobs.length}/${durableJobs.length}`,
        met: durable === durableJobs.length,
      },
    ),
  ];

  const notes: string[] = [
    `Load: ${tool}, ${THREADS} thread(s), round-robin over ${loadJobs.length} claimed jobs, each update a new message (a visible change: published and logged). ` +
      `Batch route: ${BATCH_CONNECTIONS} keep-alive connections, ${BATCH} updates a request (${grouped(batch.load.responses)} requests, ${grouped(batch.load.accepted)} updates accepted, ${batch.load.refused} refused in ${batch.load.seconds.toFixed(1)} s); ` +
      `server ${pct(cpuShare(batch))} of a core (event loop utilisation ${pct(batch.server.eventLoopUtilization)}), load generator ${pct(loadShare(batch))}. ` +
      `Single-update route and naive: ${CONNECTIONS} connections (${grouped(single.load.accepted)} accepted, ${single.load.failed} refused in ${single.load.seconds.toFixed(1)} s); ` +
      `server ${pct(cpuShare(single))} of a core (ELU ${pct(single.server.eventLoopUtilization)}), load generator ${pct(loadShare(single))}. ` +
      `SQLite synchronous=${synchronous} (${synchronous === 'FULL' ? 'an fsync per commit' : 'see the SQLite docs'}), WAL.`,
    `Flushes: batch route ${batch.server.transactions} transactions wrote ${grouped(batch.server.rowWrites)} job rows and ${grouped(batch.server.eventsAppended)} change-log events ` +
      `(${msPerTx(batch).toFixed(0)} ms a flush, ${pct(share(batch.server.transactionMs, batch))} of the wall time with a flush open; it is written in slices of 100 rows and 500 events that yield to the event loop between them, the driver being synchronous within each; ` +
      `${us(rowUs(batch))} a row, ${us(eventUs(batch))} an event, as prepared SQL text); single-update route ${single.server.transactions} transactions, ` +
      `${grouped(single.server.rowWrites)} rows, ${grouped(single.server.eventsAppended)} events (${msPerTx(single).toFixed(0)} ms a flush, ${pct(share(single.server.transactionMs, single))} of the wall time). ` +
      `Shortest gap between two commits of one running job: ${engineWindows.server.minGapMs?.toFixed(0) ?? '-'} ms. ` +
      `Naive: ${msPerTx(naive).toFixed(2)} ms per transaction, ${pct(share(naive.server.transactionMs, naive))} of its time inside them.`,
    `Where the batch route's server CPU goes: ${us(cpuUs(batch))} per accepted update over HTTP (${us(cpuPerRequestUs(batch))} a request of ${BATCH}). ` +
      `Measured alone in the server process, per update: engine.progress ${us(micro.engineProgressUs)} (mutex, state machine, wire JSON, publish), ` +
      `the flush of what it left ${us(micro.flushPerUpdateUs)} (its share of one UPDATE and one change-log row per job per flush), ` +
      `zod on the batch body ${us(micro.zodBatchUs)}, JSON.parse ${us(micro.jsonParseBatchUs)}: ${us(batchLayers)} together. ` +
      `A bare node:http handler reading the same bodies and sending the same answer costs ${us(cpuUs(bareBatchWindow))} an update (${grouped(perSecond(bareBatchWindow))} updates/s), ` +
      `so HTTP is now a small part of the cost; the rest is the engine and the flush. ` +
      `The job's wire form (toWireJob and its date formatting) is built twice per update, for the change-log event and for engine.progress's answer, which the batch route reduces to the version it sends: ${pct(wireShare)} of the profile below, about half of it avoidable. ` +
      `CPU profile (${PROFILE_MS / 1000} s under the batch load): ${describeProfile(batchProfile, 8)}.`,
    `Where the single-update route's server CPU goes per request (measured over HTTP, same load): bare node:http ${us(cpuUs(bareWindow))}; ` +
      `one-route Hono app on @hono/node-server ${us(cpuUs(honoWindow))} (${plus(cpuUs(honoWindow) - cpuUs(bareWindow))}: Hono's context and routing, the adapter's lazy Request and its fast body read); ` +
      `the job API ${us(cpuUs(single))} (${plus(singleOwnUs)}: its own work, flush included: the worker-key check ${us(micro.workerAuthUs)}, zod ${us(micro.zodProgressUs)}, JSON.parse ${us(micro.jsonParseUs)}, ` +
      `engine.progress ${us(micro.engineProgressUs)}, the whole job as wire JSON in the answer, the flush ${us(flushUs(single))} of wall time per update, and garbage collection). ` +
      `CPU profile (${PROFILE_MS / 2000} s under the single-update load): ${describeProfile(singleProfile, 6)}. ` +
      'History: bench/notes/ingest.md.',
    `Accepted → committed (batch route, ${grouped(batch.load.accepted)} updates acknowledged in the windows; ${grouped(committed)} timed, those in flight at a window's edges included, from the answer leaving the engine to the commit of a transaction that wrote their job's row at that version or later): ` +
      `p50 ${commitP50} ms, p99 ${commitP99} ms, longest ${commitMax} ms with the engine's 1 s flush period; at most ${logRowsPerJob} change-log row(s) per job per flush ` +
      `while ${grouped(accepted / loadJobs.length)} updates per job per second arrived. Updates acknowledged while a flush runs wait for the next one: the period plus the flush before it bound the wait.`,
    `Durability: ${durable}/${durableJobs.length} completions were in the database reopened after a SIGKILL sent right after the last one was acknowledged. ` +
      `Progress acknowledged just before those completions: ${progressKept}/${unflushed.length} in the database, because a status change's transaction also commits every unflushed row; ` +
      'without a status change to carry it, progress acknowledged in the last ≤ 1 s before a crash is lost (it was published to subscribers, and a reconnecting client resynchronises).',
  ];
  if (!met) {
    notes.push(
      `Missed ≥ ${TARGET.toLocaleString('en-US')}/s on the batch route (${grouped(accepted)}/s): the server's one JavaScript thread was busy ${pct(batch.server.eventLoopUtilization)} of the time (event loop utilisation) ` +
        `but got ${pct(cpuShare(batch))} of a core: ${cpuShare(batch) < 0.9 ? 'for the rest it waited for a CPU held by other processes on this shared 2-core machine' : 'it is CPU-bound'} ` +
        `(the load generator used ${pct(loadShare(batch))} of a core). At the ${us(cpuUs(batch))} of server CPU it spent per update, one full core accepts about ${grouped(1e6 / cpuUs(batch))} updates/s. ` +
        `It is not the number of commits (${txPer1000(batch).toFixed(2)} per 1,000 updates) nor HTTP (${us(cpuUs(bareBatchWindow))} an update for a bare handler taking the same bodies). ` +
        `Per update: engine.progress ${us(micro.engineProgressUs)} (the job's wire form, built twice per update of which once only for its version: ${pct(wireShare)} of the profile), ` +
        `the flush ${us(flushUs(batch))} of blocked wall time (${us(eventUs(batch))} a change-log row, one per job per flush), zod ${us(micro.zodBatchUs)}. ` +
        'What would fix it: an engine call for a batch (one mutex turn, and no wire form for an answer that only carries the version); ' +
        'and, on this machine, a core of its own for the server.',
    );
  }

  const explanation = [
    `- **Ingest**: one server process accepted **${grouped(accepted)} progress updates/s** through the batch route (${BATCH} updates a request) and ${grouped(singleRate)}/s one update a request: ${txPer1000(batch).toFixed(2)} SQLite transactions per 1,000 updates through the batch route (${txPerSecond(batch).toFixed(2)} tx/s) and ${txPer1000(single).toFixed(2)} through the single route, against ${grouped(naiveRate)} updates/s and ${grouped(txPer1000(naive))} transactions per 1,000 for the naive design. For a host: ${grouped(accepted)} jobs reporting once a second, or ${grouped(accepted / 10)} at 10 Hz, on one process.`,
    `- **Costs**: a commit ${msPerTx(naive).toFixed(2)} ms here (synchronous=${synchronous}; naive cap ≈ ${grouped(1000 / Math.max(0.001, msPerTx(naive)))} updates/s); HTTP about ${us(cpuUs(honoWindow))} a request for a one-route Hono app (${grouped(perSecond(honoWindow))}/s); engine ${us(micro.engineProgressUs)} an update; flush ${us(rowUs(batch))} a job row, ${us(eventUs(batch))} a change-log row, ${pct(share(batch.server.transactionMs, batch))} of the wall time under the batch load in flushes of ${msPerTx(batch).toFixed(0)} ms; the batch route ${us(cpuUs(batch))} of server CPU per update, about ${grouped(1e6 / cpuUs(batch))} updates per CPU-second.`,
    `- **Durability**: ${durable}/${durableJobs.length} completions acknowledged right before a SIGKILL were in the reopened database.`,
  ].join('\n');

  report({
    bench: 'ingest',
    title: 'Ingest: worker progress updates per second, and the SQLite transactions they cost',
    startedAt: started.toISOString(),
    durationMs: elapsed(),
    params: {
      jobs: JOBS,
      batch: BATCH,
      seconds: SECONDS,
      singleSeconds: SINGLE_SECONDS,
      naiveSeconds: NAIVE_SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      batchConnections: BATCH_CONNECTIONS,
      threads: THREADS,
      loadGenerator: tool,
      durableCompletes: durableJobs.length,
      progressFlushMs: 1000,
      naiveDesign: 'engine.progress, then engine.flush(), one update at a time: committed before the ack',
      sqliteSynchronous: synchronous,
    },
    figures,
    explanation,
    notes,
  });
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await teardown.run();
}
