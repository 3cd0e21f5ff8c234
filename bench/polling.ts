// Polling endpoint: unchanged (304) and delta polls per second against a bare node:http 304.
// Method, counts (BENCH_POLL_*) and physical limits: bench/notes/polling.md.
import { join } from 'node:path';
import { signToken } from '@jobtracker/server';
import { grouped, percentOf as pct, signedMicros as plus, micros as us } from './lib/format.js';
import {
  describeProfile,
  killLoadServer,
  type LoadServer,
  type LoadWindow,
  mergeWindows,
  startLoadServer,
} from './lib/load-control.js';
import { type LoadRequest, loadTool, rawExchange, runLoad } from './lib/load-generator.js';
import { envCount, envNumber, figure, report, stopwatch } from './lib/report.js';
import { createTeardown, temporaryFolder } from './lib/teardown.js';

const SECONDS = envNumber('BENCH_POLL_SECONDS', 6);
const ROUNDS = envCount('BENCH_POLL_ROUNDS', 3);
const CONNECTIONS = envCount('BENCH_POLL_CONNECTIONS', 50);
const THREADS = envCount('BENCH_POLL_THREADS', 1);
const WARMUP_SECONDS = 2;
const PROFILE_MS = 1500;

const SECRET = 'bench-polling-secret-0123456789abcdef';
const WORKER_KEY = 'bench-polling-worker-key-0123456789';
const TYPE = 'bench.poll';

const started = new Date();
const elapsed = stopwatch();
const teardown = createTeardown();
const dir = temporaryFolder(teardown, 'jobtracker-bench-polling-');

const header = (head: string, name: string) =>
  new RegExp(`\\r\\n${name}:\\s*([^\\r\\n]*)`, 'i').exec(head)?.[1]?.trim() ?? null;

async function send(url: string, request: LoadRequest, status: number) {
  const response = await rawExchange(url, request);
  if (response.status !== status) {
    throw new Error(
      `${request.method} ${request.path} answered ${response.status}, not ${status}: ${response.body}`,
    );
  }
  return response;
}

type Window = LoadWindow;

/** Measures one target; checks every answer had the expected size, so every one was the expected answer. */
async function window(
  server: LoadServer,
  request: LoadRequest,
  seconds: number,
  bytes: number,
): Promise<Window> {
  await server.mark();
  const load = await runLoad({
    url: server.url,
    spec: { kind: 'fixed', request },
    connections: CONNECTIONS,
    threads: THREADS,
    seconds,
  });
  const stats = await server.stats();
  const perResponse = load.bytes / Math.max(1, load.responses);
  if (load.failed > 0 || load.socketErrors > 0 || Math.abs(perResponse - bytes) > 2) {
    throw new Error(
      `${request.path}: ${load.failed} failed, ${load.socketErrors} socket errors, ${perResponse.toFixed(1)} bytes a response (expected ${bytes})`,
    );
  }
  return { load, server: stats };
}

const merge = mergeWindows;

const rate = (w: Window) => w.load.responses / w.load.seconds;
const cpuUs = (w: Window) => ((w.server.cpuUserMs + w.server.cpuSystemMs) * 1000) / w.load.responses;
const sysUs = (w: Window) => (w.server.cpuSystemMs * 1000) / w.load.responses;

