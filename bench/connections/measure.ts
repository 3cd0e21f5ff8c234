/** Connections benchmark: counts, the measured phases of one server (streams opened in steps, RSS, CPU per call) and their metrics. */
import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import { roundTo } from '../lib/format.js';
import { envNumber, stopwatch } from '../lib/report.js';
import { closedLoop, epochNow, type LoadClients, mean, type ServerChild, sleep } from '../lib/sse-harness.js';
import type { ProfileSummary } from '../lib/sse-probe.js';

export const N = envNumber('BENCH_CONNECTIONS', 2000);
export const EVENTS = envNumber('BENCH_CONNECTION_EVENTS', 500);
export const TABS = Math.max(1, envNumber('BENCH_TABS_PER_USER', 25));
export const JOBS = Math.max(1, Math.min(Math.floor(N / TABS), envNumber('BENCH_CONNECTION_JOBS', 80)));
export const SETTLE_MS = envNumber('BENCH_SETTLE_MS', 2000);
export const PROFILE = envNumber('BENCH_PROFILE', 1) > 0;
export const WARM = Math.min(100, JOBS);
/** V8 needs a few thousand calls before a path runs optimised (measured: ~6,000 for the bare server). */
export const WARMUP_CALLS = envNumber('BENCH_WARMUP_CALLS', 6000);
export const PER_CLIENT_PROCESS = 8000;
export const WORKER_CONCURRENCY = 16;
export const FLUSH_WAIT_MS = 1100;
export const RSS_STEPS = Math.max(2, envNumber('BENCH_RSS_STEPS', 4));
export const STEP_SETTLE_MS = 1000;
export const REWARM_CALLS = 500;
/** File descriptors left to the server for itself: stdio, IPC, SQLite files, epoll, worker connections. */
export const FD_RESERVE = 100;
/** Window pairs: each pair is one window with and one without subscribers, on each server. */
export const PAIRS = Math.max(1, Math.round(envNumber('BENCH_CONNECTION_PAIRS', 5)));
/** A server's pair of windows is measured again (at most this often) when its heartbeat round fell in it. */
export const RETRIES = 3;
/** The servers' heartbeat period (ours by default, `STREAM_HEARTBEAT_MS`; the bare server's BARE_HEARTBEAT_MS). */
export const HEARTBEAT_MS = STREAM_HEARTBEAT_MS;
/** Stream counts at which the event-loop stall of a heartbeat round is measured (and always at the last). */
export const STALL_AT = (process.env.BENCH_CONNECTION_STALL_AT ?? '')
  .split(',')
  .filter(Boolean)
  .map(Number)
  .filter((level) => Number.isFinite(level) && level > 0);

/** How a server is driven: `send` makes one worker progress call (a subscribed user's job, or not). */
export interface Target {
  server: ServerChild;
  secret: string;
  send(kind: 'sub' | 'nosub', i: number): Promise<number>;
}

export interface Phase {
  kind: 'sub' | 'nosub';
  calls: number;
  /** GC pause time in the server during the window (ms), and major GCs. */
  gcMs: number;
  majorGcs: number;
  errors: number;
  cpuMs: number;
  wallMs: number;
  delivered: number;
  heartbeats: number;
}

/** One heartbeat round with `streams` open: the longest the event loop was held meanwhile. */
export interface Stall {
  /** The stream count asked for (the figure's name) and the count open then. */
  level: number;
  streams: number;
  /** Longest event-loop delay (monitorEventLoopDelay, 1 ms resolution) around the round, ms. */
  eldMaxMs: number;
  /** Longest lateness of the probe's 10 ms timer, ms (0 when none was ≥ 20 ms). */
  stallMaxMs: number;
}

export interface Step {
  streams: number;
  rssKb: number;
  heapUsed: number;
  external: number;
}

