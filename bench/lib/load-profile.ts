/** CPU profiles of a load-server child (load-server.ts), summed by where the code lives (bench/lib/load-control.ts reads them). */
import { Session } from 'node:inspector/promises';
import type { Profile } from './load-control.js';

const session = new Session();
session.connect();

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

/** Where a function's time is counted: by the file it lives in. */
function categoryOf(url: string, functionName: string): string | null {
  if (url === '') {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8/native (program)';
    return null; // a builtin (JSON.parse, a native binding): charged to its caller's category
  }
  if (url === 'node:inspector') return 'profiler';
  if (url.includes('/node_modules/@hono/node-server/'))
    return '@hono/node-server adapter (Request/Response objects)';
  if (url.includes('/node_modules/hono/')) return 'Hono (router, middleware, context)';
  if (url.includes('/node_modules/zod/')) return 'zod validation';
  if (url.includes('/node_modules/drizzle-orm/')) return 'drizzle-orm';
  if (url.includes('libsql')) return 'libsql (SQLite driver)';
  if (/\/packages\/server\/src\/(engine|jobs|stream|util|storage|ids)\//.test(url))
    return 'jobtracker engine + store';
  if (/\/packages\/server\/src\/auth\//.test(url)) return 'jobtracker auth (token/key check)';
  if (url.includes('/packages/server/src/')) return 'jobtracker routes + validation glue';
  if (url.includes('/bench/')) return 'bench instrumentation';
  if (/^node:(_http|http|internal\/http)/.test(url)) return 'node:http (parser, ServerResponse)';
  if (/^node:(net|internal\/stream_base|internal\/streams|stream|internal\/net)/.test(url))
    return 'node net + streams';
  if (/^node:(crypto|internal\/crypto)/.test(url)) return 'node crypto';
  if (url.startsWith('node:internal/webstreams')) return 'WHATWG streams (Request/Response bodies)';
  if (url.startsWith('node:internal/deps/undici')) return 'undici Request/Response/Headers classes';
  if (/^node:(internal\/)?(timers|process\/task_queues|async_hooks|internal\/async)/.test(url))
    return 'node timers + promise/microtask queues';
  if (url.startsWith('node:')) return 'node other (timers, events, promises)';
  return 'other';
}

/** Samples this process's main thread with the V8 profiler for `ms` and sums the time by package and by function. */
export async function profile(ms: number): Promise<Profile> {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { profile } = (await session.post('Profiler.stop')) as unknown as {
    profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  };
  await session.post('Profiler.disable');
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryCache = new Map<number, string>();
  const resolve = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const node = byId.get(id);
    let category = node ? categoryOf(node.callFrame.url, node.callFrame.functionName) : 'other';
    if (category === null) {
      const up = parent.get(id);
      category = up === undefined ? 'V8/native (program)' : resolve(up);
      if (category === 'idle') category = 'V8/native (program)';
    }
    categoryCache.set(id, category);
    return category;
  };
  const micros = new Map<string, number>();
  const functions = new Map<string, { name: string; category: string; us: number }>();
  profile.samples.forEach((id, i) => {
    const category = resolve(id);
    const delta = profile.timeDeltas[i] ?? 0;
    micros.set(category, (micros.get(category) ?? 0) + delta);
    const frame = byId.get(id)?.callFrame;
    const url = frame?.url ?? '';
    // libsql's native frames carry the name of whatever symbol V8 found (often js_open_with_sync),
    // not the statement that ran: name them by their category.
    const name =
      url === '' && category === 'libsql (SQLite driver)'
        ? 'libsql native calls (SQLite)'
        : `${frame?.functionName || '(anonymous)'}${url === '' ? '' : ` (${url.replace(/^.*\//, '')})`}`;
    const key = `${name} [${category}]`;
    const entry = functions.get(key) ?? { name, category, us: 0 };
    entry.us += delta;
    functions.set(key, entry);
  });
  if (process.env.BENCH_PROFILE_DEBUG) {
    for (const [key, value] of [...functions].sort((a, b) => b[1].us - a[1].us).slice(0, 40))
      console.error(`${(value.us / 1000).toFixed(1)} ms ${key}`);
  }
  micros.delete('profiler'); // stopping the profiler and collecting its samples
  const busy = [...micros].filter(([name]) => name !== 'idle').reduce((sum, [, us]) => sum + us, 0);
  const total = [...micros.values()].reduce((sum, us) => sum + us, 0);
  const shares = [...micros]
    .map(([category, us]) => ({
      category,
      ms: us / 1000,
      shareOfBusy: category === 'idle' ? 0 : us / busy,
      shareOfWall: us / total,
    }))
    .sort((a, b) => b.ms - a.ms);
  const hottest = [...functions.values()]
    .filter((f) => f.category !== 'idle' && f.category !== 'profiler')
    .sort((a, b) => b.us - a.us)
    .slice(0, 20)
    .map((f) => ({ name: f.name, category: f.category, ms: f.us / 1000, shareOfBusy: f.us / busy }));
  return { shares, hottest };
}