try {
  const tool = loadTool();
  const server = await startLoadServer({
    mode: 'tracker',
    db: `file:${join(dir, 'jobs.db')}`,
    secret: SECRET,
    workerKey: WORKER_KEY,
  });
  teardown.add(() => killLoadServer(server));
  const token = signToken({ sub: 'bench-user', expiresInSeconds: 3600 }, SECRET);
  const user = { authorization: `Bearer ${token}` };
  const json = { 'content-type': 'application/json' };
  const worker = { authorization: `Bearer ${WORKER_KEY}`, ...json };
  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    send(
      server.url,
      { method: 'POST', path, headers, body: JSON.stringify(body) },
      path === '/api/jobs' ? 201 : 200,
    );

  // Two jobs; one claimed and at 42% with a message. The state then stays fixed for the whole run.
  await post('/api/jobs', { ...user, ...json }, { type: TYPE, scope: 'first', title: 'Import contacts' });
  await post('/api/jobs', { ...user, ...json }, { type: TYPE, scope: 'second', title: 'Export report' });
  const claim = JSON.parse(
    (await post('/api/worker/claim', worker, { types: [TYPE], workerId: 'bench', leaseMs: 3_600_000 })).body,
  ) as { job: { id: string }; leaseToken: string };
  const before = await send(server.url, { method: 'GET', path: '/api/jobs?since=0', headers: user }, 200);
  const cursorBefore = (JSON.parse(before.body) as { cursor: string }).cursor;
  const staleEtag = header(before.head, 'etag') ?? '"stale"';
  await post(`/api/worker/jobs/${claim.job.id}/progress`, worker, {
    leaseToken: claim.leaseToken,
    progress: 42,
    message: 'Processing row 4,200 of 10,000',
    leaseMs: 3_600_000, // progress renews the lease; an expired one would re-queue the job mid-run
  });
  await server.flush();
  const delta = await send(
    server.url,
    { method: 'GET', path: `/api/jobs?since=${cursorBefore}`, headers: user },
    200,
  );
  // A progress report comes back as one delta in `progress`, not as the whole job in `jobs`.
  const changed = JSON.parse(delta.body) as { jobs: unknown[]; progress?: unknown[]; cursor: string };
  const changes = changed.jobs.length + (changed.progress?.length ?? 0);
  if (changes !== 1) throw new Error(`the delta poll returned ${changes} changes, not 1`);
  const current = await send(
    server.url,
    { method: 'GET', path: `/api/jobs?since=${changed.cursor}`, headers: user },
    200,
  );
  const etag = header(current.head, 'etag');
  if (!etag) throw new Error('the poll answered no ETag');

  const unchangedPoll: LoadRequest = {
    method: 'GET',
    path: `/api/jobs?since=${changed.cursor}`,
    headers: { ...user, 'If-None-Match': etag },
  };
  const deltaPoll: LoadRequest = {
    method: 'GET',
    path: `/api/jobs?since=${cursorBefore}`,
    headers: { ...user, 'If-None-Match': staleEtag },
  };
  const ours304 = await send(server.url, unchangedPoll, 304);
  const oursDelta = await send(server.url, deltaPoll, 200);

  // The bare handler answers the same 304 with the same headers (ETag, Cache-Control, Vary).
  const headers: Record<string, string> = { ETag: etag };
  for (const name of ['Cache-Control', 'Vary']) {
    const value = header(ours304.head, name);
    if (value !== null) headers[name] = value;
  }
  const [bare, hono] = await Promise.all([
    startLoadServer({ mode: 'bare-304', etag, headers }),
    startLoadServer({ mode: 'hono-304', etag, headers }),
  ]);
  teardown.add(() => killLoadServer(bare));
  teardown.add(() => killLoadServer(hono));
  const bare304 = await send(bare.url, unchangedPoll, 304);
  const hono304 = await send(hono.url, unchangedPoll, 304);

  // Warm up (JIT: the first seconds of a fresh process run far slower; all three at once, it is only
  // warm-up), then let the targets take turns in short windows with the same connections.
  await Promise.all([
    window(server, unchangedPoll, WARMUP_SECONDS, ours304.bytes),
    window(bare, unchangedPoll, WARMUP_SECONDS, bare304.bytes),
    window(hono, unchangedPoll, WARMUP_SECONDS, hono304.bytes),
  ]);
  await window(server, deltaPoll, 1, oursDelta.bytes);
  const runs = {
    bare: [] as Window[],
    ours: [] as Window[],
    delta: [] as Window[],
    hono: [] as Window[],
  };
  const slice = SECONDS / ROUNDS;
  for (let turn = 0; turn < ROUNDS; turn++) {
    runs.bare.push(await window(bare, unchangedPoll, slice, bare304.bytes));
    runs.ours.push(await window(server, unchangedPoll, slice, ours304.bytes));
    runs.delta.push(await window(server, deltaPoll, slice, oursDelta.bytes));
    runs.hono.push(await window(hono, unchangedPoll, slice / 2, hono304.bytes));
    const last = (list: Window[]) => grouped(rate(list[list.length - 1] as Window));
    console.log(
      `polling: round ${turn + 1}/${ROUNDS}: bare 304 ${last(runs.bare)}, ours 304 ${last(runs.ours)}, delta ${last(runs.delta)}, ` +
        `Hono ${last(runs.hono)} req/s`,
    );
  }
  const bareWindow = merge(runs.bare);
  const unchangedWindow = merge(runs.ours);
  const deltaWindow = merge(runs.delta);
  const honoWindow = merge(runs.hono);
  await Promise.all([bare.close(), hono.close()]);

  // Where the time goes on the 304 path: a CPU profile under the same load, then layers alone.
  const [profile] = await Promise.all([
    server.profile(PROFILE_MS),
    runLoad({
      url: server.url,
      spec: { kind: 'fixed', request: unchangedPoll },
      connections: CONNECTIONS,
      threads: THREADS,
      seconds: Math.ceil(PROFILE_MS / 1000 + 0.3),
    }),
  ]);
  const micro = await server.micro({
    ms: 1000,
    poll: {
      path: unchangedPoll.path,
      token,
      secret: SECRET,
      ownerId: 'bench-user',
      since: Number(cursorBefore),
    },
  });
  await server.close();

  const ratio = rate(unchangedWindow) / rate(bareWindow);
  const met = ratio >= 0.6;
  const frameworkUs = cpuUs(honoWindow) - cpuUs(bareWindow);
  const ownUs = cpuUs(unchangedWindow) - cpuUs(honoWindow);
  const deltaExtraUs = cpuUs(deltaWindow) - cpuUs(unchangedWindow);
  const figures = [
    figure('unchanged poll → 304 from memory', rate(unchangedWindow), 'req/s', {
      baseline: { name: 'bare node:http 304', value: rate(bareWindow) },
      target: '≥ 0.6× bare',
      met,
      ...(met
        ? {}
        : {
            reason: `The job API's checks before Hono (headers, URL, token, ETag) add ${us(cpuUs(unchangedWindow) - cpuUs(bareWindow))} to bare node:http's ${us(cpuUs(bareWindow))} per 304.`,
          }),
    }),
    figure('delta poll → 200 with one changed job', rate(deltaWindow), 'req/s', {
      baseline: { name: 'bare node:http 304', value: rate(bareWindow) },
    }),
    figure('server CPU per 304 poll', cpuUs(unchangedWindow), 'µs', {
      baseline: { name: 'bare node:http 304', value: cpuUs(bareWindow) },
    }),
    figure('server CPU per delta poll', cpuUs(deltaWindow), 'µs', {
      baseline: { name: 'bare node:http 304', value: cpuUs(bareWindow) },
    }),
    figure('floor: one-route Hono app on @hono/node-server, same 304', rate(honoWindow), 'req/s', {
      baseline: { name: 'bare node:http 304', value: rate(bareWindow) },
    }),
    figure('304 response on the wire (headers + body)', ours304.bytes, 'bytes', {
      baseline: { name: 'bare node:http 304', value: bare304.bytes },
    }),
    figure('delta response on the wire (headers + body)', oursDelta.bytes, 'bytes', {
      baseline: { name: 'our 304', value: ours304.bytes },
    }),
  ];
  const notes = [
    `Load: ${tool}, ${CONNECTIONS} keep-alive connections, ${THREADS} thread(s), ${SECONDS} s per target in ${ROUNDS} alternating windows (the Hono floor half as long), same settings for every target. ` +
      `Load generator CPU: ${pct(unchangedWindow.load.cpuMs / (unchangedWindow.load.seconds * 1000))} of a core during our 304 windows, ` +
      `${pct(bareWindow.load.cpuMs / (bareWindow.load.seconds * 1000))} during bare. Server event loop utilisation: ours 304 ${pct(unchangedWindow.server.eventLoopUtilization)}, ` +
      `delta ${pct(deltaWindow.server.eventLoopUtilization)}, bare ${pct(bareWindow.server.eventLoopUtilization)}. Every answer was checked by its size (the 304 is ${ours304.bytes} bytes).`,
    `Where a 304's server CPU goes (measured over HTTP, same load): bare node:http ${us(cpuUs(bareWindow))}; one-route Hono app on @hono/node-server ${us(cpuUs(honoWindow))} ` +
      `(${plus(frameworkUs)}: Hono's context and routing on the adapter's lazy Request); ` +
      `the job API ${us(cpuUs(unchangedWindow))} (${plus(ownUs)} against that floor: it answers an unchanged poll before Hono, from node's request, with a token verified before, the query's filter tag parsed before and the owner's cursor ${us(micro.ownerCursorUs)}; ` +
      `what a poll it leaves to the app costs on top: HS256 token verification ${us(micro.verifyTokenUs)} on a token's first use, query validation (zod) ${us(micro.zodQueryUs)} on a query's first use (each measured alone in the server process), routing through the nested routers; ` +
      `the whole job API app answering the same 304 in-process on a prebuilt Request, without socket or adapter: ${us(micro.appFetch304Us)}). ` +
      `A delta poll adds ${us(deltaExtraUs)}: the change-log read, engine.changesSince ${us(micro.changesSinceUs)} alone (a drizzle query on SQLite), then JSON.parse of the event and the JSON answer. ` +
      'History: bench/notes/polling.md.',
    `CPU profile of the 304 path (${PROFILE_MS / 1000} s under the same load): ${describeProfile(profile, 8)}.`,
  ];
  if (!met) {
    notes.push(
      `Missed ≥ 0.6× bare: the 304 path reached ${pct(ratio)}, the one-route Hono app ${pct(rate(honoWindow) / rate(bareWindow))}. ` +
        `Per 304 the job API spends ${us(cpuUs(unchangedWindow))} against bare node:http's ${us(cpuUs(bareWindow))}; it is answered before Hono (app/conditional-poll.ts), so what is left is its own checks (headers, URL, token, ETag) on top of node:http.`,
    );
  }
  const rps304 = rate(unchangedWindow);
  const explanation = [
    `- **Polling**: one server process answered **${grouped(rps304)} unchanged polls/s** (${pct(ratio)} of a bare node:http handler sending the same 304, ${pct(rate(honoWindow) / rate(bareWindow))} for a one-route Hono app) and **${grouped(rate(deltaWindow))} delta polls/s**: about ${grouped(rps304 * 2)} actively watching clients or ${grouped(rps304 * 15)} idle ones on the 304 path.`,
    `- **Bytes**: a 304 is ${ours304.bytes} bytes on the wire (the bare handler's is ${bare304.bytes}); a one-job delta is ${oursDelta.bytes} bytes.`,
    `- **Costs per poll**: bare node:http ${us(cpuUs(bareWindow))} of CPU per 304 (${us(sysUs(bareWindow))} system time), the framework ${plus(frameworkUs)}, HS256 token verification ${us(micro.verifyTokenUs)}; a delta poll's change-log read ${plus(deltaExtraUs)}.`,
  ].join('\n');

  report({
    bench: 'polling',
    title: 'Polling endpoint: unchanged (304) and delta polls per second, against a bare node:http 304',
    startedAt: started.toISOString(),
    durationMs: elapsed(),
    params: {
      seconds: SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      threads: THREADS,
      loadGenerator: tool,
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