export interface Measured {
  attempted: number;
  ready: number;
  failed: number;
  openMs: number;
  /** Server CPU while the streams opened (the steps' opens only), ms. */
  openCpuMs: number;
  stalls: Stall[];
  rssBeforeKb: number;
  /** RSS with all streams open after the settle period, before the last forced GC. */
  rssSettledKb: number;
  steps: Step[];
  nosub: Phase[];
  sub: Phase[];
  /** Heartbeat rounds of this server that fell in a window (those windows were measured again). */
  heartbeatRoundsInWindows: number;
  profile: ProfileSummary | null;
  errors: string[];
}

export const users = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
/** The owner of each of the N streams: TABS streams for each user with a job, then one per other user. */
export const streamOwners = [
  ...users('user', JOBS).flatMap((user) => Array.from({ length: TABS }, () => user)),
  ...users('user', N).slice(JOBS, JOBS + N - JOBS * TABS),
];
export const progressBody = (leaseToken: string) =>
  JSON.stringify({ leaseToken, progress: 50, message: `t=${epochNow().toFixed(3)}`, leaseMs: 3_600_000 });

export async function phase(target: Target, clients: LoadClients, kind: 'sub' | 'nosub'): Promise<Phase> {
  // Every window starts from the same heap: a forced full GC (a major GC marks every stream's objects,
  // so one landing in some windows and not others would swamp the difference being measured).
  await target.server.gc();
  await sleep(100);
  const before = await clients.counts();
  const heartbeats0 = await clients.heartbeatsOf(target.server.port);
  const stats0 = await target.server.stats();
  const cpu0 = target.server.cpuMs();
  let errors = 0;
  const wallMs = await closedLoop(EVENTS, WORKER_CONCURRENCY, async (i) => {
    const status = await target.send(kind, i);
    if (status !== 200) errors++;
  });
  // Wait for the clients to have everything (or nothing more arriving), then for the progress flush.
  const expected = kind === 'sub' ? (EVENTS - errors) * TABS : 0;
  let last = before.jobs;
  for (let still = 0; still < 5; ) {
    await sleep(100);
    const jobs = (await clients.counts()).jobs;
    if (jobs - before.jobs >= expected) break;
    still = jobs === last ? still + 1 : 0;
    last = jobs;
  }
  await sleep(FLUSH_WAIT_MS);
  const cpuMs = target.server.cpuMs() - cpu0;
  const stats1 = await target.server.stats();
  const after = await clients.counts();
  const heartbeats1 = await clients.heartbeatsOf(target.server.port);
  return {
    kind,
    gcMs: stats1.gcMs - stats0.gcMs,
    majorGcs: stats1.majorGcCount - stats0.majorGcCount,
    calls: EVENTS,
    errors,
    cpuMs,
    wallMs,
    delivered: after.jobs - before.jobs,
    heartbeats: heartbeats1 - heartbeats0,
  };
}

/**
 * Times one heartbeat round of the server on its `streams`: waits for a round, sleeps until shortly before
 * the next (they come every `HEARTBEAT_MS`), then reads the longest event-loop delay over that next round
 * only, so other work and the neighbours' load in between weigh as little as possible.
 */
async function heartbeatStall(
  target: Target,
  clients: LoadClients,
  level: number,
  streams: number,
): Promise<Stall> {
  await clients.afterHeartbeat(streams, HEARTBEAT_MS + 5000, target.server.port);
  await sleep(HEARTBEAT_MS - 1500);
  await target.server.eld(true);
  await clients.afterHeartbeat(streams, 5_000, target.server.port);
  const stats = await target.server.stats();
  await target.server.eld(false);
  return { level, streams, eldMaxMs: stats.eldMax, stallMaxMs: stats.stallMsMax };
}

