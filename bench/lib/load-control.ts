// Starts and drives the instrumented server child (bench/lib/load-server.ts) over IPC.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { percentOf as pct } from './format.js';
import { type LoadResult, mergeLoadResults } from './load-generator.js';

export type LoadServerConfig =
  | { mode: 'tracker'; db: string; secret: string; workerKey: string; progressFlushMs?: number }
  | { mode: 'bare-304' | 'hono-304'; etag: string; headers: Record<string, string> }
  | { mode: 'bare-post' | 'hono-post'; responseBody: string };

export interface ServerStats {
  /** Wall time since the last `mark`. */
  windowMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** perf_hooks event loop utilisation since the mark: 1 means the main thread never waited. */
  eventLoopUtilization: number;
  rssBytes: number;
  /** Store transactions (each one SQLite transaction, one WAL commit) and the time spent in them. */
  transactions: number;
  transactionMs: number;
  /** Of which: writing job rows (`updateJob`, `updateJobs`) and appending change-log events. */
  updateMs: number;
  appendMs: number;
  /** Job rows written (`updateJob`, and each row `updateJobs` wrote) and change-log events appended. */
  rowWrites: number;
  eventsAppended: number;
  jobsWritten: number;
  /** The shortest time between two writes of one running job's row, or null when none was written twice. */
  minGapMs: number | null;
}

/** Progress from its acknowledgement to the commit of its job's row, since the last `commits` call. */
export interface CommitStats {
  /** Whole milliseconds → how many acknowledged progress updates took that long to commit. */
  latencyMs: Record<string, number>;
  committed: number;
  /** Acknowledged and not committed when asked. */
  uncommitted: number;
  /** The most change-log rows one job got in one store transaction (a flush). */
  maxLogRowsPerJobPerFlush: number;
  transactions: number;
}

export interface ProfileShare {
  category: string;
  ms: number;
  /** Share of the sampled time the main thread was not idle. */
  shareOfBusy: number;
  shareOfWall: number;
}

/** A CPU profile: time by category (package or layer), and the hottest functions (self time). */
export interface Profile {
  shares: ProfileShare[];
  hottest: { name: string; category: string; ms: number; shareOfBusy: number }[];
}

/** Mean microseconds per call of each layer, measured inside the server process while it is otherwise idle. */
export interface MicroResult {
  workerAuthUs?: number;
  jsonParseUs?: number;
  zodProgressUs?: number;
  /** The batch route's body (`BATCH` updates): JSON.parse and zod, per update. */
  jsonParseBatchUs?: number;
  zodBatchUs?: number;
  /** engine.progress alone, no flush inside. */
  engineProgressUs?: number;
  /** The flush of what those calls left (rows + events in one transaction), per call. */
  flushPerUpdateUs?: number;
  verifyTokenUs?: number;
  zodQueryUs?: number;
  ownerCursorUs?: number;
  changesSinceUs?: number;
  /**
   * The whole job API app (Hono routing, auth, query, ETag) answering the poll's 304 in-process on a
   * prebuilt WHATWG Request (undici's classes, not the adapter's lightweight ones): no socket.
   */
  appFetch304Us?: number;
}

export interface ClaimedLease {
  id: string;
  leaseToken: string;
}

export type LoadServerRequest = { id: number } & (
  | { cmd: 'mark' }
  | { cmd: 'stats' }
  | { cmd: 'naive'; on: boolean }
  | { cmd: 'flush' }
  | { cmd: 'commits' }
  | { cmd: 'close' }
  | { cmd: 'profile'; ms: number }
  | {
      cmd: 'micro';
      ms: number;
      progress?: { jobs: ClaimedLease[]; workerKey: string; start: number; batch?: number };
      poll?: { path: string; token: string; secret: string; ownerId: string; since: number };
    }
);

export type LoadServerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

type Command = LoadServerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface LoadServer {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  mark(): Promise<void>;
  stats(): Promise<ServerStats>;
  naive(on: boolean): Promise<void>;
  flush(): Promise<void>;
  /** What was committed since the last call (the first call starts counting); resets. */
  commits(): Promise<CommitStats>;
  profile(ms: number): Promise<Profile>;
  micro(request: Omit<Extract<LoadServerRequest, { cmd: 'micro' }>, 'id' | 'cmd'>): Promise<MicroResult>;
  /** Closes the server cleanly (the tracker flushes and closes its database) and waits for the exit. */
  close(): Promise<void>;
  /** SIGKILL: no flush, no goodbye. */
  kill(): void;
  exited: Promise<void>;
}

