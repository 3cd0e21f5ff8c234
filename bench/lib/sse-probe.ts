/**
 * Measurement hooks inside a server child process, driven by the parent over IPC (see sse-rpc.ts):
 * `gc` (needs `--expose-gc`), `stats` (memory, CPU, event loop delay), `eld` (start/reset the event
 * loop delay histogram and a stall counter), `profileStart` / `profileStop` (a CPU profile summarised by package).
 *
 * The bare server imports it; the jobtracker server gets it with `node --import <this file> cli.ts`, so
 * the server's own code is measured unchanged. Nothing runs until the parent asks: the event loop delay
 * monitor (a timer) and the profiler stay off otherwise, so they cost nothing in the CPU figures.
 */
import { Session } from 'node:inspector/promises';
import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { handle } from './sse-rpc.js';

export interface ProbeStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** process.cpuUsage(), µs. */
  cpuUser: number;
  cpuSystem: number;
  /** Event loop delay since the last `eld` reset, ms (NaN when the monitor is off). */
  eldP50: number;
  eldP99: number;
  eldMax: number;
  eldMean: number;
  /** Stalls: turns of the event loop that held it ≥ STALL_MS, since the last `eld` reset. */
  stalls: number;
  stallMsTotal: number;
  stallMsMax: number;
  /** Garbage collections since the process started: count and pause time (ms), major ones apart. */
  gcCount: number;
  gcMs: number;
  majorGcCount: number;
  majorGcMs: number;
}

/** A 10 ms timer that fires this much late means the loop was held by one piece of work. */
const STALL_MS = 20;

export interface ProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Time on the CPU (all samples but idle), ms. */
  busyMs: number;
  /** Self time by package or area, busiest first. */
  buckets: { name: string; ms: number }[];
  /** Self time by function, busiest first. */
  top: { name: string; ms: number }[];
}

let eld: IntervalHistogram | null = null;
/** The histogram records the interval between its timer's turns: less this is the delay. */
let eldResolutionMs = 1;
let stallTimer: NodeJS.Timeout | null = null;
const stall = { count: 0, total: 0, max: 0 };
let session: Session | null = null;

const gc = (globalThis as { gc?: () => void }).gc;

const collections = { count: 0, ms: 0, majorCount: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    collections.count++;
    collections.ms += entry.duration;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      collections.majorCount++;
      collections.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

handle('gc', async () => {
  if (!gc) throw new Error('start the child with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return stats();
});

handle('stats', () => stats());

handle('eld', (args: { enable: boolean; resolutionMs?: number }) => {
  eld?.disable();
  eld = null;
  if (stallTimer) clearInterval(stallTimer);
  stallTimer = null;
  Object.assign(stall, { count: 0, total: 0, max: 0 });
  if (args.enable) {
    eldResolutionMs = args.resolutionMs ?? 1;
    eld = monitorEventLoopDelay({ resolution: eldResolutionMs });
    eld.enable();
    let last = performance.now();
    stallTimer = setInterval(() => {
      const now = performance.now();
      const late = now - last - 10;
      last = now;
      if (late >= STALL_MS) {
        stall.count++;
        stall.total += late;
        stall.max = Math.max(stall.max, late);
      }
    }, 10);
    stallTimer.unref();
  }
  return null;
});

handle('profileStart', async (args: { intervalUs?: number }) => {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: args.intervalUs ?? 200 });
  await session.post('Profiler.start');
  return null;
});

handle('profileStop', async (): Promise<ProfileSummary> => {
  if (!session) throw new Error('no profile running');
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  session = null;
  return summarise(profile);
});

/** process.memoryUsage() reads /proc/self, which fails (EMFILE) when the server has used up its fds. */
function memoryUsage() {
  try {
    return process.memoryUsage();
  } catch {
    const heap = getHeapStatistics();
    return {
      rss: Number.NaN,
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
      external: heap.external_memory,
      arrayBuffers: Number.NaN,
    };
  }
}

function stats(): ProbeStats {
  const memory = memoryUsage();
  const cpu = process.cpuUsage();
  const ms = (ns: number) => (eld ? Math.max(0, ns / 1e6 - eldResolutionMs) : Number.NaN);
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    eldP50: ms(eld?.percentile(50) ?? 0),
    eldP99: ms(eld?.percentile(99) ?? 0),
    eldMax: ms(eld?.max ?? 0),
    eldMean: ms(eld?.mean ?? 0),
    stalls: stall.count,
    stallMsTotal: stall.total,
    stallMsMax: stall.max,
    gcCount: collections.count,
    gcMs: collections.ms,
    majorGcCount: collections.majorCount,
    majorGcMs: collections.majorMs,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Where a function lives, coarsely: a package, a part of jobtracker, a Node core module, or the VM. */
function bucketOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(program)') return 'V8/libuv native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  const ours = /packages\/([^/]+)\/src\/([^/]+)/.exec(url);
  if (ours) return `jobtracker ${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) {
    const parts = url
      .slice('node:'.length)
      .replace(/^internal\//, '')
      .split('/');
    const first = parts[0] ?? '';
    if (first === 'deps' && parts[1]) return `node:deps/${parts[1]}`;
    return `node:${first.replace(/^_/, '').split('_')[0]}`;
  }
  const bench = /\/bench\/(.+)$/.exec(url);
  if (bench?.[1]) return `bench/${bench[1]}`;
  return url;
}

function summarise(profile: {
  nodes: ProfileNode[];
  samples?: number[];
  startTime: number;
  endTime: number;
}): ProfileSummary {
  const samples = profile.samples?.length ?? 0;
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const perSample = samples > 0 ? wallMs / samples : 0;
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyMs = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * perSample;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyMs += ms;
    const bucket = bucketOf(url, functionName);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + ms);
    const short = url.replace(/^.*\/(node_modules|packages)\//, '').replace(/^file:\/\//, '');
    const name = `${functionName || '(anonymous)'}${url ? ` ${short}:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const sorted = (map: Map<string, number>) =>
    [...map.entries()].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { wallMs, busyMs, buckets: sorted(buckets), top: sorted(functions).slice(0, 15) };
}