/** Everything before the CPU windows: warm-up, the streams opened in steps (RSS, open CPU, stalls). */
export async function prepare(
  target: Target,
  clients: LoadClients,
  log: (line: string) => void,
): Promise<Omit<Measured, 'nosub' | 'sub' | 'heartbeatRoundsInWindows' | 'profile'>> {
  const { server } = target;
  // Warm-up: the open, deliver and close paths run (and get optimised) before anything is read.
  const warm = await clients.open(server.port, users('user', WARM), target.secret);
  if (warm.ready !== WARM)
    throw new Error(`${server.name}: warm-up opened ${warm.ready}/${WARM}: ${warm.errors}`);
  await mixedCalls(target, WARMUP_CALLS);
  await sleep(FLUSH_WAIT_MS);
  await clients.closePort(server.port);
  log(`${server.name}: warmed up (${WARMUP_CALLS} progress calls)`);
  await sleep(500);
  await server.gc();
  await sleep(200);
  const rssBeforeKb = server.rssKb();

  // Open the streams in steps, with a GC and an RSS reading after each. One file descriptor per stream:
  // the process's limit, less what the server needs itself (database, worker connections), caps them.
  // The stall levels are step boundaries too; at each, one heartbeat round is waited for and timed.
  const attempted = Math.min(N, server.fdLimit - FD_RESERVE);
  const levels = [...new Set([...STALL_AT.filter((level) => level < attempted), attempted])];
  const bounds = [
    ...new Set([
      ...Array.from({ length: RSS_STEPS }, (_, i) => Math.floor(((i + 1) * attempted) / RSS_STEPS)),
      ...levels,
    ]),
  ].sort((a, b) => a - b);
  const steps: Step[] = [];
  const stalls: Stall[] = [];
  const errors: string[] = [];
  let ready = 0;
  let failed = 0;
  let openMs = 0;
  let openCpuMs = 0;
  let rssSettledKb = 0;
  let from = 0;
  for (const [index, to] of bounds.entries()) {
    const final = index === bounds.length - 1;
    const open = stopwatch();
    const cpu = server.cpuMs();
    const opened = await clients.open(server.port, streamOwners.slice(from, to), target.secret);
    openCpuMs += server.cpuMs() - cpu;
    openMs += open();
    from = to;
    ready += opened.ready;
    failed += opened.failed;
    errors.push(...opened.errors);
    await sleep(final ? SETTLE_MS : STEP_SETTLE_MS);
    if (final) rssSettledKb = server.rssKb();
    const stats = await server.gc();
    await sleep(200);
    steps.push({ streams: ready, rssKb: server.rssKb(), heapUsed: stats.heapUsed, external: stats.external });
    const level = final ? N : levels.find((l) => l === to);
    if (level !== undefined) {
      const stall = await heartbeatStall(target, clients, level, ready);
      stalls.push(stall);
      log(
        `${server.name}: a heartbeat round on ${ready} streams held the event loop up to ${roundTo(stall.eldMaxMs, 1)} ms`,
      );
    }
  }
  log(
    `${server.name}: ${ready}/${attempted} streams ready in ${(openMs / 1000).toFixed(1)} s` +
      (failed ? ` (${failed} failed: ${errors.slice(0, 3).join('; ')})` : '') +
      `; RSS ${rssBeforeKb} KB before, ${steps.map((s) => `${s.rssKb} KB at ${s.streams}`).join(', ')}`,
  );
  return { attempted, ready, failed, openMs, openCpuMs, stalls, rssBeforeKb, rssSettledKb, steps, errors };
}

/**
 * One server's pair of windows (with and without subscribers, in `order`), measured again when one of
 * its heartbeat rounds fell in it; how many rounds fell in windows is counted.
 */
export async function windowPair(
  target: Target,
  clients: LoadClients,
  streams: number,
  order: readonly ('sub' | 'nosub')[],
): Promise<{ pair: Phase[]; heartbeatRounds: number }> {
  let heartbeatRounds = 0;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const pair: Phase[] = [];
    for (const kind of order) pair.push(await phase(target, clients, kind));
    const rounds = pair.reduce((total, p) => total + p.heartbeats, 0) / Math.max(1, streams);
    if (rounds === 0) return { pair, heartbeatRounds };
    heartbeatRounds += rounds;
  }
  throw new Error(`${target.server.name}: heartbeats kept falling in the windows`);
}