/** One measured window: what the load generator counted and what the server measured meanwhile. */
export interface LoadWindow {
  load: LoadResult;
  server: ServerStats;
}

/** Several windows of one target as one: loads merged, server CPU and transactions summed, ELU weighted by time. */
export function mergeWindows(windows: LoadWindow[]): LoadWindow {
  const sum = (pick: (w: LoadWindow) => number) => windows.reduce((total, w) => total + pick(w), 0);
  const first = windows[0] as LoadWindow;
  const windowMs = sum((w) => w.server.windowMs);
  return {
    load: mergeLoadResults(windows.map((w) => w.load)),
    server: {
      ...first.server,
      windowMs,
      cpuUserMs: sum((w) => w.server.cpuUserMs),
      cpuSystemMs: sum((w) => w.server.cpuSystemMs),
      eventLoopUtilization: sum((w) => w.server.eventLoopUtilization * w.server.windowMs) / windowMs,
      transactions: sum((w) => w.server.transactions),
    },
  };
}

/** Kills the server and waits for it to exit: a teardown step. */
export async function killLoadServer(server: LoadServer): Promise<void> {
  server.kill();
  await server.exited;
}

const SCRIPT = fileURLToPath(new URL('./load-server.ts', import.meta.url));
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts bench/lib/load-server.ts in a child process (through tsx, TS sources) and waits until it listens. */
export async function startLoadServer(config: LoadServerConfig): Promise<LoadServer> {
  const child = spawn(process.execPath, ['--conditions=jobtracker-source', '--import', 'tsx', SCRIPT], {
    env: { ...process.env, BENCH_LOAD_SERVER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  child.on('message', (reply: LoadServerReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(new Error(`load server: ${reply.error}`));
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error('load server exited'));
    pending.clear();
  });
  const started = new Promise<unknown>((resolve, reject) => pending.set(0, { resolve, reject }));
  const { port } = (await started) as { port: number };
  const call = <T>(command: Command): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...command, id });
    });
  };
  return {
    child,
    pid: child.pid as number,
    port,
    url: `http://127.0.0.1:${port}`,
    mark: () => call({ cmd: 'mark' }),
    stats: () => call({ cmd: 'stats' }),
    naive: (on) => call({ cmd: 'naive', on }),
    flush: () => call({ cmd: 'flush' }),
    commits: () => call({ cmd: 'commits' }),
    profile: (ms) => call({ cmd: 'profile', ms }),
    micro: (request) => call({ cmd: 'micro', ...request }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await call({ cmd: 'close' }).catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      child.kill('SIGKILL');
    },
    exited,
  };
}

/** The native calls that write a response to its socket. */
const isSocketWrite = (name: string) =>
  /^(writev|writeLatin1String|writeUtf8String|writeBuffer)\b/.test(name);

/**
 * A profile in words: the categories, then the share of the socket writes, then the hottest other
 * functions. The V8 profiler samples wall time, so a native call's share includes the time the thread
 * spent off the CPU inside it: on this 2-core machine a socket write wakes the load generator, which
 * may take the core.
 */
export function describeProfile(profile: Profile, count: number): string {
  const idle = profile.shares.find((p) => p.category === 'idle')?.shareOfWall ?? 0;
  const categories = profile.shares
    .filter((p) => p.category !== 'idle')
    .slice(0, 8)
    .map((p) => `${p.category} ${pct(p.shareOfBusy)}`)
    .join(', ');
  const writes = profile.hottest.filter((f) => isSocketWrite(f.name));
  const writeShare = writes.reduce((sum, f) => sum + f.shareOfBusy, 0);
  const hottest = profile.hottest
    .filter((f) => !isSocketWrite(f.name))
    .slice(0, count)
    .map((f) => `${f.name} ${pct(f.shareOfBusy)}`)
    .join(', ');
  return (
    `share of busy (sampled wall) time, idle ${pct(idle)} of the wall: ${categories}. ` +
    `The socket writes (${writes.map((f) => f.name).join(', ') || 'none'}) take ${pct(writeShare)}: one write syscall per response, and, as the profiler samples wall time, ` +
    `the time the thread waits for the core after waking the load generator. Hottest other functions (self time): ${hottest}`
  );
}