/** The re-warm before the windows, and the CPU profile of a delivering burst after them. */
export async function rewarm(target: Target): Promise<void> {
  for (const kind of ['sub', 'nosub'] as const) {
    await closedLoop(REWARM_CALLS, WORKER_CONCURRENCY, async (i) => {
      await target.send(kind, i);
    });
  }
  await sleep(FLUSH_WAIT_MS);
}

export async function deliveryProfile(target: Target): Promise<ProfileSummary | null> {
  if (!PROFILE) return null;
  await target.server.profileStart();
  await closedLoop(EVENTS, WORKER_CONCURRENCY, async (i) => {
    await target.send('sub', i);
  });
  return target.server.profileStop();
}

export async function mixedCalls(target: Target, count: number) {
  await closedLoop(count / 2, WORKER_CONCURRENCY, async (i) => {
    await target.send('sub', i % WARM);
    await target.send('nosub', i % WARM);
  });
}

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  const num = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

export const kb = (value: number) => roundTo(value, 2);
/** The CPU of each window, for judging the noise: "with 700, 690 / without 500, 510 (GC 40 ms)". */
export const windows = (m: Measured) =>
  `with subscribers ${m.sub.map((p) => p.cpuMs).join(', ')} / without ${m.nosub.map((p) => p.cpuMs).join(', ')} ` +
  `(GC pauses ${Math.round(sum([...m.sub, ...m.nosub], 'gcMs'))} ms)`;
export const last = (m: Measured) => m.steps[m.steps.length - 1] as Step;
/** RSS per stream: the slope of RSS over open streams across the steps (KiB). */
export const perConnKb = (m: Measured) => slope(m.steps.map((s) => ({ x: s.streams, y: s.rssKb })));
/** The simple (RSS with N − RSS before) / N, after GC, and without the final GC. */
export const perConnSimpleKb = (m: Measured) => (last(m).rssKb - m.rssBeforeKb) / Math.max(1, m.ready);
export const perConnSettledKb = (m: Measured) => (m.rssSettledKb - m.rssBeforeKb) / Math.max(1, m.ready);
export const heapPerConnKb = (m: Measured) =>
  slope(m.steps.map((s) => ({ x: s.streams, y: s.heapUsed / 1024 })));
export const externalPerConnKb = (m: Measured) =>
  slope(m.steps.map((s) => ({ x: s.streams, y: s.external / 1024 })));
export const sum = (phases: Phase[], key: 'cpuMs' | 'calls' | 'delivered' | 'gcMs') =>
  phases.reduce((total, p) => total + p[key], 0);
export type Windows = Pick<Measured, 'sub' | 'nosub'>;
export const perCallUs = (m: Windows) => (sum(m.nosub, 'cpuMs') * 1000) / sum(m.nosub, 'calls');
/** CPU of one progress call whose job's owner has TABS streams open. */
export const fannedUs = (m: Windows) => (sum(m.sub, 'cpuMs') * 1000) / sum(m.sub, 'calls');
export const netUs = (m: Windows) =>
  (sum(m.sub, 'cpuMs') * 1000 - sum(m.sub, 'calls') * perCallUs(m)) / Math.max(1, sum(m.sub, 'delivered'));

/** The share of busy CPU time spent in writev (the socket write syscall), e.g. "45%". */
export function writevShare(profile: ProfileSummary | null): string | null {
  const writev = profile?.top.find((f) => f.name === 'writev');
  return profile && writev ? `${Math.round((100 * writev.ms) / Math.max(1, profile.busyMs))}%` : null;
}

export function profileNote(name: string, profile: ProfileSummary | null): string[] {
  if (!profile) return [];
  const share = (ms: number) => `${((100 * ms) / Math.max(1, profile.busyMs)).toFixed(0)}%`;
  const buckets = profile.buckets
    .slice(0, 8)
    .map((b) => `${b.name} ${share(b.ms)}`)
    .join(', ');
  const top = profile.top
    .slice(0, 6)
    .map((f) => `${f.name} ${share(f.ms)}`)
    .join(', ');
  return [
    `${name}, CPU profile of a separate burst of ${EVENTS} delivering progress calls, self time by area: ` +
      `${buckets}; by function: ${top}.`,
  ];
}
